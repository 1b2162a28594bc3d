// Package cpuclass owns the CPU priority of speculative work: moat scans the
// tarballs it predicts a client will ask for (proxy's prefetcher) while the
// client is still resolving, and that guesswork must take only CPU time
// nobody else wants - not the client's own (npm resolving on the same
// laptop) and not the scans a client is waiting for.
//
// A Class travels in a context. Work run through Do under an idle Class runs
// on a thread locked to its goroutine and moved to the kernel's idle
// scheduling class (Linux SCHED_IDLE); Promote moves the class, and every
// thread running for it right now, back to normal - a client started
// waiting for the result. Elsewhere (other systems, or where the kernel
// refuses) Do just runs the work.
package cpuclass

import (
	"context"
	"runtime"
	"sync"
)

// Class is the CPU class of one job's threads.
type Class struct {
	mu   sync.Mutex
	idle bool
	tids map[int]int // threads running for the class now -> how many Do calls on each
}

// Idle returns a class that starts idle.
func Idle() *Class { return &Class{idle: supported(), tids: map[int]int{}} }

// Promote makes c normal from now on, its running threads included.
func (c *Class) Promote() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.idle {
		return
	}
	c.idle = false
	for tid := range c.tids {
		_ = setNormal(tid)
	}
}

// IsIdle reports whether work started now would run idle.
func (c *Class) IsIdle() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.idle
}

// enter registers thread tid as running for c and moves it to idle
// priority (unless a Do further up its goroutine already did); false when
// c was promoted meanwhile or the kernel refused.
func (c *Class) enter(tid int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.idle {
		return false
	}
	if c.tids[tid] == 0 && setIdle(tid) != nil {
		return false
	}
	c.tids[tid]++
	return true
}

type ctxKey struct{}

// With returns ctx carrying c.
func With(ctx context.Context, c *Class) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// From returns the class ctx carries, or nil (normal).
func From(ctx context.Context) *Class {
	c, _ := ctx.Value(ctxKey{}).(*Class)
	return c
}

// Do runs fn in the class ctx carries: on the calling goroutine, and when
// the class is idle on its thread, locked, at idle priority for fn's
// duration. Goroutines fn starts do not inherit the class: they call Do
// themselves. Do calls nest.
func Do(ctx context.Context, fn func()) {
	c := From(ctx)
	if !c.IsIdle() {
		fn()
		return
	}
	runtime.LockOSThread()
	tid := gettid()
	if !c.enter(tid) {
		runtime.UnlockOSThread()
		fn()
		return
	}
	defer func() {
		c.mu.Lock()
		c.tids[tid]--
		last := c.tids[tid] <= 0
		if last {
			delete(c.tids, tid)
		}
		c.mu.Unlock()
		if !last || setNormal(tid) == nil {
			runtime.UnlockOSThread()
		}
		// else: the thread stays locked and dies with its goroutine, so no
		// other goroutine ever runs at idle priority on it.
	}()
	fn()
}
