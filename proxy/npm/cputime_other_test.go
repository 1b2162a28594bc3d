//go:build !unix

package npm

import "time"

func cpuTime() time.Duration { return 0 }
