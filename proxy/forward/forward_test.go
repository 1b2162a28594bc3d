package forward

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/ca"
)

const regHost = "registry.example.invalid"

// observed is what the stub handler saw of the last intercepted request.
type observed struct {
	host, path, rawPath string
	query               string
	tls                 bool
	remote              string
	proxyAuth           string
}

type seen struct {
	mu   sync.Mutex
	last observed
}

func (s *seen) get() observed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// stubHandler stands in for moat's ServeIntercepted.
func stubHandler(s *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.last = observed{host: r.Host, path: r.URL.Path, rawPath: r.URL.RawPath, query: r.URL.RawQuery, tls: r.TLS != nil,
			remote: r.RemoteAddr, proxyAuth: r.Header.Get("Proxy-Authorization")}
		s.mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/big"):
			w.Header().Set("Content-Type", "application/octet-stream")
			chunk := []byte(strings.Repeat("x", 64<<10))
			for i := 0; i < 80; i++ { // 5 MiB, streamed
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case strings.HasSuffix(r.URL.Path, "/blocked"):
			// What proxy.writeWithReason does: a raw response with a reason.
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				http.Error(w, "no hijack: "+err.Error(), 500)
				return
			}
			defer conn.Close()
			body := "moat blocked evil@1.0.0: test\n"
			fmt.Fprintf(brw, "HTTP/1.1 403 moat blocked evil@1.0.0\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			_ = brw.Flush()
		case strings.HasSuffix(r.URL.Path, "/panic"):
			panic("boom")
		case r.Method == http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "posted %d bytes", len(b))
		default:
			w.Header().Set("X-Moat", "1")
			fmt.Fprintf(w, "hello from moat for %s%s", r.Host, r.URL.EscapedPath())
		}
	})
}

type fixture struct {
	ca    *ca.CA
	proxy *Proxy
	url   *url.URL
	seen  *seen
}

func startProxy(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	c, err := ca.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &seen{}
	o := Options{CA: c, Intercept: HostMatcher([]string{regHost}), Handler: stubHandler(s)}
	if mod != nil {
		mod(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	u, _ := url.Parse("http://" + ln.Addr().String())
	return &fixture{ca: c, proxy: p, url: u, seen: s}
}

// client trusts moat's CA plus extra roots and uses the proxy.
func (f *fixture) client(extra ...*x509.Certificate) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(f.ca.Certificate())
	for _, c := range extra {
		roots.AddCert(c)
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:             http.ProxyURL(f.url),
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true, // moat must still answer HTTP/1.1
	}, Timeout: 20 * time.Second}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", u, err)
	}
	return resp, string(b)
}

func TestInterceptHTTPS(t *testing.T) {
	f := startProxy(t, nil)
	c := f.client()

	resp, body := get(t, c, "https://"+regHost+"/@scope%2fname?write=true")
	if resp.StatusCode != 200 || body != "hello from moat for "+regHost+"/@scope%2fname" || resp.Header.Get("X-Moat") != "1" {
		t.Fatalf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	s := f.seen.get()
	if s.host != regHost || s.path != "/@scope/name" || s.rawPath != "/@scope%2fname" || s.query != "write=true" || !s.tls {
		t.Errorf("handler saw %+v", s)
	}
	if ap, err := netip.ParseAddrPort(s.remote); err != nil || !ap.Addr().IsLoopback() {
		t.Errorf("RemoteAddr %q is not the client's", s.remote)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 || resp.Proto != "HTTP/1.1" {
		t.Errorf("TLS %+v proto %s", resp.TLS, resp.Proto)
	}
	if len(resp.TLS.PeerCertificates) == 0 || resp.TLS.PeerCertificates[0].Issuer.CommonName != f.ca.Certificate().Subject.CommonName {
		t.Errorf("leaf not issued by moat's CA")
	}

	t.Run("streams a large body", func(t *testing.T) {
		resp, body := get(t, c, "https://"+regHost+"/big")
		if resp.StatusCode != 200 || len(body) != 80*64<<10 {
			t.Errorf("got %d, %d bytes", resp.StatusCode, len(body))
		}
	})
	t.Run("reason phrase of a hijacked response reaches the client", func(t *testing.T) {
		resp, body := get(t, c, "https://"+regHost+"/blocked")
		if resp.StatusCode != 403 || resp.Status != "403 moat blocked evil@1.0.0" || !strings.Contains(body, "moat blocked evil@1.0.0: test") {
			t.Errorf("got %q %q", resp.Status, body)
		}
	})
	t.Run("request body", func(t *testing.T) {
		resp, err := c.Post("https://"+regHost+"/-/npm/v1/security/advisories/bulk", "application/json", strings.NewReader(strings.Repeat("{}", 1000)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "posted 2000 bytes" {
			t.Errorf("got %q", b)
		}
	})
	t.Run("handler panic is a 500", func(t *testing.T) {
		resp, _ := get(t, c, "https://"+regHost+"/panic")
		if resp.StatusCode != 500 {
			t.Errorf("got %d", resp.StatusCode)
		}
	})
	t.Run("untrusting client fails the handshake", func(t *testing.T) {
		plain := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(f.url)}, Timeout: 10 * time.Second}
		if _, err := plain.Get("https://" + regHost + "/x"); err == nil {
			t.Error("a client that does not trust moat's CA accepted its leaf")
		}
	})
}

func TestInterceptPlainHTTP(t *testing.T) {
	f := startProxy(t, nil)
	resp, body := get(t, f.client(), "http://"+regHost+"/simple/pkg/")
	if resp.StatusCode != 200 || !strings.Contains(body, "hello from moat") {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if s := f.seen.get(); s.tls || s.host != regHost || s.path != "/simple/pkg/" {
		t.Errorf("handler saw %+v", s)
	}
}

func TestTunnelUntouched(t *testing.T) {
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "the other server's own bytes")
	}))
	defer other.Close()
	otherCert := other.Certificate()

	f := startProxy(t, nil)
	c := f.client(otherCert)
	resp, body := get(t, c, other.URL+"/x")
	if body != "the other server's own bytes" {
		t.Fatalf("got %q", body)
	}
	if !resp.TLS.PeerCertificates[0].Equal(otherCert) {
		t.Error("tunnelled connection did not see the server's own certificate")
	}
	if s := f.seen.get(); s.host != "" {
		t.Errorf("a tunnelled request reached the handler: %+v", s)
	}
}

func TestEgressDeny(t *testing.T) {
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer other.Close()
	plainSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "plain ok") }))
	defer plainSrv.Close()
	allowed := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "allowed") }))
	defer allowed.Close()

	f := startProxy(t, func(o *Options) {
		o.Egress = EgressDeny
		o.EgressAllow = []string{strings.TrimPrefix(allowed.URL, "https://")}
	})
	c := f.client(other.Certificate(), allowed.Certificate())
	if _, err := c.Get(other.URL); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("CONNECT to a denied host: %v", err)
	}
	resp, body := get(t, c, plainSrv.URL)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "egress to") {
		t.Errorf("plain HTTP to a denied host: %d %q", resp.StatusCode, body)
	}
	if _, body := get(t, c, allowed.URL); body != "allowed" {
		t.Errorf("egress_allow host: %q", body)
	}
	// Intercepted hosts are served whatever the egress policy.
	if resp, _ := get(t, c, "https://"+regHost+"/x"); resp.StatusCode != 200 {
		t.Errorf("intercepted host under deny: %d", resp.StatusCode)
	}
}

func TestPlainHTTPForwarded(t *testing.T) {
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Proxy-Authorization")
		w.Header().Set("Content-Encoding", "identity")
		fmt.Fprint(w, "forwarded "+r.URL.Path)
	}))
	defer srv.Close()
	f := startProxy(t, nil)
	resp, body := get(t, f.client(), srv.URL+"/a/b")
	if resp.StatusCode != 200 || body != "forwarded /a/b" || gotAuth != "" {
		t.Errorf("got %d %q auth %q", resp.StatusCode, body, gotAuth)
	}
}

// TestForwardVerifiesTLS sends an absolute-form https request (no CONNECT):
// goproxy forwards it itself, and must verify the server's certificate.
func TestForwardVerifiesTLS(t *testing.T) {
	selfSigned := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") }))
	defer selfSigned.Close()
	f := startProxy(t, nil)
	conn, err := net.Dial("tcp", f.url.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s/ HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", selfSigned.URL, strings.TrimPrefix(selfSigned.URL, "https://"))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 || strings.Contains(string(b), "secret") {
		t.Errorf("forwarded to an unverifiable server: %d %q", resp.StatusCode, b)
	}
}

func TestHostMismatchInTunnel(t *testing.T) {
	f := startProxy(t, nil)
	roots := x509.NewCertPool()
	roots.AddCert(f.ca.Certificate())
	conn, err := net.Dial("tcp", f.url.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n", regHost, regHost)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	tc := tls.Client(conn, &tls.Config{RootCAs: roots, ServerName: regHost})
	fmt.Fprintf(tc, "GET / HTTP/1.1\r\nHost: elsewhere.example.invalid\r\nConnection: close\r\n\r\n")
	resp, err = http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("got %d, want 421", resp.StatusCode)
	}
	if s := f.seen.get(); s.host != "" {
		t.Errorf("handler saw a misdirected request: %+v", s)
	}
}

func TestClientAllowList(t *testing.T) {
	f := startProxy(t, func(o *Options) { o.AllowClients = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} })
	c := f.client()
	resp, body := get(t, c, "http://"+regHost+"/x")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "allow_clients") {
		t.Errorf("plain: %d %q", resp.StatusCode, body)
	}
	if _, err := c.Get("https://" + regHost + "/x"); err == nil {
		t.Error("CONNECT from a client outside allow_clients succeeded")
	}
	if s := f.seen.get(); s.host != "" {
		t.Errorf("handler reached: %+v", s)
	}
}

func TestNotAProxyRequest(t *testing.T) {
	f := startProxy(t, nil)
	resp, err := http.Get(f.url.String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "HTTPS_PROXY") {
		t.Errorf("got %d %q", resp.StatusCode, b)
	}
}

func TestShutdownClosesTunnels(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	c, _ := ca.Init(t.TempDir())
	p, err := New(Options{CA: c, Intercept: HostMatcher(nil), Handler: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	pln, _ := net.Listen("tcp", "127.0.0.1:0")
	done := make(chan error, 1)
	go func() { done <- p.Serve(pln) }()
	conn, err := net.Dial("tcp", pln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", ln.Addr(), ln.Addr())
	br := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		t.Errorf("tunnel still open after Shutdown: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestCheckListen(t *testing.T) {
	some := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		addr  string
		allow []netip.Prefix
		open  bool
	}{
		{"127.0.0.1:7879", nil, false},
		{"[::1]:7879", nil, false},
		{"localhost:7879", nil, false},
		{"127.0.0.2:7879", nil, false},
		{"0.0.0.0:7879", nil, true},
		{":7879", nil, true},
		{"[::]:7879", nil, true},
		{"192.0.2.10:7879", nil, true},
		{"0.0.0.0:7879", some, false},
	}
	for _, c := range cases {
		err := CheckListen(c.addr, c.allow)
		if got := errors.Is(err, ErrOpenProxy); got != c.open {
			t.Errorf("CheckListen(%q, %v) = %v, want open=%v", c.addr, c.allow, err, c.open)
		}
	}
	// Serve refuses too, before accepting anything.
	cc, _ := ca.Init(t.TempDir())
	p, _ := New(Options{CA: cc, Intercept: HostMatcher(nil), Handler: http.NotFoundHandler()})
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	if err := p.Serve(ln); !errors.Is(err, ErrOpenProxy) {
		t.Errorf("Serve on 0.0.0.0: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	cc, _ := ca.Init(t.TempDir())
	base := Options{CA: cc, Intercept: HostMatcher(nil), Handler: http.NotFoundHandler()}
	for name, mod := range map[string]func(o *Options){
		"no CA":        func(o *Options) { o.CA = nil },
		"no handler":   func(o *Options) { o.Handler = nil },
		"no intercept": func(o *Options) { o.Intercept = nil },
		"bad egress":   func(o *Options) { o.Egress = "open" },
		"bad glob":     func(o *Options) { o.EgressAllow = []string{"[a-"} },
	} {
		o := base
		mod(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
