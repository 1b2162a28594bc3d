// Package store owns moat's persistent state in its data dir: moat.db, the
// one bbolt database (this is the only package that imports bbolt), and
// blobs/, content-addressed files for artifacts and large metadata bodies.
//
// # Layout
//
//	<dir>/moat.db                      bbolt, mode 0600, locked by one process
//	<dir>/blobs/sha256/ab/cd/abcd...   a blob, named by its hex SHA-256
//	<dir>/blobs/tmp/                   blobs being written; emptied at Open
//
// A blob path exists only when the blob is complete: PutBlob writes a
// temp file, fsyncs it and renames it into place. A process killed midway
// leaves only a temp file, which the next Open removes.
//
// # Buckets and keys
//
// Values are JSON. Keys join their parts with a NUL byte ("\x00"), so the
// parts themselves may not contain one.
//
//	meta            "schema" → schema version (decimal)
//	metadata        cache key ("npm:full:@scope/name", "pypi:json:requests") → MetaEntry;
//	                bodies over Options.InlineMetaMax live in a blob, referenced by sha256
//	reports         sha256 \0 scanner version → {stored_at, report}
//	report_index    ecosystem \0 name \0 version \0 sha256 → ""
//	artifacts       sha256 → Artifact
//	artifact_index  ecosystem \0 name \0 filename → sha256
//	overrides       rule id → policy.Rule (the id is derived from Rule.Key)
//	feed            one nested bucket per source; in it ecosystem \0 name \0 record id → feed.Record
//	feed_sources    source → FeedSource
//
// Names in the index keys are stored as the caller passes them; the gate
// passes canonical names (policy.NormalizeName). Feed lookups normalise.
//
// Reads run in bbolt View transactions, single writes go through
// bbolt's Batch (concurrent writers share one commit), bulk writes (a feed
// source) in one Update.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/moatproject/moat/policy"
)

// SchemaVersion is the version of the bucket layout this code writes.
const SchemaVersion = 1

// Sentinel errors.
var (
	// ErrNotFound: no such record or blob.
	ErrNotFound = errors.New("store: not found")
	// ErrLocked: another process holds moat.db.
	ErrLocked = errors.New("database is locked by another moat process")
	// ErrSchemaTooNew: moat.db was written by a newer moat.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this moat supports")
	// ErrInvalid: an argument cannot be stored (bad sha256, NUL in a key part, missing field).
	ErrInvalid = errors.New("store: invalid argument")
)

// Options tune Open. The zero value is the production setting.
type Options struct {
	// LockTimeout bounds the wait for moat.db's file lock (default 2s);
	// past it Open fails with ErrLocked.
	LockTimeout time.Duration
	// InlineMetaMax is the largest metadata body kept inside moat.db
	// (default 16 KiB); larger bodies go to blobs. Inline bodies are
	// base64 in a JSON record and read through bbolt's mmap, so large ones
	// bloat the database and the process's resident pages: with 256 KiB,
	// one cold install of a 471-package app put 53 MB of packuments in
	// moat.db and 35 MB of it into moat's RSS.
	InlineMetaMax int
	// NoSync skips fsync of moat.db and of blobs. Only for tests and
	// throwaway stores: a crash may lose or corrupt data.
	NoSync bool
	// Logger receives maintenance messages (default: discard).
	Logger *slog.Logger
	// WrapBlobWriter, when set, wraps the file writer of every PutBlob; tests
	// use it to inject write failures such as ENOSPC.
	WrapBlobWriter func(io.Writer) io.Writer
}

// Store is moat's persistent state. It is safe for concurrent use.
type Store struct {
	dir  string
	db   *bolt.DB
	opts Options
	log  *slog.Logger

	overridesMu sync.Mutex // serialises override writes with their snapshot
	overrides   atomic.Pointer[[]policy.Rule]

	feedAbsent absentSet // names FeedLookup found no record for
}

var (
	bucketMeta          = []byte("meta")
	bucketMetadata      = []byte("metadata")
	bucketReports       = []byte("reports")
	bucketReportIndex   = []byte("report_index")
	bucketArtifacts     = []byte("artifacts")
	bucketArtifactIndex = []byte("artifact_index")
	bucketOverrides     = []byte("overrides")
	bucketFeed          = []byte("feed")
	bucketFeedSources   = []byte("feed_sources")

	allBuckets = [][]byte{bucketMeta, bucketMetadata, bucketReports, bucketReportIndex,
		bucketArtifacts, bucketArtifactIndex, bucketOverrides, bucketFeed, bucketFeedSources}

	keySchema = []byte("schema")
)

// Open opens (creating if needed) the store in dir. Only one process may
// have a store open: a second Open waits up to Options.LockTimeout and then
// fails with ErrLocked. Open refuses a database with a newer schema
// (ErrSchemaTooNew) and removes temp files left by a killed process.
func Open(dir string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 2 * time.Second
	}
	if opts.InlineMetaMax <= 0 {
		opts.InlineMetaMax = 16 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{dir: dir, opts: opts, log: opts.Logger}
	for _, d := range []string{dir, s.blobRoot(), s.tmpDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	path := filepath.Join(dir, "moat.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opts.LockTimeout,
		NoSync:       opts.NoSync,
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store: open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Batch coalesces concurrent writers into one commit (one fsync), but
	// bbolt's default makes every batched write wait 10 ms for company:
	// on an artifact's critical path that is more than the commit itself.
	// 2 ms still gathers the writers of a busy install.
	db.MaxBatchDelay = 2 * time.Millisecond
	s.db = db
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	// The lock is ours: any temp file is a leftover of a dead writer.
	if err := s.cleanTemp(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadOverrides(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("store: create bucket %s: %w", b, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keySchema)
		if v == nil {
			return meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("store: bad schema version %q in %s", v, s.db.Path())
		}
		if n > SchemaVersion {
			return fmt.Errorf("%w: %s has schema %d, this moat supports up to %d (upgrade moat or use another --data dir)",
				ErrSchemaTooNew, s.db.Path(), n, SchemaVersion)
		}
		// Migrations from older schemas go here.
		return nil
	})
}

// Close closes the database. Blobs stay readable through files already open.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Dir returns the data dir.
func (s *Store) Dir() string { return s.dir }

// view runs fn in a read transaction after checking ctx.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// batch runs fn in a shared write transaction (fn may run more than once
// and must be idempotent).
func (s *Store) batch(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Batch(fn)
}

func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

// key joins parts with NUL, refusing parts that contain one.
func key(parts ...string) ([]byte, error) {
	n := len(parts)
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		for j := 0; j < len(p); j++ {
			if p[j] == 0 {
				return nil, fmt.Errorf("%w: NUL byte in key part %q", ErrInvalid, p)
			}
		}
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b, nil
}

// prefix is key(parts...) + NUL, for prefix scans.
func prefix(parts ...string) ([]byte, error) {
	k, err := key(parts...)
	if err != nil {
		return nil, err
	}
	return append(k, 0), nil
}

// The store plugs straight into the policy engine.
var _ policy.Overrides = (*Store)(nil)
