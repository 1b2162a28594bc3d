package store

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Stats are counts for the status page and metrics.
type Stats struct {
	// Records counts the keys of each bucket ("metadata", "reports",
	// "artifacts", "overrides", ...); "feed" counts records of all sources.
	Records   map[string]int `json:"records"`
	Blobs     int            `json:"blobs"`
	BlobBytes int64          `json:"blob_bytes"`
	DBBytes   int64          `json:"db_bytes"`
}

// Stats counts records per bucket and walks the blob folders for their
// number and total size (cost grows with the number of blobs).
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Records: map[string]int{}}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st.DBBytes = tx.Size()
		for _, name := range allBuckets {
			if string(name) == string(bucketMeta) {
				continue
			}
			b := tx.Bucket(name)
			if string(name) == string(bucketFeed) {
				n := 0
				err := b.ForEachBucket(func(k []byte) error {
					n += b.Bucket(k).Stats().KeyN
					return nil
				})
				if err != nil {
					return err
				}
				st.Records[string(name)] = n
				continue
			}
			st.Records[string(name)] = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	err = filepath.WalkDir(s.blobRoot(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return nil // deleted meanwhile
			}
			st.Blobs++
			st.BlobBytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	return st, nil
}
