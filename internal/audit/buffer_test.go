package audit

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The flusher appends queued lines on its own, within the flush interval,
// without Recent, Sync or Close asking for it.
func TestBackgroundFlush(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := Open(dir, Options{FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 5 {
		if err := l.Write(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(lines(t, filepath.Join(dir, FileName))) != 5 {
		if time.Now().After(deadline) {
			t.Fatalf("queued entries not written after 5 s: %d lines", len(lines(t, filepath.Join(dir, FileName))))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A second burst after the flusher went idle is written too.
	if err := l.Write(ctx, entry(5)); err != nil {
		t.Fatal(err)
	}
	for len(lines(t, filepath.Join(dir, FileName))) != 6 {
		if time.Now().After(deadline) {
			t.Fatal("second burst not written")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A queue at MaxPending is written out by the Write that finds it full:
// nothing is dropped, lines stay whole and in order, rotation still
// happens per line.
func TestBackPressure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := Open(dir, Options{FlushInterval: time.Hour, MaxPending: 1 << 10, MaxBytes: 8 << 10, Keep: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		if err := l.Write(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
		l.mu.Lock()
		q := l.queued
		l.mu.Unlock()
		if q > 1<<10 {
			t.Fatalf("queue at %d bytes, over MaxPending", q)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, FileName+"*"))
	if len(files) < 3 {
		t.Fatalf("%d files, want rotation", len(files))
	}
	l, _ = Open(dir, Options{Keep: 100})
	defer l.Close()
	got, err := l.Recent(ctx, 1000, Filter{})
	if err != nil || len(got) != 500 {
		t.Fatalf("Recent: %d entries, %v", len(got), err)
	}
	for i, e := range got { // newest first
		if e.DurationMS != int64(499-i) {
			t.Fatalf("entry %d is %d: order lost", i, e.DurationMS)
		}
	}
}

// A failed background write is reported by the next Write; the lines it
// could not write are kept and written once the file works again.
func TestWriteErrorReported(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := Open(dir, Options{FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Swap the live file for a read-only handle: writes fail.
	l.fmu.Lock()
	good := l.f
	ro, err := os.Open(l.path(0))
	if err != nil {
		t.Fatal(err)
	}
	l.f = ro
	l.fmu.Unlock()
	if err := l.Write(ctx, entry(1)); err != nil {
		t.Fatal(err)
	}
	var werr error
	for deadline := time.Now().Add(5 * time.Second); werr == nil && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		werr = l.Write(ctx, entry(2))
	}
	if werr == nil {
		t.Fatal("a failing background write was never reported")
	}
	l.fmu.Lock()
	l.f = good
	l.fmu.Unlock()
	ro.Close()
	got, err := l.Recent(ctx, 1000, Filter{})
	if err != nil || len(got) < 2 || got[len(got)-1].Name != "pkg-1" {
		t.Fatalf("after recovery: %d entries, %v", len(got), err)
	}
}
