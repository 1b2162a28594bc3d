package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"time"
)

// UpstreamError is a failure talking to a registry. It carries the status
// moat answers its client with (502 or 504) and a message precise enough to
// act on; Status 404 passes a registry's "not found" through.
type UpstreamError struct {
	Status int    // what moat answers: 502, 504, 404
	URL    string // the upstream URL, without credentials
	Msg    string
	Err    error
}

func (e *UpstreamError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("upstream %s: %s: %v", e.URL, e.Msg, e.Err)
	}
	return fmt.Sprintf("upstream %s: %s", e.URL, e.Msg)
}

func (e *UpstreamError) Unwrap() error { return e.Err }

// NewUpstreamClient returns the HTTP client moat uses for registries: TLS
// verified against the system roots plus the PEM bundle at caFile (if any),
// HTTP/2, bounded connection pools, and proxying per the environment unless
// parent names a proxy URL. It never follows redirects to non-HTTP(S) URLs.
func NewUpstreamClient(caFile, parent string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("upstream.ca_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("upstream.ca_file %s: no PEM certificates found", caFile)
		}
	}
	proxyFn := http.ProxyFromEnvironment
	if parent != "" {
		pu, err := url.Parse(parent)
		if err != nil {
			return nil, fmt.Errorf("proxy.parent: %w", err)
		}
		proxyFn = http.ProxyURL(pu)
	}
	tr := &http.Transport{
		Proxy:                 proxyFn,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to unsupported scheme %q", req.URL.Scheme)
			}
			return nil
		},
	}, nil
}

// classify turns a transport error into an UpstreamError.
func classify(rawURL string, err error) *UpstreamError {
	u := RedactURL(rawURL)
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &UpstreamError{Status: http.StatusGatewayTimeout, URL: u, Msg: "timed out", Err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &UpstreamError{Status: http.StatusBadGateway, URL: u, Msg: "connection refused", Err: err}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &UpstreamError{Status: http.StatusBadGateway, URL: u, Msg: "connection reset or body truncated", Err: err}
	default:
		return &UpstreamError{Status: http.StatusBadGateway, URL: u, Msg: "request failed", Err: err}
	}
}

// statusError maps an unexpected upstream status to an UpstreamError.
func statusError(rawURL string, code int) *UpstreamError {
	u := RedactURL(rawURL)
	if code == http.StatusNotFound || code == http.StatusGone {
		return &UpstreamError{Status: http.StatusNotFound, URL: u, Msg: fmt.Sprintf("not found (HTTP %d)", code)}
	}
	if code == http.StatusUnauthorized || code == http.StatusForbidden {
		return &UpstreamError{Status: http.StatusBadGateway, URL: u, Msg: fmt.Sprintf("upstream refused moat (HTTP %d): check its credentials", code)}
	}
	return &UpstreamError{Status: http.StatusBadGateway, URL: u, Msg: fmt.Sprintf("answered HTTP %d", code)}
}

// readCapped reads at most max bytes of r; more is an error (nothing partial
// is returned). A body shorter than a declared Content-Length is an error too.
func readCapped(rawURL string, resp *http.Response, max int64) ([]byte, error) {
	if resp.ContentLength > max {
		return nil, &UpstreamError{Status: http.StatusBadGateway, URL: RedactURL(rawURL), Msg: fmt.Sprintf("body of %d bytes exceeds the %d byte limit", resp.ContentLength, max)}
	}
	// A declared length sizes the buffer exactly: growing it by appends
	// would hold up to twice the body, plus the exact-size copy clipped
	// makes (a 10 MB packument cost 30 MB). Up to 32 MiB only: past that a
	// length an upstream merely claims does not reserve memory up front.
	capHint := resp.ContentLength
	if capHint < 0 || capHint > 32<<20 {
		capHint = 64 << 10
	}
	buf := make([]byte, 0, capHint+1)
	w := &sliceWriter{b: buf}
	n, err := io.Copy(w, io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, classify(rawURL, err)
	}
	if n > max {
		return nil, &UpstreamError{Status: http.StatusBadGateway, URL: RedactURL(rawURL), Msg: fmt.Sprintf("body exceeds the %d byte limit", max)}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength && !resp.Uncompressed {
		return nil, &UpstreamError{Status: http.StatusBadGateway, URL: RedactURL(rawURL), Msg: fmt.Sprintf("body truncated: got %d of %d bytes", n, resp.ContentLength)}
	}
	return clipped(w.b), nil
}

// clipped returns b, or an exact-size copy when growing it by appends left
// much unused capacity: bodies are kept in caches whose budgets count
// lengths, and a compressed upstream answer has no length to size it by.
func clipped(b []byte) []byte {
	if cap(b)-len(b) <= len(b)/8 || cap(b) <= 64<<10 {
		return b
	}
	return append(make([]byte, 0, len(b)), b...)
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// RedactURL drops credentials and the query from a URL for messages and logs.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}
