package proxy

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
)

// blobFiles keeps recently served blobs open, so a warm request pays an
// fstat(2) and an lseek(2) instead of open(2) (a path walk four levels
// deep), the poller registration and close(2). An open file serves one
// request at a time (sendfile(2) moves its offset): a request checks one
// out, positioned at 0, and puts it back when done. A file whose blob was
// unlinked meanwhile (link count 0) is closed rather than served, so the
// store's view wins: the blob is opened again, or reported missing.
// With max 0 nothing is kept; close releases what is kept (the files hold
// the data dir's file system busy).
type blobFiles struct {
	mu     sync.Mutex
	max    int
	n      int
	idle   map[string][]*os.File
	closed bool
}

func newBlobFiles(max int) *blobFiles {
	return &blobFiles{max: max, idle: map[string][]*os.File{}}
}

// close closes the idle files; files put back later are closed at once.
func (b *blobFiles) close() error {
	b.mu.Lock()
	idle := b.idle
	b.idle, b.n, b.closed = map[string][]*os.File{}, 0, true
	b.mu.Unlock()
	var errs []error
	for _, fs := range idle {
		for _, f := range fs {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

// get returns an idle open file of sha positioned at its start, and its
// size; ok is false when there is none (or none still linked).
func (b *blobFiles) get(sha string) (f *os.File, size int64, ok bool) {
	for {
		b.mu.Lock()
		f = b.pop(sha)
		b.mu.Unlock()
		if f == nil {
			return nil, 0, false
		}
		if size, ok = usable(f); ok {
			return f, size, true
		}
		f.Close()
	}
}

// pop takes the last idle file of sha out of the set (nil when none);
// b.mu must be held.
func (b *blobFiles) pop(sha string) *os.File {
	fs := b.idle[sha]
	if len(fs) == 0 {
		return nil
	}
	f := fs[len(fs)-1]
	if len(fs) == 1 {
		delete(b.idle, sha)
	} else {
		b.idle[sha] = fs[:len(fs)-1]
	}
	b.n--
	return f
}

// usable reports whether f's file is still linked and rewinds it.
func usable(f *os.File) (int64, bool) {
	fi, err := f.Stat()
	if err != nil {
		return 0, false
	}
	if !linked(fi) {
		return 0, false
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, false
	}
	return fi.Size(), true
}

// put returns f to the idle set, closing it (or another idle file) when
// the set is full.
func (b *blobFiles) put(sha string, f *os.File) {
	b.mu.Lock()
	if b.closed || b.max <= 0 {
		b.mu.Unlock()
		f.Close()
		return
	}
	var evict *os.File
	if b.n >= b.max {
		for k := range b.idle { // an arbitrary victim: cheap and bounded
			evict = b.pop(k)
			break
		}
	}
	b.idle[sha] = append(b.idle[sha], f)
	b.n++
	b.mu.Unlock()
	if evict != nil {
		evict.Close()
	}
}

// open checks out sha's blob: an idle open file, else a newly opened one.
func (b *blobFiles) open(ctx context.Context, s GateStore, sha string) (*os.File, int64, error) {
	if f, size, ok := b.get(sha); ok {
		return f, size, nil
	}
	return s.OpenBlob(ctx, sha)
}
