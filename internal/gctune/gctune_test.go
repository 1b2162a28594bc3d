package gctune

import (
	"slices"
	"sync"
	"testing"
)

// recorder stands in for debug.SetGCPercent and debug.SetMemoryLimit.
type recorder struct {
	mu     sync.Mutex
	pct    []int
	limits []int64
}

func (r *recorder) setPct(p int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pct = append(r.pct, p)
	return 0
}

func (r *recorder) setLimit(l int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limits = append(r.limits, l)
	return 0
}

func (r *recorder) tuner(c Config) *Tuner { return newTuner(c, r.setPct, r.setLimit) }

func TestScanSwitchesPercent(t *testing.T) {
	r := &recorder{}
	tu := r.tuner(Config{BusyPercent: 50, IdlePercent: 100})
	a := tu.Scan()
	b := tu.Scan()
	a()
	a() // a second call is a no-op, not a second scan done
	if want := []int{100, 50}; !slices.Equal(r.pct, want) {
		t.Fatalf("one of two scans left: settings %v, want %v", r.pct, want)
	}
	b()
	if want := []int{100, 50, 100}; !slices.Equal(r.pct, want) {
		t.Fatalf("settings %v, want %v (idle at start, one per transition)", r.pct, want)
	}
	if len(r.limits) != 0 {
		t.Fatalf("no memory limit configured, yet set: %v", r.limits)
	}
}

func TestParseLowersLimit(t *testing.T) {
	r := &recorder{}
	tu := r.tuner(Config{MemoryLimit: 80 << 20})
	small := tu.Parse(minParseSource - 1)
	small()
	a := tu.Parse(128 << 10) // 8 MiB of C heap
	b := tu.Parse(1 << 20)   // 64 MiB: past the floor
	b()
	b()
	a()
	want := []int64{80 << 20, 72 << 20, 20 << 20, 72 << 20, 80 << 20}
	if !slices.Equal(r.limits, want) {
		t.Fatalf("limits %v, want %v", r.limits, want)
	}
	if len(r.pct) != 0 {
		t.Fatalf("no GC percents configured, yet set: %v", r.pct)
	}
	tu.Scan()() // nothing to switch
	if len(r.pct) != 0 {
		t.Fatalf("Scan switched percents it was not given: %v", r.pct)
	}
}

func TestNothingToDo(t *testing.T) {
	for _, c := range []Config{{}, {BusyPercent: 50}, {IdlePercent: 100}, {BusyPercent: 50, IdlePercent: 50}, {MemoryLimit: -1}} {
		r := &recorder{}
		tu := r.tuner(c)
		if tu != nil {
			t.Fatalf("newTuner(%+v) = %v, want nil", c, tu)
		}
		tu.Scan()()
		tu.Parse(1 << 20)()
		if len(r.pct)+len(r.limits) != 0 {
			t.Fatalf("newTuner(%+v) changed settings: %v %v", c, r.pct, r.limits)
		}
	}
}

func TestConcurrent(t *testing.T) {
	r := &recorder{}
	tu := r.tuner(Config{BusyPercent: 50, IdlePercent: 100, MemoryLimit: 80 << 20})
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				done := tu.Scan()
				tu.Parse(256 << 10)()
				done()
			}
		}()
	}
	wg.Wait()
	if got := r.pct[len(r.pct)-1]; got != 100 {
		t.Fatalf("after all scans: GC percent %d, want 100", got)
	}
	for i := 1; i < len(r.pct); i++ {
		if r.pct[i] == r.pct[i-1] {
			t.Fatalf("percent %d set twice in a row at %d: transitions must alternate", r.pct[i], i)
		}
	}
	if got := r.limits[len(r.limits)-1]; got != 80<<20 {
		t.Fatalf("after all parses: limit %d, want %d", got, 80<<20)
	}
}
