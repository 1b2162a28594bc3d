package forward

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Serve runs the proxy on ln until Shutdown. It refuses (ErrOpenProxy) a
// listener beyond loopback when no client allow-list is set.
func (p *Proxy) Serve(ln net.Listener) error {
	if err := CheckListen(ln.Addr().String(), p.o.AllowClients); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 15 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
	}
	p.mu.Lock()
	if p.srv != nil {
		p.mu.Unlock()
		return errors.New("forward: Serve called twice")
	}
	p.srv = srv
	p.mu.Unlock()
	err := srv.Serve(&trackingListener{Listener: ln, p: p})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, lets plain requests finish until ctx is done,
// then closes every remaining connection, tunnels and decrypted sessions
// included.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	srv := p.srv
	p.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil // what was left got closed
	}
	return err
}

// trackingListener remembers accepted connections until they close, so
// Shutdown can close hijacked ones.
type trackingListener struct {
	net.Listener
	p *Proxy
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, p: l.p}
	l.p.mu.Lock()
	l.p.conns[tc] = struct{}{}
	l.p.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	p    *Proxy
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	})
	return c.Conn.Close()
}

// CloseWrite and CloseRead keep TCP half-close working through the wrapper
// (goproxy's tunnels use them when both ends support them).
func (c *trackedConn) CloseWrite() error {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return c.Close()
}

func (c *trackedConn) CloseRead() error {
	if hc, ok := c.Conn.(interface{ CloseRead() error }); ok {
		return hc.CloseRead()
	}
	return nil
}
