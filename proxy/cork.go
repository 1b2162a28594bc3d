package proxy

import (
	"context"
	"net"
)

type connKey struct{}

// ConnContext is an http.Server ConnContext hook: it records each
// connection in its requests' contexts so that an artifact response can
// cork the socket (see corkConn). Servers without it serve the same bytes,
// uncorked.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// corkConn holds back partial TCP segments on the connection of ctx (set by
// ConnContext) until the returned function runs, so that a response's
// header and its body (written, then sent by sendfile(2)) leave in full
// segments rather than as a small header packet followed by the body: on
// loopback that halves the packets of a typical tarball response. It does
// nothing for a connection it cannot cork (TLS, not TCP, other systems).
func corkConn(ctx context.Context) (uncork func()) {
	c, ok := ctx.Value(connKey{}).(*net.TCPConn)
	if !ok || !setCork(c, true) {
		return func() {}
	}
	return func() { setCork(c, false) }
}
