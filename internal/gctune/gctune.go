// Package gctune owns the Go runtime's garbage-collector settings while moat
// serve runs: the GC percent and the soft memory limit.
//
// moat's memory peaks while it scans: tree-sitter's C heap for a parse (about
// 64 bytes per source byte: 55-75 MB for a file of 1 MiB), beside the
// artifact and its extracted sources on the Go heap. Two things follow.
//
// The GC percent: while a scan is in flight a low percent keeps the Go heap
// near what is live. Serving cached artifacts allocates little and keeps
// little live; there a low percent only makes the collector run more often
// (GOGC 50 cost 6-20 % of cached requests/s against Go's 100 in one paired
// A/B; a later one, with the cached path's live heap at 18 MB, found no
// difference beyond noise: bench/README.md). A Tuner holds the busy percent
// while at least one scan is in flight and the idle one otherwise.
//
// The memory limit: Go's soft limit sees only Go memory, so a large parse's C
// heap comes on top of it. A Tuner lowers the limit by each large parse's
// estimated C heap while it runs, down to a quarter of the configured limit,
// so that the collector gives back Go memory exactly when the C side peaks.
// Over cold installs of the bench app (moat serve, 2 CPUs, 3 runs each)
// the peak RSS median was 163 MB without this, 153 MB with a floor of half
// the limit and 146 MB with a quarter, install times within 1 s of each
// other: below the live heap, the limit makes the collector run
// continuously for the parse's fraction of a second (the runtime caps that
// at half the CPU), not longer.
package gctune

import (
	"runtime/debug"
	"sync"
)

const (
	// cBytesPerSourceByte estimates the C heap a tree-sitter parse holds per
	// byte of source (measured on moat serve during a cold install: 55-75 MB
	// for sources of up to 1 MiB).
	cBytesPerSourceByte = 64
	// minParseSource is the smallest source whose parse is counted: smaller
	// parses are short and small, and counting them would only churn the
	// limit.
	minParseSource = 64 << 10
)

// Config is what a Tuner sets.
type Config struct {
	// BusyPercent is the GC percent while a scan is in flight, IdlePercent
	// the one otherwise. Both must be positive for the Tuner to switch them.
	BusyPercent, IdlePercent int
	// MemoryLimit is the Go soft memory limit parses are counted against
	// (not positive: no limit, nothing counted).
	MemoryLimit int64
}

// Tuner applies a Config and follows scans and parses. The nil *Tuner is
// valid and does nothing.
type Tuner struct {
	c        Config
	floor    int64 // the lowest memory limit a reservation may leave: a quarter of it
	setPct   func(int) int
	setLimit func(int64) int64

	mu       sync.Mutex
	busy     int   // scans in flight
	reserved int64 // bytes reserved for C memory
}

// New applies c (the idle GC percent and the memory limit) and returns the
// Tuner that follows scans and parses, or nil when c has nothing to switch
// or count.
func New(c Config) *Tuner { return newTuner(c, debug.SetGCPercent, debug.SetMemoryLimit) }

func newTuner(c Config, setPct func(int) int, setLimit func(int64) int64) *Tuner {
	switchPct := c.BusyPercent > 0 && c.IdlePercent > 0 && c.BusyPercent != c.IdlePercent
	if !switchPct {
		c.BusyPercent, c.IdlePercent = 0, 0
	}
	if c.MemoryLimit <= 0 {
		c.MemoryLimit = 0
	}
	if !switchPct && c.MemoryLimit == 0 {
		return nil
	}
	t := &Tuner{c: c, floor: c.MemoryLimit / 4, setPct: setPct, setLimit: setLimit}
	if switchPct {
		setPct(c.IdlePercent)
	}
	if c.MemoryLimit > 0 {
		setLimit(c.MemoryLimit)
	}
	return t
}

// Scan marks one scan in flight; the returned function marks it done and
// must be called once (later calls do nothing). The first scan in sets the
// busy GC percent, the last one out the idle one: a change is one short
// runtime call, no stop of the world.
func (t *Tuner) Scan() (done func()) {
	if t == nil || t.c.BusyPercent == 0 {
		return func() {}
	}
	t.mu.Lock()
	t.busy++
	if t.busy == 1 {
		t.setPct(t.c.BusyPercent)
	}
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			t.busy--
			if t.busy == 0 {
				t.setPct(t.c.IdlePercent)
			}
			t.mu.Unlock()
		})
	}
}

// Parse counts the C heap of parsing srcBytes of source against the memory
// limit until the returned function is called (once; later calls do
// nothing). Sources under 64 KiB are not counted.
func (t *Tuner) Parse(srcBytes int) (done func()) {
	if t == nil || t.c.MemoryLimit == 0 || srcBytes < minParseSource {
		return func() {}
	}
	n := int64(srcBytes) * cBytesPerSourceByte
	t.reserve(n)
	var once sync.Once
	return func() { once.Do(func() { t.reserve(-n) }) }
}

// reserve adds n bytes to the reservation and applies the limit it leaves.
func (t *Tuner) reserve(n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reserved += n
	t.setLimit(max(t.c.MemoryLimit-t.reserved, t.floor))
}
