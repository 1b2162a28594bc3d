//go:build !unix

package pypi

import "time"

func cpuTime() time.Duration { return 0 }
