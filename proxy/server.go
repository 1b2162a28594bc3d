// Package proxy owns moat's HTTP surface: the npm registry root (/npm/),
// the PyPI simple index (/pypi/), the admin API (/api/v1/), /healthz,
// /metrics, and the artifact gate that every mode shares. Protocol grammar
// lives in proxy/npm and proxy/pypi; storage, scanning and policy come in
// through small interfaces defined here.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/scan"
)

// Store is everything the server needs from moat's store.
type Store interface {
	GateStore
	MetaStore
}

// Options configures a Server.
type Options struct {
	Store   Store
	Scanner Scanner
	Policy  Decider
	Audit   Auditor
	Client  *http.Client // upstream client (verified TLS)
	Logger  *slog.Logger
	Metrics *Metrics
	// Admin serves /api/v1/, /reports/ and the status page at /.
	Admin http.Handler

	NPMUpstream    string // registry root URL
	NPMToken       string
	NPMPrefetch    int    // concurrent tarball prefetches; 0: off
	PyPIUpstream   string // simple index root URL
	PublicURL      string // "" = from each request's Host
	MetadataMaxAge time.Duration
	MetaTimeout    time.Duration
	MaxMetaBytes   int64
	MaxArtifact    int64
	FetchTimeout   time.Duration
	ScanWorkers    int
	// NeedPublishTimes: policy enforces a release age, so npm metadata is
	// always fetched in full form (the abbreviated one has no "time").
	NeedPublishTimes bool
	// AllowMissingPyPIHash serves PyPI files whose index entry has no hash.
	AllowMissingPyPIHash bool
	Version              string
	// OpenBlobs is how many served artifact files to keep open for reuse
	// (0: none; moat serve keeps DefaultOpenBlobs). Close releases them.
	OpenBlobs int
}

// DefaultOpenBlobs is the OpenBlobs moat serve uses.
const DefaultOpenBlobs = 512

// Server is moat's registry-mode HTTP handler.
type Server struct {
	o    Options
	mux  *http.ServeMux
	gate *Gate
	meta *metaFetcher
	npm  *npmHandler
	pypi *pypiHandler
}

type baseURLFunc func(r *http.Request) string

// New builds the server and its routes.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	npmUp, err := parseRoot(o.NPMUpstream)
	if err != nil {
		return nil, fmt.Errorf("npm upstream: %w", err)
	}
	pypiUp, err := parseRoot(o.PyPIUpstream)
	if err != nil {
		return nil, fmt.Errorf("pypi upstream: %w", err)
	}
	s := &Server{o: o, mux: http.NewServeMux()}
	s.gate = NewGate(GateOptions{
		Store: o.Store, Scanner: o.Scanner, Policy: o.Policy, Audit: o.Audit, Client: o.Client,
		Verifiers:       map[scan.Ecosystem]NewVerifierFunc{scan.NPM: npmVerifier, scan.PyPI: pypiVerifier},
		AllowMissingSum: map[scan.Ecosystem]bool{scan.PyPI: o.AllowMissingPyPIHash},
		MaxBytes:        o.MaxArtifact, FetchTimeout: o.FetchTimeout, ScanWorkers: o.ScanWorkers,
		Logger: o.Logger, Metrics: o.Metrics, OpenBlobs: o.OpenBlobs,
	})
	meta := newMetaFetcher(o.Store, o.Client, o.MetadataMaxAge, o.MetaTimeout, o.MaxMetaBytes, o.Logger, o.Metrics)
	s.meta = meta
	s.npm = newNPMHandler(npmUp, o.NPMToken, meta, s.gate, o.Policy, s.baseURL, o.NeedPublishTimes, o.Client, o.Logger)
	if o.NPMPrefetch > 0 {
		s.npm.prefetch = newPrefetcher(s.gate, o.Policy, o.NPMPrefetch, o.FetchTimeout, o.Logger)
	}
	s.pypi = newPyPIHandler(pypiUp, meta, s.gate, o.Policy, s.baseURL, o.Logger)

	s.handle("/npm/", "npm", s.npm)
	s.handle("/pypi/", "pypi", s.pypi)
	s.handle("GET /healthz", "healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	}))
	if o.Metrics != nil {
		s.mux.Handle("GET /metrics", o.Metrics.Handler())
	}
	if o.Admin != nil {
		s.handle("/api/v1/", "api", o.Admin)
		s.handle("/reports/", "reports", o.Admin)
		s.handle("GET /{$}", "status", o.Admin)
	}
	return s, nil
}

// Close writes the metadata still queued for the store and releases what
// the server keeps open (Options.OpenBlobs); call it once the HTTP server
// has stopped and before the store closes.
func (s *Server) Close() error {
	s.meta.close()
	return s.gate.Close()
}

// Gate exposes the artifact gate, for transparent mode.
func (s *Server) Gate() *Gate { return s.gate }

func (s *Server) handle(pattern, route string, h http.Handler) {
	s.mux.Handle(pattern, instrument(route, s.o.Metrics, h))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// baseURL is the URL clients reach moat on, for rewritten metadata.
func (s *Server) baseURL(r *http.Request) string {
	if s.o.PublicURL != "" {
		return strings.TrimSuffix(s.o.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func parseRoot(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// statusFor maps an error to the HTTP status moat answers with: the one
// place where error kinds become statuses.
func statusFor(err error) int {
	var ue *UpstreamError
	var ie *IntegrityError
	switch {
	case errors.As(err, &ue):
		return ue.Status
	case errors.As(err, &ie):
		return http.StatusBadGateway
	case errors.Is(err, ErrNoHash):
		return http.StatusForbidden
	case errors.Is(err, context.Canceled):
		return 499 // client went away; nobody reads this
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, syscall.ENOSPC):
		return http.StatusInsufficientStorage
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	default:
		return http.StatusInternalServerError
	}
}

// blockMessage is the one-line reason clients print for a refusal.
func blockMessage(what string, out *Outcome, base string) string {
	reasons := strings.Join(out.Decision.Reasons, "; ")
	if reasons == "" {
		reasons = "refused by policy (" + out.Decision.Layer + ")"
	}
	return fmt.Sprintf("moat blocked %s: %s (report: %s/api/v1/reports/%s)", what, reasons, base, out.SHA256)
}

// clientAddr is the client's IP for the audit log.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// instrument counts requests by route and status.
func instrument(route string, m *Metrics, h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.request(route, sw.code)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ReadFrom keeps sendfile(2) for http.ServeContent on the instrumented path.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.ResponseWriter, r)
}
