package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrHashMismatch is matched (errors.Is) by every *MismatchError.
var ErrHashMismatch = errors.New("store: blob sha256 mismatch")

// MismatchError reports that a blob's content does not hash to the
// expected value; nothing was stored.
type MismatchError struct {
	Want, Got string
	Size      int64
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("store: blob sha256 mismatch: want %s, got %s (%d bytes)", e.Want, e.Got, e.Size)
}

// Is makes errors.Is(err, ErrHashMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrHashMismatch }

func (s *Store) blobRoot() string { return filepath.Join(s.dir, "blobs", "sha256") }
func (s *Store) tmpDir() string   { return filepath.Join(s.dir, "blobs", "tmp") }

// validSHA lower-cases sha and checks it is 64 hex digits.
func validSHA(sha string) (string, error) {
	sha = strings.ToLower(sha)
	if len(sha) != sha256.Size*2 {
		return "", fmt.Errorf("%w: sha256 %q is not 64 hex digits", ErrInvalid, sha)
	}
	for i := 0; i < len(sha); i++ {
		if c := sha[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("%w: sha256 %q is not 64 hex digits", ErrInvalid, sha)
		}
	}
	return sha, nil
}

// BlobPath returns where the blob named sha lives (whether or not it
// exists), or "" when sha is not a valid hex SHA-256.
func (s *Store) BlobPath(sha string) string {
	sha, err := validSHA(sha)
	if err != nil {
		return ""
	}
	return filepath.Join(s.blobRoot(), sha[:2], sha[2:4], sha)
}

// HasBlob reports whether the complete blob sha is stored.
func (s *Store) HasBlob(ctx context.Context, sha string) bool {
	p := s.BlobPath(sha)
	if p == "" || ctx.Err() != nil {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// OpenBlob opens the blob sha for reading and returns its size. The
// caller closes the file. A missing blob is ErrNotFound.
func (s *Store) OpenBlob(ctx context.Context, sha string) (*os.File, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	p := s.BlobPath(sha)
	if p == "" {
		_, err := validSHA(sha)
		return nil, 0, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("blob %s: %w", sha, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store: open blob: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("store: stat blob: %w", err)
	}
	return f, fi.Size(), nil
}

// DeleteBlob removes the blob sha; a missing blob is not an error.
// Readers that already opened it keep reading.
func (s *Store) DeleteBlob(ctx context.Context, sha string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := s.BlobPath(sha)
	if p == "" {
		_, err := validSHA(sha)
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: delete blob: %w", err)
	}
	return nil
}

// PutBlob streams r into the blob store and returns its SHA-256 and size.
// When wantSHA256 is given the content must hash to it (else a
// *MismatchError and nothing is stored); if that blob already exists, r is
// not read at all. The bytes go to a temp file (O_EXCL, 0600) that is
// fsynced and renamed into place, then the directory is fsynced, so the
// blob path only ever holds complete content. Concurrent puts of the same
// content are safe. A write failure (ENOSPC included: errors.Is(err,
// syscall.ENOSPC)) removes the temp file and stores nothing.
func (s *Store) PutBlob(ctx context.Context, r io.Reader, wantSHA256 string) (sha string, size int64, err error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	want := ""
	if wantSHA256 != "" {
		if want, err = validSHA(wantSHA256); err != nil {
			return "", 0, err
		}
		if fi, err := os.Stat(s.BlobPath(want)); err == nil && fi.Mode().IsRegular() {
			return want, fi.Size(), nil
		}
	}
	tmp, err := s.createTemp()
	if err != nil {
		return "", 0, err
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	var w io.Writer = tmp
	if s.opts.WrapBlobWriter != nil {
		w = s.opts.WrapBlobWriter(w)
	}
	size, err = io.Copy(io.MultiWriter(w, h), ctxReader{ctx, r})
	if err != nil {
		return "", 0, fmt.Errorf("store: write blob: %w", err)
	}
	sha = hex.EncodeToString(h.Sum(nil))
	if want != "" && sha != want {
		return "", 0, &MismatchError{Want: want, Got: sha, Size: size}
	}
	if !s.opts.NoSync {
		if err := tmp.Sync(); err != nil {
			return "", 0, fmt.Errorf("store: sync blob: %w", err)
		}
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("store: close blob: %w", err)
	}
	final := s.BlobPath(sha)
	dir := filepath.Dir(final)
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, fmt.Errorf("store: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", 0, fmt.Errorf("store: place blob: %w", err)
	}
	renamed = true
	if !s.opts.NoSync {
		syncDirs := []string{dir}
		if statErr != nil { // new fan-out folders: make their entries durable too
			syncDirs = append(syncDirs, filepath.Dir(dir), filepath.Dir(filepath.Dir(dir)))
		}
		for _, d := range syncDirs {
			if err := syncDir(d); err != nil {
				return "", 0, err
			}
		}
	}
	return sha, size, nil
}

func (s *Store) createTemp() (*os.File, error) {
	var rnd [12]byte
	for range 5 {
		rand.Read(rnd[:])
		name := filepath.Join(s.tmpDir(), "blob-"+hex.EncodeToString(rnd[:])+".tmp")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: create temp blob: %w", err)
		}
		return f, nil
	}
	return nil, errors.New("store: create temp blob: name collisions")
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: sync dir %s: %w", dir, err)
	}
	return nil
}

// cleanTemp removes every temp file; call only with the db lock held.
func (s *Store) cleanTemp() error {
	ents, err := os.ReadDir(s.tmpDir())
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(s.tmpDir(), e.Name())); err != nil {
			return fmt.Errorf("store: remove stale temp file: %w", err)
		}
	}
	if len(ents) > 0 {
		s.log.Info("store: removed stale temp files left by an interrupted write", "count", len(ents))
	}
	return nil
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
