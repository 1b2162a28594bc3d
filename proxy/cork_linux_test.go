package proxy

import (
	"context"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

func corked(t *testing.T, c *net.TCPConn) bool {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	return v != 0
}

func TestCorkConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			_, _ = c.Read(make([]byte, 1))
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := nc.(*net.TCPConn)

	uncork := corkConn(ConnContext(context.Background(), c))
	if !corked(t, c) {
		t.Fatal("corkConn did not set TCP_CORK on the request's connection")
	}
	uncork()
	if corked(t, c) {
		t.Fatal("uncork left TCP_CORK set: responses would wait up to 200 ms")
	}
	// Without ConnContext, or on a connection that is not TCP: a no-op.
	corkConn(context.Background())()
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	corkConn(ConnContext(context.Background(), p1))()
}
