package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/internal/testutil/npmfake"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

// countingStore counts the store reads the warm path should not need.
type countingStore struct {
	*store.Store
	finds, has atomic.Int64
}

func (s *countingStore) FindArtifact(ctx context.Context, eco scan.Ecosystem, name, filename string) (*store.Artifact, error) {
	s.finds.Add(1)
	return s.Store.FindArtifact(ctx, eco, name, filename)
}

func (s *countingStore) HasBlob(ctx context.Context, sha string) bool {
	s.has.Add(1)
	return s.Store.HasBlob(ctx, sha)
}

func indexGate(t *testing.T, h *harness) (*Gate, *countingStore) {
	t.Helper()
	eng, err := policy.New(policy.Default(), policy.Deps{Overrides: h.store, Feed: h.store.PolicyFeed()})
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: h.store}
	g := NewGate(GateOptions{Store: cs, Scanner: h.scanner, Policy: eng, Client: http.DefaultClient,
		Verifiers: map[scan.Ecosystem]NewVerifierFunc{scan.NPM: npmVerifier}})
	return g, cs
}

func npmArtifact(h *harness, name string, v *npmfake.Version, filename string) Artifact {
	return Artifact{Ecosystem: scan.NPM, Name: name, Version: v.Version, Filename: filename,
		URL: h.npm.URL() + name + "/-/" + name + "-" + v.Version + ".tgz", Integrity: v.Integrity, Shasum: v.Shasum}
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// The warm path answers from the artifact index: no record lookup, no stat.
func TestWarmPathUsesArtifactIndex(t *testing.T) {
	h := newHarness(t)
	g, cs := indexGate(t, h)
	v := h.npm.Add("idx", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}})
	a := npmArtifact(h, "idx", v, "idx-1.0.0.tgz")
	ctx := context.Background()
	out, err := g.Check(ctx, a, "test")
	if err != nil || out.Cached {
		t.Fatalf("first check: %+v %v", out, err)
	}
	finds, has := cs.finds.Load(), cs.has.Load()
	for range 3 {
		out, err = g.Check(ctx, a, "test")
		if err != nil || !out.Cached || out.SHA256 != sha256Hex(v.Tarball) {
			t.Fatalf("warm check: %+v %v", out, err)
		}
	}
	if cs.finds.Load() != finds || cs.has.Load() != has {
		t.Errorf("warm checks read the store: FindArtifact %d→%d, HasBlob %d→%d", finds, cs.finds.Load(), has, cs.has.Load())
	}
	// A fresh gate (a restart) fills the index from the store once.
	g2, cs2 := indexGate(t, h)
	for range 3 {
		if out, err := g2.Check(ctx, a, "test"); err != nil || !out.Cached {
			t.Fatalf("after restart: %+v %v", out, err)
		}
	}
	if cs2.finds.Load() != 1 || cs2.has.Load() != 1 {
		t.Errorf("after restart: FindArtifact %d, HasBlob %d, want 1 each", cs2.finds.Load(), cs2.has.Load())
	}
	if got := h.npm.Hits("/idx/-/idx-1.0.0.tgz"); got != 1 {
		t.Errorf("upstream fetched %d times, want 1", got)
	}
}

// A file republished under the same name (other hashes in the metadata)
// is not answered from the index: it is fetched, verified and stored anew.
func TestArtifactIndexHonoursNewHashes(t *testing.T) {
	h := newHarness(t)
	g, _ := indexGate(t, h)
	v1 := h.npm.Add("repub", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "one"}})
	v2 := h.npm.Add("repub", npmfake.Version{Version: "2.0.0", Files: map[string]string{"index.js": "two"}})
	ctx := context.Background()
	out, err := g.Check(ctx, npmArtifact(h, "repub", v1, "repub.tgz"), "test")
	if err != nil || out.SHA256 != sha256Hex(v1.Tarball) {
		t.Fatalf("v1: %+v %v", out, err)
	}
	out, err = g.Check(ctx, npmArtifact(h, "repub", v2, "repub.tgz"), "test")
	if err != nil || out.Cached || out.SHA256 != sha256Hex(v2.Tarball) {
		t.Fatalf("republished: %+v %v", out, err)
	}
	out, err = g.Check(ctx, npmArtifact(h, "repub", v2, "repub.tgz"), "test")
	if err != nil || !out.Cached || out.SHA256 != sha256Hex(v2.Tarball) {
		t.Fatalf("republished, warm: %+v %v", out, err)
	}
}

// A blob removed behind moat's back after the index vouched for it is
// fetched and verified again, not answered with an error, and never
// served from anything but the verified content.
func TestVanishedBlobIsFetchedAgain(t *testing.T) {
	for _, open := range []int{0, 8} {
		t.Run("open blobs "+strconv.Itoa(open), func(t *testing.T) { testVanishedBlob(t, open) })
	}
}

func testVanishedBlob(t *testing.T, openBlobs int) {
	h := newHarness(t)
	h.srv.gate.files = newBlobFiles(openBlobs)
	t.Cleanup(func() { h.srv.Close() })
	v := h.npm.Add("gone", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}})
	const p = "/npm/gone/-/gone-1.0.0.tgz"
	if code, body := h.get(t, p); code != 200 || !bytes.Equal(body, v.Tarball) {
		t.Fatalf("cold: %d", code)
	}
	if code, _ := h.get(t, p); code != 200 { // warm: now in the index
		t.Fatalf("warm: %d", code)
	}
	if err := h.store.DeleteBlob(context.Background(), sha256Hex(v.Tarball)); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if code, body := h.get(t, p); code != 200 || !bytes.Equal(body, v.Tarball) {
			t.Fatalf("after delete, request %d: %d %d bytes", i, code, len(body))
		}
	}
	if got := h.npm.Hits("/gone/-/gone-1.0.0.tgz"); got != 2 {
		t.Errorf("upstream fetched %d times, want 2", got)
	}
	if got := h.scanner.scans.Load(); got != 1 {
		t.Errorf("scanned %d times, want 1 (same content, same report)", got)
	}
}

// Serve: a plain GET carries Content-Length and the decision headers;
// ranges, conditional requests and HEAD keep http.ServeContent's answers.
func TestServeHeadersRangesAndConditionals(t *testing.T) {
	h := newHarness(t)
	v := h.npm.Add("hdrs", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "some content"}})
	do := func(method string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		return h.do(t, method, "/npm/hdrs/-/hdrs-1.0.0.tgz", hdr...)
	}
	etag := `"` + sha256Hex(v.Tarball) + `"`
	for i := range 2 { // cold, then warm
		resp, body := do(http.MethodGet)
		if resp.StatusCode != 200 || !bytes.Equal(body, v.Tarball) ||
			resp.Header.Get("Content-Length") != strconv.Itoa(len(v.Tarball)) || resp.Header.Get("ETag") != etag ||
			resp.Header.Get("X-Moat-Decision") != "allow" || resp.Header.Get("Accept-Ranges") != "bytes" ||
			resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("GET %d: %d %v", i, resp.StatusCode, resp.Header)
		}
	}
	resp, body := do(http.MethodGet, "Range", "bytes=0-9")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, v.Tarball[:10]) {
		t.Errorf("range: %d %d bytes", resp.StatusCode, len(body))
	}
	resp, _ = do(http.MethodGet, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", resp.StatusCode)
	}
	resp, body = do(http.MethodHead)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(v.Tarball)) {
		t.Errorf("HEAD: %d %d %d", resp.StatusCode, len(body), resp.ContentLength)
	}
}

// Kept-open blob files: reused (the same descriptor, rewound) for the next
// request of the same blob, bounded, and released by Close.
func TestOpenBlobsReuseAndClose(t *testing.T) {
	h := newHarness(t)
	h.srv.gate.files = newBlobFiles(2)
	var vs []*npmfake.Version
	for _, n := range []string{"ob-a", "ob-b", "ob-c"} {
		vs = append(vs, h.npm.Add(n, npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": n}}))
	}
	for round := range 3 {
		for i, n := range []string{"ob-a", "ob-b", "ob-c"} {
			if code, body := h.get(t, "/npm/"+n+"/-/"+n+"-1.0.0.tgz"); code != 200 || !bytes.Equal(body, vs[i].Tarball) {
				t.Fatalf("round %d %s: %d", round, n, code)
			}
		}
	}
	// Ranges read from a rewound file too.
	req, _ := http.NewRequest(http.MethodGet, h.http.URL+"/npm/ob-a/-/ob-a-1.0.0.tgz", nil)
	req.Header.Set("Range", "bytes=5-14")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, vs[0].Tarball[5:15]) {
		t.Fatalf("range after reuse: %d %q", resp.StatusCode, b)
	}
	f := h.srv.gate.files
	f.mu.Lock()
	n := f.n
	f.mu.Unlock()
	if n != 2 {
		t.Errorf("%d idle files kept, want the bound 2", n)
	}
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if code, _ := h.get(t, "/npm/ob-b/-/ob-b-1.0.0.tgz"); code != 200 {
		t.Fatalf("after Close: %d", code)
	}
	f.mu.Lock()
	n = f.n
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("%d idle files kept after Close", n)
	}
}
