package main

import (
	"crypto/sha512"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/testutil/npmfake"
)

// fixtureRegistry publishes the npm fixture tree on a fake upstream:
//
//	moat-fixture-app@1.0.0 → moat-fixture-plain@^1, @moat-fixture/scoped@^2
//	moat-fixture-evil@1.0.0 (defanged credential stealer in postinstall)
func fixtureRegistry(t *testing.T) (*npmfake.Registry, map[string]*npmfake.Version) {
	t.Helper()
	reg := npmfake.New()
	t.Cleanup(reg.Close)
	fx := filepath.Join(repoRoot(t), "testdata", "fixtures")
	pub := map[string]*npmfake.Version{}
	pub["plain"] = reg.Add("moat-fixture-plain", npmfake.Version{Version: "1.0.0", Files: map[string]string{
		"index.js": "'use strict';\nmodule.exports = function pad(s, n) { return String(s).padStart(n); };\n",
	}})
	pub["plain11"] = reg.Add("moat-fixture-plain", npmfake.Version{Version: "1.1.0", Files: map[string]string{
		"index.js": "'use strict';\nmodule.exports = function pad(s, n, c) { return String(s).padStart(n, c || ' '); };\n",
	}})
	pub["scoped"] = reg.Add("@moat-fixture/scoped", npmfake.Version{Version: "2.0.0", Files: map[string]string{
		"index.js": "'use strict';\nconst path = require('path');\nmodule.exports = (p) => path.basename(p);\n",
	}})
	pub["app"] = reg.Add("moat-fixture-app", npmfake.Version{Version: "1.0.0",
		Deps:  map[string]string{"moat-fixture-plain": "^1.0.0", "@moat-fixture/scoped": "^2.0.0"},
		Files: map[string]string{"index.js": "module.exports = { pad: require('moat-fixture-plain'), base: require('@moat-fixture/scoped') };\n"},
	})
	evil, err := reg.AddDir("moat-fixture-evil", "1.0.0", filepath.Join(fx, "npm-malicious-postinstall"))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	pub["evil"] = evil
	return reg, pub
}

func TestNPMInstallThroughMoat(t *testing.T) {
	reg, pub := fixtureRegistry(t)
	m := startMoat(t, testConfig(reg.URL()))
	registry := m.URL + "/npm/"

	t.Run("tree with plain, scoped and dependencies installs", func(t *testing.T) {
		dir := writeProject(t, map[string]string{"moat-fixture-app": "^1.0.0"})
		out, err := npmRun(t, dir, t.TempDir(), "install", "--registry", registry)
		if err != nil {
			t.Fatalf("npm install failed: %v\n%s", err, out)
		}
		for _, p := range []string{"moat-fixture-app", "moat-fixture-plain", "@moat-fixture/scoped"} {
			if _, err := os.Stat(filepath.Join(dir, "node_modules", p, "package.json")); err != nil {
				t.Errorf("%s not installed: %v", p, err)
			}
		}
		// npm resolved ^1.0.0 to the newest version, through moat.
		b, _ := os.ReadFile(filepath.Join(dir, "node_modules", "moat-fixture-plain", "package.json"))
		if !strings.Contains(string(b), `"1.1.0"`) {
			t.Errorf("moat-fixture-plain: want 1.1.0, got %s", b)
		}
		lock, _ := os.ReadFile(filepath.Join(dir, "package-lock.json"))
		if strings.Contains(string(lock), reg.Server.URL) {
			t.Errorf("lockfile points at the upstream, not moat:\n%s", lock)
		}
	})

	t.Run("malicious postinstall is refused with moat's reason", func(t *testing.T) {
		dir := writeProject(t, map[string]string{"moat-fixture-evil": "1.0.0"})
		cache := t.TempDir()
		out, err := npmRun(t, dir, cache, "install", "--registry", registry)
		if err == nil {
			t.Fatalf("npm install of the malicious fixture succeeded:\n%s", out)
		}
		t.Logf("npm's output:\n%s", out)
		if !strings.Contains(out, "moat blocked moat-fixture-evil@1.0.0") {
			t.Errorf("npm output does not show moat's reason:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "moat-fixture-evil")); err == nil {
			t.Errorf("malicious package landed in node_modules")
		}
		assertNotInNPMCache(t, cache, pub["evil"])
	})

	t.Run("one upstream fetch however many requests", func(t *testing.T) {
		path := "/moat-fixture-plain/-/moat-fixture-plain-1.0.0.tgz"
		before := reg.Hits(path)
		for i := 0; i < 3; i++ {
			resp, err := http.Get(registry + strings.TrimPrefix(path, "/"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", path, resp.StatusCode)
			}
		}
		if got := reg.Hits(path) - before; got > 1 {
			t.Errorf("upstream fetched %d times, want at most 1", got)
		}
	})

	t.Run("writes are refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, registry+"moat-fixture-plain", strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("PUT: got %d, want 405", resp.StatusCode)
		}
	})
}

// assertNotInNPMCache checks that no byte of v's tarball is in npm's cache:
// neither its content (addressed by integrity) nor an index entry for it.
func assertNotInNPMCache(t *testing.T, cache string, v *npmfake.Version) {
	t.Helper()
	sum := sha512.Sum512(v.Tarball)
	hexSum := hex.EncodeToString(sum[:])
	content := filepath.Join(cache, "_cacache", "content-v2", "sha512", hexSum[:2], hexSum[2:4], hexSum[4:])
	if _, err := os.Stat(content); err == nil {
		t.Errorf("the malicious tarball is in npm's cache at %s", content)
	}
	_ = filepath.WalkDir(filepath.Join(cache, "_cacache", "index-v5"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), "moat-fixture-evil-1.0.0.tgz") {
			t.Errorf("npm's cache index mentions the malicious tarball: %s", p)
		}
		return nil
	})
}

// TestNPMRealRegistryOffline installs a small real tree from the registry
// npm is configured with, through moat, then again with a fresh npm cache
// while the upstream is unreachable: moat's cache serves it.
func TestNPMRealRegistryOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the network")
	}
	real, err := npmConfiguredRegistry(t.Context())
	if err != nil {
		t.Skipf("npm registry unknown: %v", err)
	}
	target, _ := url.Parse(real)
	// A switchable front for the real registry: "unreachable" = reset.
	var down atomic.Bool
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.Out.Host = target.Host }}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()

	cfg := testConfig(front.URL + "/")
	cfg.NPM.MetadataMaxAge = 0 // always revalidate: the offline run must fall back to the cache
	m := startMoat(t, cfg)
	deps := map[string]string{"chalk": "4.1.2"}

	dir := writeProject(t, deps)
	out, err := npmRun(t, dir, t.TempDir(), "install", "--registry", m.URL+"/npm/")
	if err != nil {
		t.Fatalf("online install: %v\n%s", err, out)
	}
	down.Store(true)
	time.Sleep(10 * time.Millisecond)
	dir2 := writeProject(t, deps)
	out, err = npmRun(t, dir2, t.TempDir(), "install", "--registry", m.URL+"/npm/")
	if err != nil {
		t.Fatalf("offline install from moat's cache: %v\n%s", err, out)
	}
	for _, p := range []string{"chalk", "ansi-styles", "supports-color", "has-flag", "color-convert", "color-name"} {
		if _, err := os.Stat(filepath.Join(dir2, "node_modules", p, "package.json")); err != nil {
			t.Errorf("%s not installed offline: %v", p, err)
		}
	}
}
