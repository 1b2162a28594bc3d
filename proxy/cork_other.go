//go:build !linux

package proxy

import "net"

// setCork does nothing here (TCP_CORK is Linux's).
func setCork(*net.TCPConn, bool) bool { return false }
