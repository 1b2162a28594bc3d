//go:build linux

package cpuclass

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// The attributes a thread is returned to: the process's own at first use
// (its policy and nice value, which a user may have set with nice(1)).
var (
	probeOnce sync.Once
	normal    *unix.SchedAttr
)

// supported probes once: it reads this thread's attributes and checks that
// the kernel lets this process move a thread to idle and back.
func supported() bool {
	probeOnce.Do(func() {
		done := make(chan *unix.SchedAttr)
		go func() { // on a thread of its own: one that cannot come back dies with it
			runtime.LockOSThread()
			a, err := unix.SchedGetAttr(0, 0)
			if err != nil || a.Policy != unix.SCHED_NORMAL {
				done <- nil // real-time or batch already: leave the scheduler alone
				return
			}
			idle := *a
			idle.Policy = unix.SCHED_IDLE
			if unix.SchedSetAttr(0, &idle, 0) != nil {
				runtime.UnlockOSThread()
				done <- nil
				return
			}
			if unix.SchedSetAttr(0, a, 0) != nil {
				done <- nil // stays locked: the idle thread exits with this goroutine
				return
			}
			runtime.UnlockOSThread()
			done <- a
		}()
		normal = <-done
	})
	return normal != nil
}

func gettid() int { return unix.Gettid() }

func setIdle(tid int) error {
	a := *normal
	a.Policy = unix.SCHED_IDLE
	return unix.SchedSetAttr(tid, &a, 0)
}

func setNormal(tid int) error {
	a := *normal
	return unix.SchedSetAttr(tid, &a, 0)
}
