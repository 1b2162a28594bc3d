//go:build unix

package proxy

import (
	"os"
	"syscall"
)

// linked reports whether the file fi describes still has a name.
func linked(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink > 0
}
