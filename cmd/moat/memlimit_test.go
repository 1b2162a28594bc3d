package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/moatproject/moat/internal/config"
)

// TestGCTuner checks which collector settings moat serve applies, and that
// the environment's GOGC and GOMEMLIMIT win.
func TestGCTuner(t *testing.T) {
	prevPct := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(prevPct); debug.SetMemoryLimit(prevLimit) })
	const limit = 64 << 20
	cases := []struct {
		name             string
		busy, idle       int
		limit            int64
		gogc, gomemlimit string
		wantPct          int   // GC percent right after the call (7: untouched)
		wantLimit        int64 // memory limit right after the call (MaxInt64: untouched)
		wantBusy         int   // GC percent during a scan
	}{
		{"environment wins", 50, 100, limit, "200", "1GiB", 7, math.MaxInt64, 7},
		{"all 0: runtime defaults", 0, 0, 0, "", "", 100, math.MaxInt64, 100},
		{"one percent", 50, 50, 0, "", "", 50, math.MaxInt64, 50},
		{"idle 0 means busy", 50, 0, limit, "", "", 50, limit, 50},
		{"busy 0 means 100", 0, 50, 0, "", "", 50, math.MaxInt64, 100},
		{"busy and idle", 50, 100, limit, "", "", 100, limit, 50},
		{"GOMEMLIMIT only", 50, 100, limit, "", "1GiB", 100, math.MaxInt64, 50},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			debug.SetGCPercent(7)
			debug.SetMemoryLimit(math.MaxInt64)
			tu := gcTuner(config.Server{GCPercent: c.busy, IdleGCPercent: c.idle, MemoryLimitBytes: c.limit}, c.gogc, c.gomemlimit)
			if got := debug.SetGCPercent(-1); got != c.wantPct {
				t.Errorf("GC percent = %d, want %d", got, c.wantPct)
			}
			debug.SetGCPercent(c.wantPct)
			if got := debug.SetMemoryLimit(-1); got != c.wantLimit {
				t.Errorf("memory limit = %d, want %d", got, c.wantLimit)
			}
			done := tu.Scan()
			if got := debug.SetGCPercent(-1); got != c.wantBusy {
				t.Errorf("during a scan: GC percent = %d, want %d", got, c.wantBusy)
			}
			debug.SetGCPercent(c.wantBusy)
			parsed := tu.Parse(1 << 20)
			if got := debug.SetMemoryLimit(-1); c.wantLimit != math.MaxInt64 && got >= c.wantLimit {
				t.Errorf("during a 1 MiB parse: memory limit = %d, want below %d", got, c.wantLimit)
			}
			parsed()
			done()
			if got := debug.SetGCPercent(-1); got != c.wantPct {
				t.Errorf("after the scan: GC percent = %d, want %d", got, c.wantPct)
			}
			if got := debug.SetMemoryLimit(-1); got != c.wantLimit {
				t.Errorf("after the parse: memory limit = %d, want %d", got, c.wantLimit)
			}
		})
	}
}
