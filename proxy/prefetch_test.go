package proxy

import (
	"bytes"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/testutil/npmfake"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPrefetchWarmsPredictedTarballs(t *testing.T) {
	h := newHarness(t)
	h.srv.npm.prefetch = newPrefetcher(h.srv.gate, h.srv.o.Policy, 2, 5*time.Second, slog.New(slog.DiscardHandler))
	files := map[string]string{"index.js": "module.exports = 1;\n"}
	h.npm.Add("pf-dep", npmfake.Version{Version: "1.0.0", Files: files})
	dep15 := h.npm.Add("pf-dep", npmfake.Version{Version: "1.5.0", Files: files})
	h.npm.Add("pf-dep", npmfake.Version{Version: "2.0.0", Files: files})
	app := h.npm.Add("pf-app", npmfake.Version{Version: "1.0.0", Files: files, Deps: map[string]string{"pf-dep": "^1.0.0"}})

	// The root package: nothing asked for a range, so "latest" is predicted.
	if code, _ := h.get(t, "/npm/pf-app"); code != http.StatusOK {
		t.Fatalf("packument: %d", code)
	}
	waitFor(t, "pf-app's tarball to be prefetched and scanned", func() bool {
		return h.npm.Hits("/pf-app/-/pf-app-1.0.0.tgz") == 1 && h.scanner.scans.Load() == 1
	})
	// Its dependency: the range pf-app@1.0.0 declared picks 1.5.0, not latest.
	if code, _ := h.get(t, "/npm/pf-dep"); code != http.StatusOK {
		t.Fatalf("packument: %d", code)
	}
	waitFor(t, "pf-dep@1.5.0 to be prefetched and scanned", func() bool {
		return h.npm.Hits("/pf-dep/-/pf-dep-1.5.0.tgz") == 1 && h.scanner.scans.Load() == 2
	})
	if n := h.npm.Hits("/pf-dep/-/pf-dep-2.0.0.tgz"); n != 0 {
		t.Errorf("pf-dep@2.0.0 (outside ^1.0.0) fetched %d times", n)
	}
	// The client's own requests are served from what the prefetch stored.
	for path, want := range map[string][]byte{
		"/npm/pf-app/-/pf-app-1.0.0.tgz": app.Tarball,
		"/npm/pf-dep/-/pf-dep-1.5.0.tgz": dep15.Tarball,
	} {
		code, body := h.get(t, path)
		if code != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("%s: %d, %d bytes", path, code, len(body))
		}
	}
	if a, d := h.npm.Hits("/pf-app/-/pf-app-1.0.0.tgz"), h.npm.Hits("/pf-dep/-/pf-dep-1.5.0.tgz"); a != 1 || d != 1 {
		t.Errorf("upstream tarball fetches: app %d, dep %d; want 1 each", a, d)
	}
	if n := h.scanner.scans.Load(); n != 2 {
		t.Errorf("scans = %d, want 2", n)
	}
	// A second packument request queues nothing new.
	h.get(t, "/npm/pf-app")
	time.Sleep(100 * time.Millisecond)
	if n := h.npm.Hits("/pf-app/-/pf-app-1.0.0.tgz"); n != 1 {
		t.Errorf("re-prefetched: %d upstream fetches", n)
	}
}

func TestPrefetchNeverServesABlockedArtifact(t *testing.T) {
	h := newHarness(t)
	h.srv.npm.prefetch = newPrefetcher(h.srv.gate, h.srv.o.Policy, 2, 5*time.Second, slog.New(slog.DiscardHandler))
	h.npm.Add("pkg-evil-pf", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}})
	h.get(t, "/npm/pkg-evil-pf")
	waitFor(t, "the prefetch scan", func() bool { return h.scanner.scans.Load() == 1 })
	code, body := h.get(t, "/npm/pkg-evil-pf/-/pkg-evil-pf-1.0.0.tgz")
	if code != http.StatusForbidden || !bytes.Contains(body, []byte("moat blocked pkg-evil-pf@1.0.0")) {
		t.Fatalf("after a prefetch: %d %s", code, body)
	}
}
