package proxy

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/testutil/npmfake"
	"github.com/moatproject/moat/internal/testutil/pypifake"
)

func TestConcurrentRequestsFetchAndScanOnce(t *testing.T) {
	h := newHarness(t)
	h.scanner.delay = 50 * time.Millisecond
	v := h.npm.Add("busy", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "module.exports = 1;\n"}})
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(h.http.URL + "/npm/busy/-/busy-1.0.0.tgz")
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			if resp.StatusCode != 200 || !bytes.Equal(b.Bytes(), v.Tarball) {
				errs <- fmt.Errorf("status %d, %d bytes", resp.StatusCode, b.Len())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := h.npm.Hits("/busy/-/busy-1.0.0.tgz"); got != 1 {
		t.Errorf("upstream tarball fetched %d times, want 1", got)
	}
	if got := h.scanner.scans.Load(); got != 1 {
		t.Errorf("scanned %d times, want 1", got)
	}
}

// TestTimedOutScanIsNotStored: a scan that ran out of time is run once more
// for the client waiting on it; when that one times out too the request is
// refused (on_scan_error: block), and the next request scans again rather
// than being refused from a stored error.
func TestTimedOutScanIsNotStored(t *testing.T) {
	h := newHarness(t)
	h.scanner.timeouts.Store(2)
	v := npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}}
	h.npm.Add("slowpkg", v)
	code, body := h.get(t, "/npm/slowpkg/-/slowpkg-1.0.0.tgz")
	if code != http.StatusForbidden || !bytes.Contains(body, []byte("could not be scanned")) {
		t.Fatalf("first request: %d %.200q", code, body)
	}
	if got := h.scanner.scans.Load(); got != 2 {
		t.Errorf("first request scanned %d times, want 2 (one retry)", got)
	}
	code, _ = h.get(t, "/npm/slowpkg/-/slowpkg-1.0.0.tgz")
	if code != http.StatusOK {
		t.Fatalf("second request: %d, want 200 after a fresh scan", code)
	}
	if got := h.scanner.scans.Load(); got != 3 {
		t.Errorf("scanned %d times, want 3", got)
	}
}

// TestTimedOutScanRetriedForClient: one timeout (a loaded machine) costs the
// waiting client a second scan, not a refusal.
func TestTimedOutScanRetriedForClient(t *testing.T) {
	h := newHarness(t)
	h.scanner.timeouts.Store(1)
	h.npm.Add("loaded", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}})
	code, body := h.get(t, "/npm/loaded/-/loaded-1.0.0.tgz")
	if code != http.StatusOK {
		t.Fatalf("request: %d %.200q, want 200 after the retry", code, body)
	}
	if got := h.scanner.scans.Load(); got != 2 {
		t.Errorf("scanned %d times, want 2", got)
	}
}

func TestBlockedIsNeverServedFromCache(t *testing.T) {
	h := newHarness(t)
	h.npm.Add("pkg-evil", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}})
	for i := 0; i < 3; i++ {
		code, body := h.get(t, "/npm/pkg-evil/-/pkg-evil-1.0.0.tgz")
		if code != http.StatusForbidden || !bytes.Contains(body, []byte("moat blocked pkg-evil@1.0.0")) {
			t.Fatalf("attempt %d: %d %s", i, code, body)
		}
	}
	if got := h.scanner.scans.Load(); got != 1 {
		t.Errorf("scanned %d times, want 1 (the report is cached, the decision is not)", got)
	}
	// Already scanned and blocked: hidden from the packument.
	_, body := h.get(t, "/npm/pkg-evil")
	if bytes.Contains(body, []byte(`"1.0.0"`)) {
		t.Errorf("blocked version still listed: %s", body)
	}
}

func TestClientGivingUpDoesNotAbortTheFetch(t *testing.T) {
	h := newHarness(t)
	h.npm.SlowDelay = 300 * time.Millisecond
	h.npm.Add("slowpkg", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}, Fault: npmfake.FaultSlow})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.http.URL+"/npm/slowpkg/-/slowpkg-1.0.0.tgz", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("request finished despite the client timeout: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.scanner.scans.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	code, _ := h.get(t, "/npm/slowpkg/-/slowpkg-1.0.0.tgz")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if got := h.npm.Hits("/slowpkg/-/slowpkg-1.0.0.tgz"); got != 1 {
		t.Errorf("upstream fetched %d times, want 1: the detached fetch should have been reused", got)
	}
}

func TestInterceptedRoutes(t *testing.T) {
	h := newHarness(t)
	v := h.npm.Add("plain", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}})
	fn, data, _ := pypifake.Wheel("wheelpkg", "1.0.0", map[string]string{"wheelpkg/__init__.py": "X = 1\n"})
	h.pypi.Add("wheelpkg", &pypifake.File{Filename: fn, Data: data})
	serve := func(host, path string) (int, []byte) {
		req := httptestRequest(host, path)
		rec := newRecorder()
		h.srv.ServeIntercepted(rec, req)
		return rec.code, rec.body.Bytes()
	}
	npmHost := h.npm.Server.Listener.Addr().String()
	code, body := serve(npmHost, "/plain")
	if code != 200 || !bytes.Contains(body, []byte("http://"+npmHost+"/plain/-/plain-1.0.0.tgz")) {
		t.Errorf("packument via interception: %d, tarball URLs should stay on the registry host: %s", code, body)
	}
	code, body = serve(npmHost, "/plain/-/plain-1.0.0.tgz")
	if code != 200 || !bytes.Equal(body, v.Tarball) {
		t.Errorf("tarball via interception: %d", code)
	}
	pyHost := h.pypi.Server.Listener.Addr().String()
	code, body = serve(pyHost, "/simple/wheelpkg/")
	if code != 200 || !bytes.Contains(body, []byte("/files/"+fn)) || bytes.Contains(body, []byte("/pypi/files/")) {
		t.Errorf("index via interception should keep upstream file URLs: %d %s", code, body)
	}
	code, body = serve(pyHost, "/files/"+fn)
	if code != 200 || !bytes.Equal(body, data) {
		t.Errorf("file via interception: %d", code)
	}
	code, _ = serve("elsewhere.invalid", "/x")
	if code != http.StatusBadGateway {
		t.Errorf("unknown host: %d", code)
	}
}
