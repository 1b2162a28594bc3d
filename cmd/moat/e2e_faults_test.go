package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/testutil/npmfake"
)

// TestNPMUpstreamFaults checks the exact result a client sees for each kind
// of upstream failure, and that nothing unverified is cached or served.
func TestNPMUpstreamFaults(t *testing.T) {
	reg := npmfake.New()
	defer reg.Close()
	reg.SlowDelay = 5 * time.Second
	files := map[string]string{"index.js": "module.exports = 1;\n"}
	for _, f := range []struct {
		name  string
		fault npmfake.Fault
	}{
		{"fault-integrity", npmfake.FaultWrongIntegrity},
		{"fault-truncated", npmfake.FaultTruncated},
		{"fault-slow", npmfake.FaultSlow},
		{"fault-500", npmfake.Fault500},
		{"fault-reset", npmfake.FaultReset},
		{"fault-nohash", npmfake.FaultNoIntegrity},
	} {
		reg.Add(f.name, npmfake.Version{Version: "1.0.0", Files: files, Fault: f.fault})
	}
	cfg := testConfig(reg.URL())
	cfg.Upstream.ArtifactTimeout = 2 * time.Second
	m := startMoat(t, cfg)

	cases := []struct {
		pkg      string
		status   int
		contains string
	}{
		{"fault-integrity", http.StatusBadGateway, "integrity check failed"},
		{"fault-truncated", http.StatusBadGateway, "truncated"},
		{"fault-slow", http.StatusGatewayTimeout, "timed out"},
		{"fault-500", http.StatusBadGateway, "answered HTTP 500"},
		{"fault-reset", http.StatusBadGateway, "connection reset"},
		{"fault-nohash", http.StatusForbidden, "no usable hash"},
	}
	for _, c := range cases {
		t.Run(c.pkg, func(t *testing.T) {
			url := m.URL + "/npm/" + c.pkg + "/-/" + c.pkg + "-1.0.0.tgz"
			for attempt := 0; attempt < 2; attempt++ { // the second try must not be served from a cache either
				resp, err := http.Get(url)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.status {
					t.Fatalf("attempt %d: status %d, want %d; body %s", attempt, resp.StatusCode, c.status, body)
				}
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("body is not npm's JSON error form: %s", body)
				}
				if !strings.Contains(e.Error, c.contains) || !strings.Contains(e.Error, c.pkg+"@1.0.0") {
					t.Errorf("error %q does not name the package and %q", e.Error, c.contains)
				}
			}
		})
	}

	t.Run("packument upstream down and nothing cached", func(t *testing.T) {
		reg.SetDown(true)
		defer reg.SetDown(false)
		resp, err := http.Get(m.URL + "/npm/never-seen-before")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "connection reset") {
			t.Errorf("got %d %s, want 502 naming the reset", resp.StatusCode, body)
		}
	})
}
