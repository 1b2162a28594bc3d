package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/internal/testutil/npmfake"
	"github.com/moatproject/moat/internal/testutil/pypifake"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

// fakeScanner judges by file name: anything containing "evil" is malicious.
// It counts scans and can be slowed down.
type fakeScanner struct {
	scans atomic.Int64
	delay time.Duration
	// timeouts makes the first scans (this many) report a timeout.
	timeouts atomic.Int64
}

func (f *fakeScanner) Version() string { return "fake/1" }

func (f *fakeScanner) Scan(ctx context.Context, in scan.Input) *scan.Report {
	f.scans.Add(1)
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	r := &scan.Report{Ecosystem: in.Ecosystem, Name: in.Name, Version: in.Version, SHA256: in.SHA256, Verdict: scan.VerdictClean, Threshold: 0.5, ScannerVersion: f.Version()}
	if f.timeouts.Add(-1) >= 0 {
		r.Verdict, r.Error, r.ErrorKind = scan.VerdictError, "scan timed out after 20s", scan.KindTimeout
		return r
	}
	if len(in.Data) > 0 && strings.Contains(in.Filename, "evil") {
		r.Verdict, r.Score = scan.VerdictMalicious, 0.99
	}
	return r
}

type harness struct {
	srv     *Server
	http    *httptest.Server
	npm     *npmfake.Registry
	pypi    *pypifake.Index
	scanner *fakeScanner
	store   *store.Store
}

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	st, err := store.Open(tb.TempDir(), store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	h := &harness{npm: npmfake.New(), pypi: pypifake.New(), scanner: &fakeScanner{}, store: st}
	tb.Cleanup(h.npm.Close)
	tb.Cleanup(h.pypi.Close)
	h.start(tb)
	return h
}

// start serves a new Server on the harness's store and upstreams (a
// restart, after the previous one was closed).
func (h *harness) start(tb testing.TB) {
	tb.Helper()
	eng, err := policy.New(policy.Default(), policy.Deps{Overrides: h.store, Feed: h.store.PolicyFeed()})
	if err != nil {
		tb.Fatal(err)
	}
	client, err := NewUpstreamClient("", "")
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := New(Options{
		Store: h.store, Scanner: h.scanner, Policy: eng, Client: client,
		NPMUpstream: h.npm.URL(), PyPIUpstream: h.pypi.URL(),
		MetadataMaxAge: time.Minute, MetaTimeout: 5 * time.Second, MaxMetaBytes: 64 << 20,
		MaxArtifact: 64 << 20, FetchTimeout: 5 * time.Second, ScanWorkers: 2,
	})
	if err != nil {
		tb.Fatal(err)
	}
	h.srv = srv
	tb.Cleanup(func() { srv.Close() }) // before the store closes: cleanups run last first
	h.http = httptest.NewUnstartedServer(srv)
	h.http.Config.ConnContext = ConnContext // as cmd/moat serves it
	h.http.Start()
	tb.Cleanup(h.http.Close)
}

func (h *harness) get(tb testing.TB, path string, hdr ...string) (int, []byte) {
	tb.Helper()
	resp, b := h.do(tb, http.MethodGet, path, hdr...)
	return resp.StatusCode, b
}

// do sends a method request for path with header name/value pairs and
// returns the response (body closed) and its body.
func (h *harness) do(tb testing.TB, method, path string, hdr ...string) (*http.Response, []byte) {
	tb.Helper()
	req, _ := http.NewRequest(method, h.http.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, b
}
