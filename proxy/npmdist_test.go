package proxy

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/moatproject/moat/internal/testutil/npmfake"
)

// The warm tarball path takes the version's dist facts from npmDists, and
// only while the packument they came from is current: a revalidated
// packument (a new generation) sends the next request down the full path.
func TestTarballDistIndex(t *testing.T) {
	h := newHarness(t)
	v := h.npm.Add("dist", npmfake.Version{Version: "1.0.0", Files: map[string]string{"index.js": "x"}})
	const p = "/npm/dist/-/dist-1.0.0.tgz"
	for i := range 3 {
		if code, body := h.get(t, p); code != 200 || !bytes.Equal(body, v.Tarball) {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	key := "npm:abbrev:dist"
	gen := h.srv.npm.meta.freshGen(key)
	if _, ok := h.srv.npm.dists.get(key, "1.0.0", gen); gen == 0 || !ok {
		t.Fatalf("no dist entry after warm requests (gen %d)", gen)
	}
	// Revalidate the packument (as a newer version's request would).
	if _, _, err := h.srv.npm.packument(httptest.NewRequest("GET", "/npm/dist", nil), "dist", "abbrev", true); err != nil {
		t.Fatal(err)
	}
	gen2 := h.srv.npm.meta.freshGen(key)
	if gen2 == gen || gen2 == 0 {
		t.Fatalf("generation %d after revalidation, was %d", gen2, gen)
	}
	if _, ok := h.srv.npm.dists.get(key, "1.0.0", gen2); ok {
		t.Fatal("dist entry of the old packument still used")
	}
	if code, _ := h.get(t, p); code != 200 {
		t.Fatalf("after revalidation: %d", code)
	}
	if _, ok := h.srv.npm.dists.get(key, "1.0.0", gen2); !ok {
		t.Fatal("dist entry not refilled")
	}
}
