package proxy

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/audit"
	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/internal/testutil/npmfake"
	"github.com/moatproject/moat/internal/testutil/pypifake"
	"github.com/moatproject/moat/policy"
)

// benchGet fetches path through the real HTTP stack and drains the body.
func benchGet(b *testing.B, client *http.Client, url string, hdr ...string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
	b.SetBytes(n)
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// BenchmarkNPMTarballWarm: a cached, scanned, allowed tarball (200 KB).
func BenchmarkNPMTarballWarm(b *testing.B) {
	h := newHarness(b)
	big := make([]byte, 200<<10)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	h.npm.Add("warm", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": string(big)}})
	c := benchClient()
	url := h.http.URL + "/npm/warm/-/warm-1.0.0.tgz"
	benchGet(b, c, url)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, url)
		}
	})
}

// BenchmarkNPMPackumentWarm: a cached packument with 300 versions, rewritten.
func BenchmarkNPMPackumentWarm(b *testing.B) {
	h := newHarness(b)
	for i := 0; i < 300; i++ {
		h.npm.Add("many", npmfake.Version{Version: fmt.Sprintf("1.0.%d", i), Files: map[string]string{"index.js": "x"}})
	}
	c := benchClient()
	url := h.http.URL + "/npm/many"
	benchGet(b, c, url, "Accept", npmAbbrevAccept)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, url, "Accept", npmAbbrevAccept)
		}
	})
}

// BenchmarkPyPIFileWarm: a cached, scanned, allowed wheel.
func BenchmarkPyPIFileWarm(b *testing.B) {
	h := newHarness(b)
	fn, data, _ := pypifake.Wheel("warmpkg", "1.0.0", map[string]string{"warmpkg/__init__.py": "X = 1\n"})
	h.pypi.Add("warmpkg", &pypifake.File{Filename: fn, Data: data})
	c := benchClient()
	url := h.http.URL + "/pypi/files/warmpkg/" + fn
	benchGet(b, c, url)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, url)
		}
	})
}

// BenchmarkPyPIIndexWarm: a cached project page with 2,000 files,
// filtered and rendered per request in the form pip asks for.
func BenchmarkPyPIIndexWarm(b *testing.B) {
	h := newHarness(b)
	fn, data, _ := pypifake.Wheel("bigproj", "1.0.0", map[string]string{"bigproj/__init__.py": "X = 1\n"})
	for i := 0; i < 2000; i++ {
		name := fmt.Sprintf("bigproj-1.%d.%d-py3-none-any.whl", i/100, i%100)
		if i == 0 {
			name = fn
		}
		h.pypi.Add("bigproj", &pypifake.File{Filename: name, Data: data})
	}
	c := benchClient()
	url := h.http.URL + "/pypi/simple/bigproj/"
	accept := "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
	benchGet(b, c, url, "Accept", accept)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchGet(b, c, url, "Accept", accept)
	}
}

// newServedHarness is newHarness wired like `moat serve`: an audit log on
// disk, Prometheus metrics and kept-open blob files, so the warm
// benchmarks below measure every per-request cost of the artifact path.
func newServedHarness(b *testing.B) *harness {
	b.Helper()
	dir := b.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	al, err := audit.Open(dir, audit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { al.Close() })
	eng, err := policy.New(policy.Default(), policy.Deps{Overrides: st, Feed: st.PolicyFeed()})
	if err != nil {
		b.Fatal(err)
	}
	h := &harness{npm: npmfake.New(), pypi: pypifake.New(), scanner: &fakeScanner{}, store: st}
	b.Cleanup(h.npm.Close)
	b.Cleanup(h.pypi.Close)
	client, err := NewUpstreamClient("", "")
	if err != nil {
		b.Fatal(err)
	}
	h.srv, err = New(Options{
		Store: st, Scanner: h.scanner, Policy: eng, Audit: al, Metrics: NewMetrics(), Client: client,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		NPMUpstream: h.npm.URL(), PyPIUpstream: h.pypi.URL(),
		MetadataMaxAge: time.Hour, MetaTimeout: 5 * time.Second, MaxMetaBytes: 64 << 20,
		MaxArtifact: 64 << 20, FetchTimeout: 5 * time.Second, ScanWorkers: 2, OpenBlobs: DefaultOpenBlobs,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.srv.Close() })
	h.http = httptest.NewUnstartedServer(h.srv)
	h.http.Config.ConnContext = ConnContext // as cmd/moat serves it
	h.http.Start()
	b.Cleanup(h.http.Close)
	return h
}

// warmTarballs publishes n packages with an incompressible ~size-byte
// file each, fetches every tarball once through moat (fetch, verify,
// store, scan) and returns their paths.
func warmTarballs(b *testing.B, h *harness, n, size int) []string {
	b.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	c := benchClient()
	paths := make([]string, n)
	for i := range paths {
		buf := make([]byte, size)
		for j := range buf {
			buf[j] = byte(rnd.Uint32())
		}
		name := fmt.Sprintf("warm-%d", i)
		h.npm.Add(name, npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": string(buf)}})
		paths[i] = "/npm/" + name + "/-/" + name + "-1.0.0.tgz"
		benchGet(b, c, h.http.URL+paths[i])
	}
	return paths
}

// BenchmarkNPMTarballWarmServed: 64 cached, scanned, allowed tarballs
// (~16 KB) through the real HTTP stack with the audit log and metrics on,
// the shape of bench/throughput.sh.
func BenchmarkNPMTarballWarmServed(b *testing.B) {
	h := newServedHarness(b)
	paths := warmTarballs(b, h, 64, 16<<10)
	c := benchClient()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, h.http.URL+paths[next.Add(1)%int64(len(paths))])
		}
	})
}

// BenchmarkNPMTarballWarmHandler: the same warm path without the network
// and the client, calling the server's handler directly: moat's own CPU
// and allocations per request.
func BenchmarkNPMTarballWarmHandler(b *testing.B) {
	h := newServedHarness(b)
	paths := warmTarballs(b, h, 64, 16<<10)
	reqs := make([]*http.Request, len(paths))
	for i, p := range paths {
		reqs[i] = httptest.NewRequest(http.MethodGet, p, nil)
		reqs[i].RemoteAddr = "192.0.2.1:4321"
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			w.code = 0
			h.srv.ServeHTTP(w, reqs[next.Add(1)%int64(len(reqs))])
			if w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
		}
	})
}

// discardWriter is a ResponseWriter that drops the body (through
// ReadFrom, as the server's sendfile path would take it).
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}
func (w *discardWriter) ReadFrom(r io.Reader) (int64, error) {
	w.WriteHeader(http.StatusOK)
	return io.Copy(io.Discard, r)
}
