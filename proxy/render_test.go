package proxy

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moatproject/moat/internal/testutil/npmfake"
)

// Renderings of small packuments are memoised; large ones are rewritten per
// request and not kept. Either way the body and its ETag are a function of
// the upstream document, the tarball base and the hidden versions.
func TestPackumentRenderMemo(t *testing.T) {
	h := newHarness(t)
	h.npm.Add("small", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}})
	deps := map[string]string{}
	for i := range 6000 {
		deps[fmt.Sprintf("dependency-with-a-rather-long-name-%04d", i)] = "^1.0.0"
	}
	h.npm.Add("big", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}, Deps: deps})

	for _, tc := range []struct {
		name string
		memo bool
	}{{"small", true}, {"big", false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/npm/"+tc.name, nil)
			pp, _, err := h.srv.npm.packument(r, tc.name, "abbrev", false)
			if err != nil {
				t.Fatal(err)
			}
			if big := len(pp.entry.Body) > memoMax; big == tc.memo {
				t.Fatalf("upstream body %d bytes: test needs memo=%v", len(pp.entry.Body), tc.memo)
			}
			b1, e1, err := h.srv.npm.render(r.Context(), tc.name, pp, "http://a.test/npm")
			if err != nil {
				t.Fatal(err)
			}
			b2, e2, _ := h.srv.npm.render(r.Context(), tc.name, pp, "http://a.test/npm")
			b3, e3, _ := h.srv.npm.render(r.Context(), tc.name, pp, "http://b.test/npm")
			if !bytes.Equal(b1, b2) || e1 != e2 {
				t.Error("same inputs rendered differently")
			}
			if e3 == e1 || !strings.Contains(string(b3), "http://b.test/npm/"+tc.name+"/-/") || strings.Contains(string(b3), "a.test") {
				t.Errorf("another base: etag %s (was %s)", e3, e1)
			}
			pp.mu.Lock()
			n := len(pp.rendered)
			pp.mu.Unlock()
			if memoised := n > 0; memoised != tc.memo {
				t.Errorf("%d renderings kept, want memo=%v", n, tc.memo)
			}
			// Over HTTP: the ETag revalidates.
			code, body := h.get(t, "/npm/"+tc.name, "Accept", npmAbbrevType)
			if code != 200 || !bytes.Contains(body, []byte(`"name":"`+tc.name+`"`)) {
				t.Fatalf("GET: %d", code)
			}
		})
	}
}

func TestClipped(t *testing.T) {
	b := make([]byte, 100<<10, 256<<10)
	if c := clipped(b); len(c) != len(b) || cap(c) != len(b) {
		t.Errorf("clipped: len %d cap %d", len(c), cap(c))
	}
	small := make([]byte, 10, 64<<10)
	if c := clipped(small); cap(c) != cap(small) {
		t.Error("small buffers are kept as they are")
	}
	tight := make([]byte, 200<<10, 210<<10)
	if c := clipped(tight); &c[0] != &tight[0] {
		t.Error("a buffer with little slack is not copied")
	}
}
