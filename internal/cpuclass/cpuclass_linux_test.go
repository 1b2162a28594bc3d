//go:build linux

package cpuclass

import (
	"context"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func policy(t *testing.T) uint32 {
	t.Helper()
	a, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return a.Policy
}

func TestDo(t *testing.T) {
	if !supported() {
		t.Skip("this kernel or sandbox refuses SCHED_IDLE")
	}
	tests := []struct {
		name    string
		class   *Class
		promote bool // Promote from inside the work
		nested  bool // a Do inside the work: the outer one stays idle after it
		want    uint32
		after   uint32 // policy after a Promote from inside
	}{
		{name: "no class", class: nil, want: unix.SCHED_NORMAL},
		{name: "idle", class: Idle(), want: unix.SCHED_IDLE},
		{name: "promoted before", class: func() *Class { c := Idle(); c.Promote(); return c }(), want: unix.SCHED_NORMAL},
		{name: "promoted while running", class: Idle(), promote: true, want: unix.SCHED_IDLE, after: unix.SCHED_NORMAL},
		{name: "nested", class: Idle(), nested: true, want: unix.SCHED_IDLE, after: unix.SCHED_IDLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := With(context.Background(), tt.class)
			done := make(chan struct{})
			go func() { // a goroutine of its own, so a test failure cannot leave the test's thread idle
				defer close(done)
				Do(ctx, func() {
					if got := policy(t); got != tt.want {
						t.Errorf("policy inside Do = %d, want %d", got, tt.want)
					}
					if tt.nested {
						Do(ctx, func() {})
						if got := policy(t); got != tt.after {
							t.Errorf("policy after a nested Do = %d, want %d", got, tt.after)
						}
					}
					if tt.promote {
						tt.class.Promote()
						if got := policy(t); got != tt.after {
							t.Errorf("policy after Promote = %d, want %d", got, tt.after)
						}
					}
				})
			}()
			<-done
			if tt.class != nil && len(tt.class.tids) != 0 {
				t.Errorf("threads still registered: %v", tt.class.tids)
			}
		})
	}
}

// After Do the goroutine's thread is normal again (or gone): idle priority
// never leaks to other work.
func TestDoRestores(t *testing.T) {
	if !supported() {
		t.Skip("this kernel or sandbox refuses SCHED_IDLE")
	}
	done := make(chan uint32)
	go func() {
		runtime.LockOSThread() // the same thread before and after Do
		defer runtime.UnlockOSThread()
		Do(With(context.Background(), Idle()), func() {})
		a, err := unix.SchedGetAttr(0, 0)
		if err != nil {
			done <- 99
			return
		}
		done <- a.Policy
	}()
	if got := <-done; got != unix.SCHED_NORMAL {
		t.Errorf("policy after Do = %d, want SCHED_NORMAL", got)
	}
}
