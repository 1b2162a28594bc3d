package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/moatproject/moat/scan"
)

// MetaEntry is one cached upstream metadata document (a packument, a
// simple index page, a JSON API answer).
type MetaEntry struct {
	Body         []byte
	ETag         string
	LastModified string
	ContentType  string
	FetchedAt    time.Time
	Upstream     string // the URL it came from
}

// metaRecord is MetaEntry as stored: the body inline or in a blob.
type metaRecord struct {
	Body         []byte    `json:"body,omitempty"`
	BodySHA256   string    `json:"body_sha256,omitempty"` // set when the body is a blob
	BodySize     int64     `json:"body_size"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	ContentType  string    `json:"content_type,omitempty"`
	FetchedAt    time.Time `json:"fetched_at"`
	Upstream     string    `json:"upstream,omitempty"`
}

// GetMeta returns the cached document under key, or ErrNotFound.
func (s *Store) GetMeta(ctx context.Context, key string) (*MetaEntry, error) {
	// A concurrent PutMeta may replace the record and delete the blob we
	// were about to read: read the record again once before giving up.
	for attempt := 0; ; attempt++ {
		var rec metaRecord
		err := s.view(ctx, func(tx *bolt.Tx) error {
			v := tx.Bucket(bucketMetadata).Get([]byte(key))
			if v == nil {
				return fmt.Errorf("metadata %q: %w", key, ErrNotFound)
			}
			return json.Unmarshal(v, &rec)
		})
		if err != nil {
			return nil, err
		}
		e := &MetaEntry{Body: rec.Body, ETag: rec.ETag, LastModified: rec.LastModified,
			ContentType: rec.ContentType, FetchedAt: rec.FetchedAt, Upstream: rec.Upstream}
		if rec.BodySHA256 == "" {
			return e, nil
		}
		e.Body, err = s.readBlob(ctx, rec.BodySHA256, rec.BodySize)
		if errors.Is(err, ErrNotFound) && attempt == 0 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("metadata %q body: %w", key, err)
		}
		return e, nil
	}
}

func (s *Store) readBlob(ctx context.Context, sha string, size int64) ([]byte, error) {
	f, n, err := s.OpenBlob(ctx, sha)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > 0 && n != size {
		return nil, fmt.Errorf("store: blob %s is %d bytes, want %d", sha, n, size)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("store: read blob %s: %w", sha, err)
	}
	return buf, nil
}

// PutMeta stores e under key, replacing what was there. A body larger than
// Options.InlineMetaMax is written to a blob first; a blob the old entry
// referenced is then deleted (metadata blobs are owned by their key).
func (s *Store) PutMeta(ctx context.Context, key string, e *MetaEntry) error {
	if key == "" || e == nil {
		return fmt.Errorf("%w: PutMeta needs a key and an entry", ErrInvalid)
	}
	rec := metaRecord{BodySize: int64(len(e.Body)), ETag: e.ETag, LastModified: e.LastModified,
		ContentType: e.ContentType, FetchedAt: e.FetchedAt, Upstream: e.Upstream}
	if len(e.Body) > s.opts.InlineMetaMax {
		sha, _, err := s.PutBlob(ctx, bytes.NewReader(e.Body), "")
		if err != nil {
			return err
		}
		rec.BodySHA256 = sha
	} else {
		rec.Body = e.Body
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("store: encode metadata: %w", err)
	}
	var oldSHA string
	err = s.batch(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMetadata)
		oldSHA = ""
		if old := b.Get([]byte(key)); old != nil {
			var o metaRecord
			if json.Unmarshal(old, &o) == nil {
				oldSHA = o.BodySHA256
			}
		}
		return b.Put([]byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("store: put metadata %q: %w", key, err)
	}
	if oldSHA != "" && oldSHA != rec.BodySHA256 {
		if err := s.DeleteBlob(ctx, oldSHA); err != nil {
			s.log.Warn("store: could not delete replaced metadata body", "key", key, "sha256", oldSHA, "err", err)
		}
	}
	return nil
}

// reportRecord is a Report as stored.
type reportRecord struct {
	StoredAt time.Time    `json:"stored_at"`
	Report   *scan.Report `json:"report"`
}

// PutReport stores r under (r.SHA256, r.ScannerVersion), replacing an
// earlier report for that pair, and indexes it by ecosystem, name and
// version when r names them.
func (s *Store) PutReport(ctx context.Context, r *scan.Report) error {
	if r == nil || r.SHA256 == "" || r.ScannerVersion == "" {
		return fmt.Errorf("%w: a report needs sha256 and scanner_version", ErrInvalid)
	}
	sha, err := validSHA(r.SHA256)
	if err != nil {
		return err
	}
	k, err := key(sha, r.ScannerVersion)
	if err != nil {
		return err
	}
	var ik []byte
	if r.Name != "" {
		if ik, err = key(string(r.Ecosystem), r.Name, r.Version, sha); err != nil {
			return err
		}
	}
	v, err := json.Marshal(reportRecord{StoredAt: time.Now().UTC(), Report: r})
	if err != nil {
		return fmt.Errorf("store: encode report: %w", err)
	}
	err = s.batch(ctx, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketReports).Put(k, v); err != nil {
			return err
		}
		if ik != nil {
			return tx.Bucket(bucketReportIndex).Put(ik, nil)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: put report: %w", err)
	}
	return nil
}

// GetReport returns the report for (sha256, scannerVersion) or ErrNotFound.
func (s *Store) GetReport(ctx context.Context, sha256, scannerVersion string) (*scan.Report, error) {
	sha, err := validSHA(sha256)
	if err != nil {
		return nil, err
	}
	k, err := key(sha, scannerVersion)
	if err != nil {
		return nil, err
	}
	var rec reportRecord
	err = s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketReports).Get(k)
		if v == nil {
			return fmt.Errorf("report %s/%s: %w", sha, scannerVersion, ErrNotFound)
		}
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return nil, err
	}
	return rec.Report, nil
}

// ReportsBySHA returns every stored report for sha256 (any scanner
// version), newest first; none is an empty slice, not an error.
func (s *Store) ReportsBySHA(ctx context.Context, sha256 string) ([]*scan.Report, error) {
	sha, err := validSHA(sha256)
	if err != nil {
		return nil, err
	}
	var recs []reportRecord
	err = s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		recs, err = reportsBySHA(tx, sha, recs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return newestFirst(recs), nil
}

func reportsBySHA(tx *bolt.Tx, sha string, recs []reportRecord) ([]reportRecord, error) {
	p, err := prefix(sha)
	if err != nil {
		return nil, err
	}
	c := tx.Bucket(bucketReports).Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		var rec reportRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("store: decode report %q: %w", k, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

func newestFirst(recs []reportRecord) []*scan.Report {
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].StoredAt.After(recs[j].StoredAt) })
	out := make([]*scan.Report, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Report)
	}
	return out
}

// FindReports returns the reports of every artifact indexed under
// ecosystem/name/version (an empty version: every version), newest first.
func (s *Store) FindReports(ctx context.Context, ecosystem scan.Ecosystem, name, version string) ([]*scan.Report, error) {
	parts := []string{string(ecosystem), name}
	if version != "" {
		parts = append(parts, version)
	}
	p, err := prefix(parts...)
	if err != nil {
		return nil, err
	}
	var recs []reportRecord
	err = s.view(ctx, func(tx *bolt.Tx) error {
		seen := map[string]bool{}
		c := tx.Bucket(bucketReportIndex).Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			sha := string(k[bytes.LastIndexByte(k, 0)+1:])
			if seen[sha] {
				continue
			}
			seen[sha] = true
			var err error
			if recs, err = reportsBySHA(tx, sha, recs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newestFirst(recs), nil
}

// Artifact describes one stored package file (its bytes are the blob
// named SHA256).
type Artifact struct {
	SHA256    string         `json:"sha256"`
	Ecosystem scan.Ecosystem `json:"ecosystem"`
	Name      string         `json:"name"`
	Version   string         `json:"version"`
	Filename  string         `json:"filename"`
	Size      int64          `json:"size"`
	Upstream  string         `json:"upstream"` // URL fetched from
	FetchedAt time.Time      `json:"fetched_at"`
	// Integrity and Shasum are the npm hashes the bytes were verified
	// against, so a later request can tell whether metadata still agrees.
	Integrity string `json:"integrity,omitempty"`
	Shasum    string `json:"shasum,omitempty"`
}

// PutArtifact records a (ecosystem, name, filename) → sha256 mapping and
// the artifact's facts.
func (s *Store) PutArtifact(ctx context.Context, a Artifact) error {
	sha, err := validSHA(a.SHA256)
	if err != nil {
		return err
	}
	a.SHA256 = sha
	if a.Name == "" || a.Filename == "" {
		return fmt.Errorf("%w: an artifact needs a name and a filename", ErrInvalid)
	}
	ik, err := key(string(a.Ecosystem), a.Name, a.Filename)
	if err != nil {
		return err
	}
	v, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("store: encode artifact: %w", err)
	}
	err = s.batch(ctx, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketArtifacts).Put([]byte(sha), v); err != nil {
			return err
		}
		return tx.Bucket(bucketArtifactIndex).Put(ik, []byte(sha))
	})
	if err != nil {
		return fmt.Errorf("store: put artifact: %w", err)
	}
	return nil
}

// GetArtifact returns the artifact with content sha256, or ErrNotFound.
func (s *Store) GetArtifact(ctx context.Context, sha256 string) (*Artifact, error) {
	sha, err := validSHA(sha256)
	if err != nil {
		return nil, err
	}
	var a *Artifact
	err = s.view(ctx, func(tx *bolt.Tx) error {
		a, err = getArtifact(tx, sha)
		return err
	})
	return a, err
}

func getArtifact(tx *bolt.Tx, sha string) (*Artifact, error) {
	v := tx.Bucket(bucketArtifacts).Get([]byte(sha))
	if v == nil {
		return nil, fmt.Errorf("artifact %s: %w", sha, ErrNotFound)
	}
	var a Artifact
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("store: decode artifact %s: %w", sha, err)
	}
	return &a, nil
}

// FindArtifact returns the artifact last stored for (ecosystem, name,
// filename), or ErrNotFound.
func (s *Store) FindArtifact(ctx context.Context, ecosystem scan.Ecosystem, name, filename string) (*Artifact, error) {
	ik, err := key(string(ecosystem), name, filename)
	if err != nil {
		return nil, err
	}
	var a *Artifact
	err = s.view(ctx, func(tx *bolt.Tx) error {
		sha := tx.Bucket(bucketArtifactIndex).Get(ik)
		if sha == nil {
			return fmt.Errorf("artifact %s %s %s: %w", ecosystem, name, filename, ErrNotFound)
		}
		a, err = getArtifact(tx, string(sha))
		return err
	})
	return a, err
}
