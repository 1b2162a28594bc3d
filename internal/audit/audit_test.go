package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

func entry(i int) Entry {
	action := "allow"
	if i%3 == 0 {
		action = "block"
	}
	return Entry{Time: t0.Add(time.Duration(i) * time.Second), Client: "192.0.2.1", Ecosystem: "npm",
		Name: fmt.Sprintf("pkg-%d", i), Version: "1.0.0", Action: action, Layer: "scan", Mode: "enforce", DurationMS: int64(i)}
}

func lines(t *testing.T, path string) []Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: bad line %q: %v", path, sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

func TestWriteAndRecent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := Open(dir, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 10 {
		if err := l.Write(ctx, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Write(ctx, Entry{Action: "warn", Reasons: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stat %v %v", fi, err)
	}
	got, err := l.Recent(ctx, 3, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Action != "warn" || !got[0].Time.Equal(t0) || got[1].Name != "pkg-9" || got[2].Name != "pkg-8" {
		t.Fatalf("Recent = %+v", got)
	}
	got, _ = l.Recent(ctx, 100, Filter{Action: "block"})
	if len(got) != 4 || got[0].Name != "pkg-9" || got[3].Name != "pkg-0" {
		t.Fatalf("filtered = %+v", got)
	}
	got, _ = l.Recent(ctx, 100, Filter{Since: t0.Add(5 * time.Second), Ecosystem: "npm"})
	if len(got) != 5 {
		t.Fatalf("since = %d entries", len(got))
	}
	if got, _ := l.Recent(ctx, 0, Filter{}); got != nil {
		t.Fatal("n=0 returned entries")
	}
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	one, _ := json.Marshal(Entry{Time: t0, Client: "192.0.2.1", Ecosystem: "npm", Name: "pkg-00", Version: "1.0.0", Action: "allow", Layer: "scan", Mode: "enforce", DurationMS: 0})
	lineLen := int64(len(one) + 1)
	l, err := Open(dir, Options{MaxBytes: 10 * lineLen, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 45 {
		e := entry(i)
		e.Name = fmt.Sprintf("pkg-%02d", i) // equal line lengths
		e.Action, e.DurationMS = "allow", 0
		if err := l.Write(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	live, r1, r2 := lines(t, filepath.Join(dir, FileName)), lines(t, filepath.Join(dir, FileName+".1")), lines(t, filepath.Join(dir, FileName+".2"))
	if len(live) != 5 || len(r1) != 10 || len(r2) != 10 {
		t.Fatalf("lines live %d, .1 %d, .2 %d", len(live), len(r1), len(r2))
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".3")); !os.IsNotExist(err) {
		t.Fatal("kept more than Keep rotated files")
	}
	if r2[0].Name != "pkg-20" || r1[0].Name != "pkg-30" || live[0].Name != "pkg-40" {
		t.Fatalf("order: %s %s %s", r2[0].Name, r1[0].Name, live[0].Name)
	}
	// Reopen appends to the live file and Recent spans the rotated ones.
	l, err = Open(dir, Options{MaxBytes: 10 * lineLen, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, err := l.Recent(ctx, 18, Filter{})
	if err != nil || len(got) != 18 || got[0].Name != "pkg-44" || got[17].Name != "pkg-27" {
		t.Fatalf("Recent across files: %d %v", len(got), err)
	}
	all, _ := l.Recent(ctx, 1000, Filter{})
	if len(all) != 25 {
		t.Fatalf("all = %d", len(all))
	}
}

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := Open(dir, Options{MaxBytes: 16 << 10, Keep: 100})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if err := l.Write(ctx, entry(g*1000+i)); err != nil {
					t.Error(err)
				}
				if i%50 == 0 {
					if _, err := l.Recent(ctx, 20, Filter{}); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	l.Close()
	total := 0
	files, _ := filepath.Glob(filepath.Join(dir, FileName+"*"))
	for _, p := range files {
		total += len(lines(t, p)) // fails on any torn or interleaved line
	}
	if total != 1600 || len(files) < 2 {
		t.Fatalf("%d entries in %d files, want 1600 in several", total, len(files))
	}
}

func TestTornLineAndLongLines(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, _ := Open(dir, Options{})
	big := entry(1)
	for range 3000 { // one line well over a read chunk
		big.Reasons = append(big.Reasons, "reason text that repeats")
	}
	l.Write(ctx, entry(0))
	l.Write(ctx, big)
	l.Close()
	f, _ := os.OpenFile(filepath.Join(dir, FileName), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2025-03-01T00:00:09Z","act`) // crash mid-write
	f.Close()
	l, _ = Open(dir, Options{})
	defer l.Close()
	l.Write(ctx, entry(2))
	got, err := l.Recent(ctx, 10, Filter{})
	if err != nil || len(got) != 3 || got[0].Name != "pkg-2" || len(got[1].Reasons) != 3000 || got[2].Name != "pkg-0" {
		t.Fatalf("got %d entries, %v", len(got), err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	l, _ := Open(t.TempDir(), Options{})
	l.Close()
	if err := l.Write(context.Background(), entry(0)); err != ErrClosed {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkRecentLargeLog(b *testing.B) {
	ctx := context.Background()
	l, _ := Open(b.TempDir(), Options{})
	defer l.Close()
	for i := range 200_000 {
		l.Write(ctx, entry(i))
	}
	b.ResetTimer()
	for range b.N {
		if got, _ := l.Recent(ctx, 100, Filter{}); len(got) != 100 {
			b.Fatal(len(got))
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	l, _ := Open(b.TempDir(), Options{})
	defer l.Close()
	e := entry(1)
	for range b.N {
		l.Write(ctx, e)
	}
}
