//go:build unix

package pypi

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used; the
// benchmarks report it per operation because wall time on a shared, loaded
// machine says little.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
