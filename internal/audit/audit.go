// Package audit owns moat's audit log: one JSON object per line in
// <data dir>/audit.log, appended for every decision the gate makes, rotated
// by size (audit.log.1 is the newest rotated file, audit.log.<Keep> the
// oldest), and read back from the tail for the status page and the admin API.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// FileName is the name of the live log in its folder.
const FileName = "audit.log"

// Defaults of Options.
const (
	DefaultMaxBytes = 50 << 20
	DefaultKeep     = 5
)

// Entry is one audited decision.
type Entry struct {
	Time       time.Time `json:"time"`
	Client     string    `json:"client,omitempty"` // remote address or identity
	Ecosystem  string    `json:"ecosystem,omitempty"`
	Name       string    `json:"name,omitempty"`
	Version    string    `json:"version,omitempty"`
	Filename   string    `json:"filename,omitempty"`
	SHA256     string    `json:"sha256,omitempty"`
	Action     string    `json:"action"`          // allow, block, warn
	Layer      string    `json:"layer,omitempty"` // the policy layer that decided
	Reasons    []string  `json:"reasons,omitempty"`
	Mode       string    `json:"mode,omitempty"`
	Score      float64   `json:"score,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

// Options tune Open.
type Options struct {
	// MaxBytes is the size past which the live file is rotated (default 50 MiB).
	MaxBytes int64
	// Keep is how many rotated files to keep (default 5).
	Keep int
	// Now stamps entries without a Time (default time.Now).
	Now func() time.Time
}

// Log is an append-only, size-rotated JSON-lines log, safe for concurrent use.
type Log struct {
	dir  string
	opts Options

	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (creating 0600 if needed) dir/audit.log for appending.
func Open(dir string, opts Options) (*Log, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	l := &Log{dir: dir, opts: opts}
	if err := l.openLive(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log) path(i int) string {
	if i == 0 {
		return filepath.Join(l.dir, FileName)
	}
	return filepath.Join(l.dir, FileName+"."+strconv.Itoa(i))
}

func (l *Log) openLive() error {
	f, err := os.OpenFile(l.path(0), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit: %w", err)
	}
	l.f, l.size = f, fi.Size()
	// A crash may have left a torn last line: end it so the next entry
	// starts on a line of its own (the torn one is skipped when read).
	if l.size > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(l.path(0)); err == nil {
			_, err = r.ReadAt(last, l.size-1)
			r.Close()
			if err == nil && last[0] != '\n' {
				n, err := f.Write([]byte{'\n'})
				l.size += int64(n)
				if err != nil {
					f.Close()
					return fmt.Errorf("audit: %w", err)
				}
			}
		}
	}
	return nil
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("audit: log closed")

// Write appends e as one line, rotating first when the line would take the
// live file past MaxBytes.
func (l *Log) Write(ctx context.Context, e Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = l.opts.Now()
	}
	e.Time = e.Time.UTC()
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: encode: %w", err)
	}
	line = append(line, '\n')

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ErrClosed
	}
	if l.size > 0 && l.size+int64(len(line)) > l.opts.MaxBytes {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	n, err := l.f.Write(line)
	l.size += int64(n)
	if err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	return nil
}

// rotate shifts audit.log.N up by one (dropping the oldest) and starts a
// new live file. Called with mu held.
func (l *Log) rotate() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("audit: rotate: %w", err)
	}
	l.f = nil
	if err := os.Remove(l.path(l.opts.Keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("audit: rotate: %w", err)
	}
	for i := l.opts.Keep - 1; i >= 0; i-- {
		if err := os.Rename(l.path(i), l.path(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("audit: rotate: %w", err)
		}
	}
	return l.openLive()
}

// Sync flushes the live file to disk.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ErrClosed
	}
	return l.f.Sync()
}

// Close syncs and closes the log.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := errors.Join(l.f.Sync(), l.f.Close())
	l.f = nil
	if err != nil {
		return fmt.Errorf("audit: close: %w", err)
	}
	return nil
}

// Filter selects entries for Recent; zero fields match anything.
type Filter struct {
	Action    string
	Layer     string
	Ecosystem string
	Name      string
	Client    string
	Since     time.Time // entries at or after
}

// Match reports whether e passes f.
func (f Filter) Match(e Entry) bool {
	return (f.Action == "" || e.Action == f.Action) &&
		(f.Layer == "" || e.Layer == f.Layer) &&
		(f.Ecosystem == "" || e.Ecosystem == f.Ecosystem) &&
		(f.Name == "" || e.Name == f.Name) &&
		(f.Client == "" || e.Client == f.Client) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since))
}

// Recent returns up to n entries matching f, newest first, reading the
// live file and then the rotated ones backwards from their ends, so the
// cost grows with what is returned (and skipped by the filter), not with
// the size of the log. Lines that do not parse (a torn last line after a
// crash) are skipped.
func (l *Log) Recent(ctx context.Context, n int, f Filter) ([]Entry, error) {
	if n <= 0 {
		return nil, nil
	}
	// Open every file and note the live size under the lock: renames after
	// that do not affect open files, and bytes appended later are ignored.
	l.mu.Lock()
	var files []*os.File
	var liveSize int64 = -1
	for i := 0; i <= l.opts.Keep; i++ {
		fh, err := os.Open(l.path(i))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			l.mu.Unlock()
			closeAll(files)
			return nil, fmt.Errorf("audit: %w", err)
		}
		if i == 0 {
			liveSize = l.size
		}
		files = append(files, fh)
	}
	l.mu.Unlock()
	defer closeAll(files)

	var out []Entry
	for i, fh := range files {
		size := int64(-1)
		if i == 0 && liveSize >= 0 {
			size = liveSize
		}
		err := readBackwards(ctx, fh, size, func(line []byte) bool {
			var e Entry
			if json.Unmarshal(line, &e) != nil || !f.Match(e) {
				return true
			}
			out = append(out, e)
			return len(out) < n
		})
		if err != nil {
			return out, err
		}
		if len(out) >= n {
			break
		}
	}
	return out, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

const chunkSize = 64 << 10

// readBackwards calls fn for each line of f (up to size bytes, or the whole
// file when size < 0), last line first, until fn returns false.
func readBackwards(ctx context.Context, f *os.File, size int64, fn func(line []byte) bool) error {
	if size < 0 {
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		size = fi.Size()
	}
	var carry []byte // start of a line whose beginning is in an earlier chunk
	pos := size
	for pos > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int64(chunkSize)
		if pos < n {
			n = pos
		}
		pos -= n
		buf := make([]byte, n, n+int64(len(carry)))
		if _, err := f.ReadAt(buf, pos); err != nil && err != io.EOF {
			return fmt.Errorf("audit: read: %w", err)
		}
		buf = append(buf, carry...)
		for {
			i := bytes.LastIndexByte(buf, '\n')
			if i < 0 {
				break
			}
			if line := buf[i+1:]; len(bytes.TrimSpace(line)) > 0 && !fn(line) {
				return nil
			}
			buf = buf[:i]
		}
		carry = buf
	}
	if len(bytes.TrimSpace(carry)) > 0 {
		fn(carry)
	}
	return nil
}
