// Package audit owns moat's audit log: one JSON object per line in
// <data dir>/audit.log, appended for every decision the gate makes, rotated
// by size (audit.log.1 is the newest rotated file, audit.log.<Keep> the
// oldest), and read back from the tail for the status page and the admin API.
//
// Writes are buffered: Write encodes the entry and queues the line in
// memory; a background flusher appends queued lines to the file at most
// Options.FlushInterval (default 10 ms) after they were queued, in one
// write(2) per batch, so the request path does no file I/O and never waits
// for fsync. Recent, Sync and Close flush first. The price: a crash
// (SIGKILL, power loss) may lose the lines of the last flush interval, on
// top of whatever the OS had not yet written back (the log is fsynced only
// by Sync and Close, as before). The queue is bounded (Options.MaxPending,
// default 4 MiB): a Write that finds it full writes the queue out itself
// (back-pressure, the old synchronous behaviour) rather than drop entries;
// only when that write fails too is its entry refused, with the error.
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
	// FlushInterval is how long a written entry may wait in memory before
	// it is appended to the file (default 10 ms).
	FlushInterval time.Duration
	// MaxPending bounds the bytes of queued lines (default 4 MiB).
	MaxPending int
}

// Defaults of the buffering options.
const (
	DefaultFlushInterval = 10 * time.Millisecond
	DefaultMaxPending    = 4 << 20
	// flushBytes: a queue this large is written at once, not after the interval.
	flushBytes = 256 << 10
)

// Log is an append-only, size-rotated JSON-lines log, safe for concurrent use.
type Log struct {
	dir  string
	opts Options

	// fmu guards the files: f, fsize, rotation and every write to f. It is
	// taken before mu, never while holding it.
	fmu   sync.Mutex
	f     *os.File
	fsize int64 // bytes in the live file

	// mu guards the queue. size is what the live file will hold once the
	// queue is written (rotation is decided per line, as it is queued).
	mu       sync.Mutex
	queue    []batch
	queued   int
	size     int64
	closed   bool
	flushErr error // a background write failure, reported by the next Write
	spare    []byte

	kick chan struct{} // wakes the flusher (buffered, never blocks a writer)
	quit chan struct{}
	done chan struct{}
}

// batch is queued lines; rotate: rotate the live file before writing them.
type batch struct {
	rotate bool
	data   []byte
}

// linePool recycles Write's encoding buffers (the line is copied into the
// queue).
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

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
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	l := &Log{dir: dir, opts: opts, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	if err := l.openLive(); err != nil {
		return nil, err
	}
	l.size = l.fsize
	go l.flusher()
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
	l.f, l.fsize = f, fi.Size()
	// A crash may have left a torn last line: end it so the next entry
	// starts on a line of its own (the torn one is skipped when read).
	if l.fsize > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(l.path(0)); err == nil {
			_, err = r.ReadAt(last, l.fsize-1)
			r.Close()
			if err == nil && last[0] != '\n' {
				n, err := f.Write([]byte{'\n'})
				l.fsize += int64(n)
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

// Write queues e as one line, to be appended by the background flusher
// (see the package comment), rotating first when the line would take the
// live file past MaxBytes. The error of a failed background write is
// returned by the next Write (whose own entry is still queued).
func (l *Log) Write(ctx context.Context, e Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = l.opts.Now()
	}
	e.Time = e.Time.UTC()
	bp := linePool.Get().(*[]byte)
	defer linePool.Put(bp)
	line, err := e.appendJSON((*bp)[:0])
	if err != nil {
		return fmt.Errorf("audit: encode: %w", err)
	}
	line = append(line, '\n')
	if cap(line) <= 64<<10 { // a rare huge line is not kept for reuse
		*bp = line
	}

	l.mu.Lock()
	if !l.closed && l.queued > 0 && l.queued+len(line) > l.opts.MaxPending {
		// The flusher is behind (a slow or failing disk): write the queue
		// out here rather than grow it or drop entries.
		l.mu.Unlock()
		ferr := l.flush()
		l.mu.Lock()
		if ferr != nil && l.queued > 0 && l.queued+len(line) > l.opts.MaxPending {
			l.mu.Unlock()
			return fmt.Errorf("audit: queue full and the log cannot be written, entry dropped: %w", ferr)
		}
	}
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if rotate := l.size > 0 && l.size+int64(len(line)) > l.opts.MaxBytes; rotate || len(l.queue) == 0 {
		b := batch{rotate: rotate}
		if rotate {
			l.size = 0
		}
		if len(l.queue) == 0 {
			b.data, l.spare = l.spare, nil
		}
		l.queue = append(l.queue, b)
	}
	last := &l.queue[len(l.queue)-1]
	last.data = append(last.data, line...)
	wasEmpty, urgent := l.queued == 0, l.queued < flushBytes && l.queued+len(line) >= flushBytes
	l.queued += len(line)
	l.size += int64(len(line))
	err = l.flushErr
	l.flushErr = nil
	l.mu.Unlock()
	if wasEmpty || urgent {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	if err != nil {
		return fmt.Errorf("audit: writing earlier entries: %w", err)
	}
	return nil
}

// flusher appends queued lines to the file FlushInterval after the first
// of them was queued, or at once when flushBytes are waiting.
func (l *Log) flusher() {
	defer close(l.done)
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-l.kick:
		case <-l.quit:
			return
		}
		l.mu.Lock()
		queued := l.queued
		l.mu.Unlock()
		if queued == 0 {
			continue
		}
		if queued < flushBytes {
			t.Reset(l.opts.FlushInterval)
			select {
			case <-t.C:
			case <-l.kick: // flushBytes reached
				t.Stop()
			case <-l.quit:
				t.Stop()
				return
			}
		}
		err := l.flush()
		l.mu.Lock()
		if err != nil {
			l.flushErr = err
		}
		more := l.queued > 0
		l.mu.Unlock()
		if more { // queued during the write, or kept after a failed one
			select {
			case l.kick <- struct{}{}:
			default:
			}
		}
	}
}

// flush writes the queue to the file.
func (l *Log) flush() error {
	l.fmu.Lock()
	defer l.fmu.Unlock()
	return l.flushLocked()
}

// flushLocked writes the queue to the file, rotating where it was decided.
// Lines a failed write or rotation left unwritten go back to the head of
// the queue, whole, for the next flush. Called with fmu held.
func (l *Log) flushLocked() error {
	l.mu.Lock()
	q := l.queue
	l.queue = nil
	l.mu.Unlock()
	if len(q) == 0 {
		return nil
	}
	first := q[0].data[:0]
	for i := range q {
		if err := l.writeBatch(&q[i]); err != nil {
			l.mu.Lock()
			l.queue = append(q[i:], l.queue...)
			l.mu.Unlock()
			return err
		}
	}
	if cap(first) <= flushBytes {
		l.mu.Lock()
		if l.spare == nil {
			l.spare = first
		}
		l.mu.Unlock()
	}
	return nil
}

// writeBatch rotates if b asks for it and appends b's lines; on failure b
// holds what is left to write. Called with fmu held.
func (l *Log) writeBatch(b *batch) error {
	if b.rotate {
		if err := l.rotate(); err != nil {
			return err
		}
		b.rotate = false
	}
	if l.f == nil {
		return ErrClosed
	}
	n, err := l.f.Write(b.data)
	l.fsize += int64(n)
	l.mu.Lock()
	l.queued -= n
	l.mu.Unlock()
	b.data = b.data[n:]
	if err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	return nil
}

// rotate shifts audit.log.N up by one (dropping the oldest) and starts a
// new live file. Called with fmu held.
func (l *Log) rotate() error {
	if l.f != nil {
		if err := l.f.Close(); err != nil {
			return fmt.Errorf("audit: rotate: %w", err)
		}
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

// Sync writes the queue out and flushes the live file to disk.
func (l *Log) Sync() error {
	l.fmu.Lock()
	defer l.fmu.Unlock()
	if err := l.flushLocked(); err != nil {
		return err
	}
	if l.f == nil {
		return ErrClosed
	}
	return l.f.Sync()
}

// Close stops the flusher, writes the queue out, syncs and closes the log.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done

	l.fmu.Lock()
	defer l.fmu.Unlock()
	err := l.flushLocked()
	if l.f != nil {
		err = errors.Join(err, l.f.Sync(), l.f.Close())
		l.f = nil
	}
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
	// Write the queue out, then open every file and note the live size
	// under the lock: renames after that do not affect open files, and
	// bytes appended later are ignored. A failed flush still leaves what
	// is on disk to read.
	l.fmu.Lock()
	_ = l.flushLocked()
	var files []*os.File
	var liveSize int64 = -1
	for i := 0; i <= l.opts.Keep; i++ {
		fh, err := os.Open(l.path(i))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			l.fmu.Unlock()
			closeAll(files)
			return nil, fmt.Errorf("audit: %w", err)
		}
		if i == 0 {
			liveSize = l.fsize
		}
		files = append(files, fh)
	}
	l.fmu.Unlock()
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
