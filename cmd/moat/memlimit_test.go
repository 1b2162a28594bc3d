package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	debug.SetMemoryLimit(math.MaxInt64)
	if setMemoryLimit(64<<20, "1GiB") || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Error("GOMEMLIMIT in the environment must win")
	}
	if setMemoryLimit(0, "") || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Error("0 must leave the runtime without a limit")
	}
	if !setMemoryLimit(64<<20, "") || debug.SetMemoryLimit(-1) != 64<<20 {
		t.Errorf("limit = %d, want 64 MiB", debug.SetMemoryLimit(-1))
	}
}

func TestSetGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	if setGCPercent(50, "200") || debug.SetGCPercent(100) != 100 {
		t.Error("GOGC in the environment must win")
	}
	if setGCPercent(0, "") || debug.SetGCPercent(100) != 100 {
		t.Error("0 must leave the runtime's default")
	}
	if !setGCPercent(50, "") {
		t.Error("50 not applied")
	}
	if got := debug.SetGCPercent(100); got != 50 {
		t.Errorf("GC percent = %d, want 50", got)
	}
}
