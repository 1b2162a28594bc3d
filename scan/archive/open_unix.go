//go:build unix

package archive

import (
	"os"
	"syscall"
)

// openNoFollow opens a file for reading without following a final symlink
// and without blocking on a fifo swapped in after the walk looked.
func openNoFollow(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
