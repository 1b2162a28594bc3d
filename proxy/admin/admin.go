// Package admin owns moat's operator view: the admin API under /api/v1/
// (decisions, reports, packages, overrides, stats, feeds), the status page
// at / and the report pages under /reports/. It is an http.Handler that the
// proxy server mounts on those prefixes; it reads the store and the audit
// log through the small Store and Audit interfaces below.
//
// Reads are open (the registry listener is loopback by default); writes
// (POST, DELETE) require "Authorization: Bearer <token>", where the token
// is the content of <data dir>/admin.token (see LoadOrCreateToken).
//
// Package content is hostile: every string that reaches a page (names,
// reasons, snippets, file paths) goes through html/template's contextual
// escaping, and pages load no external assets.
package admin

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/moatproject/moat/internal/audit"
	"github.com/moatproject/moat/internal/feed"
	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

// Store is what the admin handler needs from moat's store; *store.Store
// implements it.
type Store interface {
	ReportsBySHA(ctx context.Context, sha256 string) ([]*scan.Report, error)
	FindReports(ctx context.Context, eco scan.Ecosystem, name, version string) ([]*scan.Report, error)
	ListOverrides(ctx context.Context) ([]policy.Rule, error)
	PutOverride(ctx context.Context, r policy.Rule) (policy.Rule, error)
	DeleteOverride(ctx context.Context, id string) error
	Stats(ctx context.Context) (store.Stats, error)
	FeedSources(ctx context.Context) ([]store.FeedSource, error)
	PutFeedRecords(ctx context.Context, source string, recs []feed.Record) error
}

// Audit reads recent decisions; *audit.Log implements it.
type Audit interface {
	Recent(ctx context.Context, n int, f audit.Filter) ([]audit.Entry, error)
}

// Options configure New.
type Options struct {
	Store Store // required
	Audit Audit // required
	// Token is the bearer token that write requests must carry (required;
	// see LoadOrCreateToken).
	Token string
	// Version is moat's version, shown on the pages.
	Version string
	// PolicyMode is the configured policy mode (enforce, warn, audit),
	// shown on the status page.
	PolicyMode string
	Logger     *slog.Logger
	// MaxFeedBytes caps the body of POST /api/v1/feeds/{source}
	// (default DefaultMaxFeedBytes).
	MaxFeedBytes int64
	// Now is the clock of the status page charts (default time.Now).
	Now func() time.Time
}

// Limits and defaults.
const (
	DefaultMaxFeedBytes = 512 << 20
	maxOverrideBytes    = 64 << 10
	defaultListLimit    = 50
	maxListLimit        = 1000
	// statsWindow is how many audit entries (newest first) the stats and
	// the status page summarise.
	statsWindow = 10000

	apiCatchAll = "/api/v1/"
)

// Sentinel errors of New.
var (
	ErrNoToken = errors.New("admin: a write token is required")
	ErrNoStore = errors.New("admin: Store and Audit are required")
)

// Admin serves the admin API and the operator pages.
type Admin struct {
	o     Options
	mux   *http.ServeMux
	pages *template.Template
}

//go:embed templates/*.html
var templateFS embed.FS

// New builds the handler.
func New(o Options) (*Admin, error) {
	if o.Store == nil || o.Audit == nil {
		return nil, ErrNoStore
	}
	if o.Token == "" {
		return nil, ErrNoToken
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxFeedBytes <= 0 {
		o.MaxFeedBytes = DefaultMaxFeedBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	pages, err := template.New("").Funcs(templateFuncs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("admin: templates: %w", err)
	}
	a := &Admin{o: o, mux: http.NewServeMux(), pages: pages}

	a.mux.HandleFunc("GET /api/v1/decisions", a.listDecisions)
	a.mux.HandleFunc("GET /api/v1/reports/{sha256}", a.getReport)
	a.mux.HandleFunc("GET /api/v1/packages/{ecosystem}/{name...}", a.getPackage)
	a.mux.HandleFunc("GET /api/v1/overrides", a.listOverrides)
	a.mux.HandleFunc("GET /api/v1/overrides/{id}", a.getOverride)
	a.mux.Handle("POST /api/v1/overrides", a.authorized(a.putOverride))
	a.mux.Handle("DELETE /api/v1/overrides/{id}", a.authorized(a.deleteOverride))
	a.mux.HandleFunc("GET /api/v1/stats", a.getStats)
	a.mux.HandleFunc("GET /api/v1/feeds", a.listFeeds)
	a.mux.Handle("POST /api/v1/feeds/{source}", a.authorized(a.putFeed))
	a.mux.HandleFunc(apiCatchAll, a.apiNotFound)
	a.mux.HandleFunc("GET /reports/{sha256}", a.reportPage)
	a.mux.HandleFunc("GET /{$}", a.statusPage)
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		// Pages: no script, no external anything; inline styles only.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
	}
	a.mux.ServeHTTP(w, r)
}

// apiNotFound answers API paths no route takes: 405 with Allow when the path
// exists for other methods, else 404, both as JSON.
func (a *Admin) apiNotFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "" && pattern != apiCatchAll {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
		return
	}
	writeError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path)
}

// authorized wraps a write handler with the bearer-token check.
func (a *Admin) authorized(next http.HandlerFunc) http.Handler {
	want := []byte(a.o.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="moat admin"`)
			writeError(w, http.StatusUnauthorized, "admin writes need 'Authorization: Bearer <token>' (the token is in <data dir>/admin.token)")
			return
		}
		next(w, r)
	})
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// apiError is the JSON body of every API error.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// statusFor maps an error from the store or audit log to an HTTP status:
// the one place where error kinds become statuses in this package.
func statusFor(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrInvalid), errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, context.Canceled):
		return 499
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	default:
		return http.StatusInternalServerError
	}
}

// errBadRequest marks a request the client must fix.
var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// fail answers err as JSON, logging server-side failures.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusFor(err)
	if code >= 500 {
		a.o.Logger.Error("admin API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	msg := err.Error()
	if errors.Is(err, errBadRequest) {
		msg = strings.TrimPrefix(msg, errBadRequest.Error()+": ")
	}
	writeError(w, code, msg)
}
