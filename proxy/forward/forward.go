// Package forward owns moat's transparent mode: an HTTP(S) forward proxy
// (clients set HTTPS_PROXY) that decrypts only the registry hosts it is told
// to intercept, with leaves from moat's CA, and hands those requests to
// moat's own handler (the same gate as registry mode). Every other host is
// tunnelled byte for byte (CONNECT) or forwarded with a verifying transport
// (plain HTTP), or refused when egress is denied.
//
// It is the only package that imports goproxy. Decrypted requests never
// reach goproxy's upstream round-tripper: moat's handler fetches from the
// registry with its own verified client.
package forward

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/elazarl/goproxy"
)

// Issuer hands out leaf certificates for intercepted hosts; *ca.CA is one.
type Issuer interface {
	Leaf(host string) (*tls.Certificate, error)
}

// Dialer opens the connections of tunnels and forwarded plain-HTTP
// requests; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Egress policies for hosts that are not intercepted.
const (
	EgressTunnel = "tunnel" // pass through untouched
	EgressDeny   = "deny"   // refuse unless EgressAllow matches
)

// ErrOpenProxy is returned when the proxy would listen beyond loopback
// without a client allow-list.
var ErrOpenProxy = errors.New("refusing to run an open proxy: the proxy listens on a non-loopback address and proxy.allow_clients is empty")

// Options configures a Proxy.
type Options struct {
	// CA signs the leaves presented for intercepted hosts. Required.
	CA Issuer
	// Intercept reports whether requests to an authority ("host:port", the
	// port always present, the host lower-case) are decrypted and handed to
	// Handler. HostMatcher builds one from a list. Required.
	Intercept func(hostport string) bool
	// Handler serves intercepted requests. The request arrives in server
	// form: r.Host is the registry's host (as the client sent it),
	// r.URL.Path/RawPath/RawQuery the original target, r.TLS non-nil when the
	// client spoke TLS to moat (decrypted CONNECT), nil for plain HTTP.
	// Required.
	Handler http.Handler
	// Egress is EgressTunnel ("" means tunnel) or EgressDeny.
	Egress string
	// EgressAllow lists host globs ("*.example.com", "host:443") that are
	// tunnelled even when Egress is EgressDeny.
	EgressAllow []string
	// AllowClients lists the client networks allowed to use the proxy;
	// empty means loopback clients only.
	AllowClients []netip.Prefix
	// Dialer opens tunnels and plain-HTTP upstream connections; nil means a
	// net.Dialer with a 10 s timeout.
	Dialer Dialer
	// RootCAs verifies upstream TLS of forwarded (not intercepted, not
	// tunnelled) absolute-form https requests; nil means the system roots.
	RootCAs *x509.CertPool
	Logger  *slog.Logger
}

// Proxy is moat's transparent-mode forward proxy. It implements
// http.Handler; Serve and Shutdown run it on a listener and also close the
// hijacked (tunnel and MITM) connections an http.Server does not track.
type Proxy struct {
	o         Options
	log       *slog.Logger
	gp        *goproxy.ProxyHttpServer
	allowHost func(string) bool

	mu    sync.Mutex
	srv   *http.Server
	conns map[net.Conn]struct{}
}

// New checks o and builds the proxy.
func New(o Options) (*Proxy, error) {
	if o.CA == nil || o.Intercept == nil || o.Handler == nil {
		return nil, errors.New("forward: CA, Intercept and Handler are required")
	}
	switch o.Egress {
	case "":
		o.Egress = EgressTunnel
	case EgressTunnel, EgressDeny:
	default:
		return nil, fmt.Errorf("forward: egress %q: want %s or %s", o.Egress, EgressTunnel, EgressDeny)
	}
	for _, g := range o.EgressAllow {
		if err := checkPattern(g); err != nil {
			return nil, fmt.Errorf("forward: egress_allow: %w", err)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Dialer == nil {
		o.Dialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	}
	p := &Proxy{o: o, log: o.Logger, allowHost: HostMatcher(o.EgressAllow), conns: map[net.Conn]struct{}{}}
	p.gp = p.newGoproxy()
	return p, nil
}

func (p *Proxy) newGoproxy() *goproxy.ProxyHttpServer {
	gp := goproxy.NewProxyHttpServer()
	gp.Logger = goproxyLogger{p.log}
	gp.Verbose = false
	// Pass bodies through as they are: no Accept-Encoding games.
	gp.KeepAcceptEncoding = true
	// goproxy's default transport skips TLS verification and its default
	// CONNECT dialer follows this process's HTTPS_PROXY: replace both.
	gp.Tr = &http.Transport{
		Proxy:                 nil,
		DialContext:           p.o.Dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: p.o.RootCAs, MinVersion: tls.VersionTLS12},
		DisableCompression:    true,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}
	gp.ConnectDial = nil
	gp.ConnectDialWithReq = func(req *http.Request, network, addr string) (net.Conn, error) {
		return p.o.Dialer.DialContext(req.Context(), network, addr)
	}
	gp.NonproxyHandler = http.HandlerFunc(p.notAProxyRequest)
	gp.OnRequest().HandleConnectFunc(p.handleConnect)
	gp.OnRequest().DoFunc(p.handleDecrypted)
	return gp
}

// ServeHTTP implements http.Handler: client and egress checks, then plain
// HTTP to intercepted hosts straight to the handler, everything else through
// goproxy.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.clientAllowed(r.RemoteAddr) {
		p.log.Warn("proxy client refused", "client", r.RemoteAddr, "target", r.Host)
		http.Error(w, "moat: client "+r.RemoteAddr+" may not use this proxy (see proxy.allow_clients)", http.StatusForbidden)
		return
	}
	if r.Method == http.MethodConnect {
		hp, err := Authority(r.Host, "443")
		if err != nil {
			http.Error(w, "moat: bad CONNECT target: "+err.Error(), http.StatusBadRequest)
			return
		}
		if !p.o.Intercept(hp) && !p.egressAllowed(hp) {
			p.log.Info("egress refused", "target", hp, "client", r.RemoteAddr)
			http.Error(w, "moat: egress to "+hp+" is denied (proxy.egress: deny)", http.StatusForbidden)
			return
		}
		p.gp.ServeHTTP(w, r)
		return
	}
	if !r.URL.IsAbs() {
		p.notAProxyRequest(w, r)
		return
	}
	if r.URL.Scheme != "http" && r.URL.Scheme != "https" {
		http.Error(w, "moat: unsupported scheme "+r.URL.Scheme, http.StatusBadRequest)
		return
	}
	defPort := "80"
	if r.URL.Scheme == "https" {
		defPort = "443"
	}
	hp, err := Authority(r.URL.Host, defPort)
	if err != nil {
		http.Error(w, "moat: bad request target: "+err.Error(), http.StatusBadRequest)
		return
	}
	if p.o.Intercept(hp) {
		p.o.Handler.ServeHTTP(w, serverRequest(r, r.URL.Host, nil))
		return
	}
	if !p.egressAllowed(hp) {
		p.log.Info("egress refused", "target", hp, "client", r.RemoteAddr)
		http.Error(w, "moat: egress to "+hp+" is denied (proxy.egress: deny)", http.StatusForbidden)
		return
	}
	p.gp.ServeHTTP(w, r)
}

func (p *Proxy) notAProxyRequest(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "moat: this is moat's transparent proxy port; use it as HTTPS_PROXY/HTTP_PROXY (registry mode is on moat's other port)", http.StatusBadRequest)
}

func (p *Proxy) egressAllowed(hostport string) bool {
	return p.o.Egress == EgressTunnel || p.allowHost(hostport)
}

// clientAllowed checks a RemoteAddr against AllowClients (loopback only
// when empty).
func (p *Proxy) clientAllowed(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	if len(p.o.AllowClients) == 0 {
		return ip.IsLoopback()
	}
	for _, pfx := range p.o.AllowClients {
		if pfx.Contains(ip) {
			return true
		}
	}
	return false
}

// mitmSession is one decrypted CONNECT tunnel.
type mitmSession struct {
	authority string // host:port of the CONNECT

	mu    sync.Mutex
	state *tls.ConnectionState
}

func (s *mitmSession) setState(cs tls.ConnectionState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs.HandshakeComplete = true
	s.state = &cs
}

func (s *mitmSession) tlsState() *tls.ConnectionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == nil {
		return &tls.ConnectionState{HandshakeComplete: true}
	}
	cs := *s.state
	return &cs
}

// handleConnect decides a CONNECT goproxy is about to serve: decrypt an
// intercepted host, tunnel the rest (egress was checked in ServeHTTP).
func (p *Proxy) handleConnect(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
	hp, err := Authority(host, "443")
	if err != nil {
		return &goproxy.ConnectAction{Action: goproxy.ConnectReject}, host
	}
	if !p.o.Intercept(hp) {
		p.log.Debug("tunnel", "target", hp)
		return &goproxy.ConnectAction{Action: goproxy.ConnectAccept}, host
	}
	ctx.UserData = &mitmSession{authority: hp}
	// Defence in depth: a decrypted request never goes upstream through
	// goproxy, even if a filter let one through.
	ctx.RoundTripper = goproxy.RoundTripperFunc(func(*http.Request, *goproxy.ProxyCtx) (*http.Response, error) {
		return nil, errors.New("moat: decrypted requests are served by moat, not forwarded")
	})
	p.log.Debug("intercept", "target", hp)
	return &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: p.tlsConfig}, host
}

// tlsConfig is the server side of a decrypted tunnel: a leaf for the
// CONNECT host from moat's CA, TLS 1.2+, HTTP/1.1 only.
func (p *Proxy) tlsConfig(host string, ctx *goproxy.ProxyCtx) (*tls.Config, error) {
	sess, ok := ctx.UserData.(*mitmSession)
	if !ok {
		return nil, errors.New("moat: TLS requested for a tunnel that is not intercepted")
	}
	h, _, err := net.SplitHostPort(sess.authority)
	if err != nil {
		return nil, err
	}
	cert, err := p.o.CA.Leaf(h)
	if err != nil {
		p.log.Error("cannot issue a leaf certificate", "host", h, "err", err)
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{*cert},
		NextProtos:   []string{"http/1.1"},
		VerifyConnection: func(cs tls.ConnectionState) error {
			sess.setState(cs)
			return nil
		},
	}, nil
}

// handleDecrypted serves requests read from a decrypted tunnel with the
// handler. Requests of plain-HTTP proxying (no session) continue to
// goproxy's verifying transport.
func (p *Proxy) handleDecrypted(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	sess, ok := ctx.UserData.(*mitmSession)
	if !ok {
		return req, nil
	}
	hostHeader := req.Host
	if hostHeader == "" {
		hostHeader = req.URL.Host
	}
	if hp, err := Authority(hostHeader, "443"); err != nil || hp != sess.authority {
		return req, textResponse(req, http.StatusMisdirectedRequest,
			fmt.Sprintf("moat: request for %q inside a tunnel to %s", hostHeader, sess.authority))
	}
	var tlsState *tls.ConnectionState
	if req.URL.Scheme == "https" {
		tlsState = sess.tlsState()
	}
	return req, runHandler(p.o.Handler, serverRequest(req, hostHeader, tlsState), p.log)
}

// serverRequest turns a proxy request into the server-form request moat's
// handler expects.
func serverRequest(r *http.Request, host string, state *tls.ConnectionState) *http.Request {
	out := r.Clone(r.Context())
	out.URL = &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	if out.URL.Path == "" {
		out.URL.Path = "/"
	}
	out.Host = host
	out.RequestURI = out.URL.RequestURI()
	out.TLS = state
	for _, h := range []string{"Proxy-Authorization", "Proxy-Connection", "Proxy-Authenticate"} {
		out.Header.Del(h)
	}
	return out
}

func textResponse(req *http.Request, code int, msg string) *http.Response {
	body := msg + "\n"
	return &http.Response{
		StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// goproxyLogger sends goproxy's messages to slog at debug level, except a
// failed client handshake, which usually means the client does not trust
// moat's CA.
type goproxyLogger struct{ log *slog.Logger }

func (l goproxyLogger) Printf(format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	if strings.Contains(msg, "Cannot handshake client") {
		l.log.Warn("TLS handshake with a proxy client failed; does it trust moat's CA (moat ca path)?", "detail", msg)
		return
	}
	l.log.Debug("goproxy", "msg", msg)
}
