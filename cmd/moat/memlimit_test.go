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
