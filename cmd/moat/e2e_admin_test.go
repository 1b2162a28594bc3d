package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/audit"
	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/proxy/admin"
	"github.com/moatproject/moat/scan"
)

// runCLI runs one moat command in-process and returns its exit code,
// stdout and stderr.
func runCLI(t *testing.T, fn func(context.Context, []string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := fn(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestAdminEndToEnd drives overrides through `moat verdict` against a real
// moat and the real npm client, restarts moat on the same data dir, imports
// a feed online and offline, and checks that the write API wants the token.
func TestAdminEndToEnd(t *testing.T) {
	reg, _ := fixtureRegistry(t)
	cfg := testConfig(reg.URL())
	cfg.Server.DataDir = t.TempDir()
	// Deny rules should surface as refusals with their reason in npm's
	// output, not as versions that vanish from the metadata.
	hide := false
	cfg.Policy.HideBlockedVersions = &hide
	data := cfg.Server.DataDir
	m := startMoat(t, cfg)
	requireAdminAPI(t, m.URL)
	registry := m.URL + "/npm/"
	verdict := func(t *testing.T, server string, args ...string) string {
		t.Helper()
		code, out, errs := runCLI(t, runVerdict, append(args, "--server", server, "--data", data)...)
		if code != exitOK {
			t.Fatalf("moat verdict %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errs)
		}
		return out
	}

	t.Run("write API refuses requests without the token", func(t *testing.T) {
		for _, tc := range []struct{ method, path, body, auth string }{
			{http.MethodPost, "/api/v1/overrides", `{"action":"allow","ecosystem":"npm","package":"moat-fixture-evil"}`, ""},
			{http.MethodPost, "/api/v1/overrides", `{"action":"allow","ecosystem":"npm","package":"moat-fixture-evil"}`, "Bearer " + strings.Repeat("0", 64)},
			{http.MethodDelete, "/api/v1/overrides/0123456789ab", "", ""},
			{http.MethodPost, "/api/v1/feeds/osv", `[]`, ""},
		} {
			req, _ := http.NewRequest(tc.method, m.URL+tc.path, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), `"error"`) {
				t.Errorf("%s %s (auth %q): %d %s, want 401 JSON", tc.method, tc.path, tc.auth, resp.StatusCode, b)
			}
		}
		// The token file is private, and the CLI with a wrong token fails clearly.
		fi, err := os.Stat(filepath.Join(data, admin.TokenFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("admin.token: %v, mode %v", err, fi.Mode())
		}
		code, _, errs := runCLI(t, runVerdict, "deny", "npm", "x", "--server", m.URL, "--token", strings.Repeat("f", 64))
		if code != exitError || !strings.Contains(errs, "401") {
			t.Errorf("wrong token: exit %d, stderr %s", code, errs)
		}
		if strings.Contains(m.logs.String(), mustReadToken(t, data)) {
			t.Error("the admin token appears in moat's logs")
		}
	})

	t.Run("allow-listed malicious fixture installs", func(t *testing.T) {
		dir := writeProject(t, map[string]string{"moat-fixture-evil": "1.0.0"})
		out, err := npmRun(t, dir, t.TempDir(), "install", "--registry", registry)
		if err == nil || !strings.Contains(out, "moat blocked moat-fixture-evil@1.0.0") {
			t.Fatalf("before the override the fixture must be blocked (err %v):\n%s", err, out)
		}
		got := verdict(t, m.URL, "allow", "npm", "moat-fixture-evil@1.0.0", "--reason", "reviewed: defanged test fixture")
		if !strings.Contains(got, "allow npm moat-fixture-evil@1.0.0") {
			t.Errorf("verdict allow printed %q", got)
		}
		dir = writeProject(t, map[string]string{"moat-fixture-evil": "1.0.0"})
		out, err = npmRun(t, dir, t.TempDir(), "install", "--registry", registry)
		if err != nil {
			t.Fatalf("npm install after allow: %v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "moat-fixture-evil", "package.json")); err != nil {
			t.Errorf("allowed fixture not installed: %v", err)
		}

		// The block is on record: list and show find it.
		var ds []audit.Entry
		if err := json.Unmarshal([]byte(verdict(t, m.URL, "list", "--blocked", "--json", "--limit", "5")), &ds); err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 || ds[0].Name != "moat-fixture-evil" || ds[0].SHA256 == "" {
			t.Fatalf("verdict list --blocked: %+v", ds)
		}
		show := verdict(t, m.URL, "show", ds[0].SHA256)
		for _, want := range []string{"moat-fixture-evil@1.0.0", "malicious", "findings:", "/reports/" + ds[0].SHA256} {
			if !strings.Contains(show, want) {
				t.Errorf("verdict show lacks %q:\n%s", want, show)
			}
		}
		pkg := verdict(t, m.URL, "show", "npm/moat-fixture-evil@1.0.0")
		for _, want := range []string{"reviewed: defanged test fixture", "malicious", "allow"} {
			if !strings.Contains(pkg, want) {
				t.Errorf("verdict show npm/... lacks %q:\n%s", want, pkg)
			}
		}
	})

	t.Run("denied benign package is refused with the reason", func(t *testing.T) {
		verdict(t, m.URL, "deny", "npm", "moat-fixture-plain", "--reason", "TICKET-42 pinned by security")
		dir := writeProject(t, map[string]string{"moat-fixture-plain": "^1.0.0"})
		cache := t.TempDir()
		out, err := npmRun(t, dir, cache, "install", "--registry", registry)
		if err == nil {
			t.Fatalf("npm install of a denied package succeeded:\n%s", out)
		}
		if !strings.Contains(out, "TICKET-42 pinned by security") {
			t.Errorf("npm output does not show the deny reason:\n%s", out)
		}
	})

	t.Run("feed import through the server", func(t *testing.T) {
		osv := writeOSV(t)
		code, out, errs := runCLI(t, runFeed, "import", osv, "--source", "test-feed", "--server", m.URL, "--data", data)
		if code != exitOK {
			t.Fatalf("feed import: exit %d\n%s%s", code, out, errs)
		}
		if !strings.Contains(errs, "imported 2 records (npm 1, pypi 1)") || !strings.Contains(errs, "via the server") ||
			!strings.Contains(errs, "skipped 1 malformed") {
			t.Errorf("feed import summary: %s", errs)
		}
		var fl admin.FeedList
		getJSON(t, m.URL+"/api/v1/feeds", &fl)
		if len(fl.Sources) != 1 || fl.Sources[0].Name != "test-feed" || fl.Sources[0].Records != 2 {
			t.Errorf("feeds after import: %+v", fl)
		}
	})

	// Restart on the same data dir; meanwhile import a feed offline.
	server := m.URL
	m.Stop(t)
	t.Run("feed import offline", func(t *testing.T) {
		code, out, errs := runCLI(t, runFeed, "import", writeOSV(t), "--source", "offline-feed", "--server", server, "--data", data)
		if code != exitOK || !strings.Contains(errs, "offline") {
			t.Fatalf("offline feed import: exit %d\n%s%s", code, out, errs)
		}
		code, _, errs = runCLI(t, runVerdict, "list", "--server", server, "--data", data)
		if code != exitError || !strings.Contains(errs, "no moat server answers") {
			t.Errorf("verdict list with the server down: exit %d, stderr %s", code, errs)
		}
	})
	m2 := startMoat(t, cfg)

	t.Run("overrides survive a restart", func(t *testing.T) {
		var rules []policy.Rule
		if err := json.Unmarshal([]byte(verdict(t, m2.URL, "overrides", "--json")), &rules); err != nil {
			t.Fatal(err)
		}
		got := map[string]policy.Action{}
		for _, r := range rules {
			got[r.Package] = r.Action
		}
		if got["moat-fixture-evil"] != policy.ActionAllow || got["moat-fixture-plain"] != policy.ActionBlock || len(rules) != 2 {
			t.Errorf("overrides after restart: %+v", rules)
		}
		dir := writeProject(t, map[string]string{"moat-fixture-plain": "^1.0.0"})
		out, err := npmRun(t, dir, t.TempDir(), "install", "--registry", m2.URL+"/npm/")
		if err == nil || !strings.Contains(out, "TICKET-42") {
			t.Errorf("deny lost across the restart (err %v):\n%s", err, out)
		}
		var fl admin.FeedList
		getJSON(t, m2.URL+"/api/v1/feeds", &fl)
		if len(fl.Sources) != 2 {
			t.Errorf("feed sources after restart: %+v", fl)
		}
		// rm removes the deny; the package installs again.
		var plainID string
		for _, r := range rules {
			if r.Package == "moat-fixture-plain" {
				plainID = r.ID
			}
		}
		if out := verdict(t, m2.URL, "rm", plainID); !strings.Contains(out, "removed override "+plainID) {
			t.Errorf("rm printed %q", out)
		}
		dir = writeProject(t, map[string]string{"moat-fixture-plain": "^1.0.0"})
		if out, err := npmRun(t, dir, t.TempDir(), "install", "--registry", m2.URL+"/npm/"); err != nil {
			t.Errorf("install after rm: %v\n%s", err, out)
		}
	})

	t.Run("status and report pages in headless Chromium", func(t *testing.T) {
		chrome := findChromium(t)
		dom := chromiumRun(t, chrome, "--dump-dom", m2.URL+"/")
		for _, want := range []string{"Recent blocks", "moat-fixture-evil", "moat-fixture-plain", "TICKET-42 pinned by security", "<svg"} {
			if !strings.Contains(dom, want) {
				t.Errorf("status page DOM lacks %q", want)
			}
		}
		var ds admin.DecisionList
		getJSON(t, m2.URL+"/api/v1/decisions?action=block&ecosystem=npm&name=moat-fixture-evil&limit=1", &ds)
		if len(ds.Decisions) != 1 {
			t.Fatalf("no block of the fixture on record: %+v", ds)
		}
		sha := ds.Decisions[0].SHA256
		if !strings.Contains(dom, `href="/reports/`+sha+`"`) {
			t.Errorf("status page does not link the report of %s", sha)
		}
		rdom := chromiumRun(t, chrome, "--dump-dom", m2.URL+"/reports/"+sha)
		for _, want := range []string{"malicious", "moat-fixture-evil@1.0.0", "install phase", sha} {
			if !strings.Contains(rdom, want) {
				t.Errorf("report page DOM lacks %q", want)
			}
		}

		shot := filepath.Join(t.TempDir(), "status.png")
		chromiumRun(t, chrome, "--window-size=1200,1000", "--hide-scrollbars", "--screenshot="+shot, m2.URL+"/")
		png, err := os.ReadFile(shot)
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
			t.Fatalf("screenshot: %d bytes, %v", len(png), err)
		}
		if os.Getenv("MOAT_UPDATE_SCREENSHOT") == "1" {
			dst := filepath.Join(repoRoot(t), "docs", "status-page.png")
			if err := os.WriteFile(dst, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", dst)
		}
	})
}

// requireAdminAPI fails the test unless the server mounts the admin API.
func requireAdminAPI(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/overrides")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/v1/overrides: %d %s: the admin API is not mounted (proxy.New must mount admin.New on /api/v1/, /reports/ and GET /{$}, and serve must call admin.LoadOrCreateToken)",
			resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func mustReadToken(t *testing.T, dir string) string {
	t.Helper()
	tok, err := admin.ReadToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// writeOSV writes two hand-written OSV records (one npm, one PyPI) and one
// malformed document into a temp folder.
func writeOSV(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	docs := map[string]string{
		"osv/malicious/npm/moat-fixture-feedbad/MAL-0000-1001.json": `{"id":"MAL-0000-1001","modified":"2025-01-01T00:00:00Z","summary":"Malicious code in moat-fixture-feedbad (npm)",
			"affected":[{"package":{"ecosystem":"npm","name":"moat-fixture-feedbad"},"versions":["1.0.0"]}]}`,
		"osv/malicious/pypi/moat-feed-bad/MAL-0000-1002.json": `{"id":"MAL-0000-1002","modified":"2025-01-01T00:00:00Z","summary":"Malicious code in moat-feed-bad (PyPI)",
			"affected":[{"package":{"ecosystem":"PyPI","name":"Moat_Feed.Bad"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`,
		"osv/malicious/npm/broken/MAL-0000-1003.json": `{"id":"MAL-0000-1003",`,
	}
	for name, body := range docs {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// findChromium returns Debian's chromium, installing it with
// scripts/install-chromium.sh when missing; the test skips only when it
// cannot be installed.
func findChromium(t *testing.T) string {
	t.Helper()
	look := func() string {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		return ""
	}
	if p := look(); p != "" {
		return p
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", filepath.Join(repoRoot(t), "scripts", "install-chromium.sh")).CombinedOutput()
	if p := look(); err == nil && p != "" {
		return p
	}
	t.Skipf("chromium is not installed and could not be installed (%v):\n%s", err, out)
	return ""
}

// chromiumRun runs headless Chromium with args and returns its stdout. A
// browser that crashes or hangs (it can, on a loaded machine) gets one
// more try.
func chromiumRun(t *testing.T, chrome string, args ...string) string {
	t.Helper()
	var err error
	var stderr bytes.Buffer
	for range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
		full := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir()}, args...)
		cmd := exec.CommandContext(ctx, chrome, full...)
		var stdout bytes.Buffer
		stderr.Reset()
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		cancel()
		if err == nil {
			return stdout.String()
		}
		t.Logf("chromium %v: %v; retrying", args, err)
	}
	t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	return ""
}

// adminFixture serves the admin handler alone over a temp store, for the
// CLI tests that need no proxy.
type adminFixture struct {
	URL   string
	Data  string
	Store *store.Store
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	data := t.TempDir()
	st, err := store.Open(data, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	al, err := audit.Open(data, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	tok, err := admin.LoadOrCreateToken(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sha := strings.Repeat("ab", 32)
	hostile := "x\x1b]0;pwned\x07\u202e" // terminal escape and bidi override
	if err := st.PutReport(ctx, &scan.Report{Ecosystem: scan.NPM, Name: "@acme/evil", Version: "1.0.0", SHA256: sha,
		Verdict: scan.VerdictMalicious, Score: 0.9, Threshold: 0.5, ScannerVersion: "s1", ModelVersion: "m1",
		Findings: []scan.Finding{{Feature: "sensitive.path", File: "setup.js", Line: 3, Snippet: "read .npmrc " + hostile}},
		Sequence: []string{"[INSTALL]", "sensitive.path"}}); err != nil {
		t.Fatal(err)
	}
	if err := al.Write(ctx, audit.Entry{Ecosystem: "npm", Name: "@acme/evil", Version: "1.0.0", SHA256: sha, Action: "block",
		Layer: "scan", Reasons: []string{"flagged " + hostile}}); err != nil {
		t.Fatal(err)
	}
	if err := al.Write(ctx, audit.Entry{Ecosystem: "npm", Name: "fine", Version: "2.0.0", Action: "allow", Layer: "scan"}); err != nil {
		t.Fatal(err)
	}
	a, err := admin.New(admin.Options{Store: st, Audit: al, Token: tok, Version: "test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &adminFixture{URL: srv.URL, Data: data, Store: st}
}

func TestVerdictCLI(t *testing.T) {
	f := newAdminFixture(t)
	run := func(args ...string) (int, string, string) {
		return runCLI(t, runVerdict, append(args, "--server", f.URL, "--data", f.Data)...)
	}
	tests := []struct {
		name string
		args []string
		code int
		out  []string // substrings of stdout (stderr when code != 0)
		not  []string
	}{
		{"list", []string{"list"}, 0, []string{"TIME", "block", "@acme/evil@1.0.0", "fine@2.0.0"}, []string{"\x1b", "\u202e"}},
		{"list blocked", []string{"list", "--blocked", "--limit", "10"}, 0, []string{"@acme/evil@1.0.0"}, []string{"fine@2.0.0"}},
		{"show sha", []string{"show", strings.Repeat("AB", 32)}, 0, []string{"malicious", "setup.js:3", "score 0.900", "/reports/" + strings.Repeat("ab", 32)}, []string{"\x1b"}},
		{"show package", []string{"show", "npm/@acme/evil@1.0.0"}, 0, []string{"reports:", "malicious", "recent decisions:"}, nil},
		{"show unknown sha", []string{"show", strings.Repeat("cd", 32)}, 2, []string{"404", "no report"}, nil},
		{"allow version", []string{"allow", "npm", "@acme/evil@1.0.0", "--reason", "reviewed"}, 0, []string{"allow npm @acme/evil@1.0.0 (override ", "reviewed"}, nil},
		{"deny range", []string{"deny", "--reason", "bad range", "pypi", "requests@>=2,<3"}, 0, []string{"deny pypi requests@>=2,<3"}, nil},
		{"deny glob", []string{"deny", "npm/@evil-scope/*"}, 0, []string{"deny npm @evil-scope/*"}, nil},
		{"overrides", []string{"overrides"}, 0, []string{"ID", "@acme/evil@1.0.0", "requests@>=2,<3", "@evil-scope/*"}, nil},
		{"bad ecosystem", []string{"allow", "cargo", "serde"}, 2, []string{"want npm or pypi"}, nil},
		{"bad range", []string{"deny", "npm", "x@^^nope"}, 2, []string{"400"}, nil},
		{"rm unknown", []string{"rm", "nope"}, 2, []string{"404"}, nil},
		{"unknown command", []string{"frobnicate"}, 2, []string{"unknown command"}, nil},
		{"missing arg", []string{"show"}, 2, []string{"show needs"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			text := out
			if code != 0 {
				text = errs
			}
			for _, w := range tt.out {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(text, w) {
					t.Errorf("output contains %q:\n%q", w, text)
				}
			}
		})
	}

	// JSON output parses; rm removes.
	code, out, _ := run("overrides", "--json")
	var rules []policy.Rule
	if code != 0 || json.Unmarshal([]byte(out), &rules) != nil || len(rules) != 3 {
		t.Fatalf("overrides --json: %d %s", code, out)
	}
	if code, out, errs := run("rm", rules[0].ID); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("rm: %d %s %s", code, out, errs)
	}
	if got, _ := f.Store.ListOverrides(context.Background()); len(got) != 2 {
		t.Errorf("after rm: %d overrides", len(got))
	}

	// Writes without a token say where the token comes from.
	code, _, errs := runCLI(t, runVerdict, "deny", "npm", "x", "--server", f.URL, "--data", t.TempDir())
	if code != exitError || !strings.Contains(errs, "401") || !strings.Contains(errs, admin.TokenFile) {
		t.Errorf("no token: %d %s", code, errs)
	}
	// MOAT_ADMIN_TOKEN is honoured.
	t.Setenv("MOAT_ADMIN_TOKEN", mustReadToken(t, f.Data))
	if code, out, errs := runCLI(t, runVerdict, "deny", "npm", "y", "--server", f.URL, "--data", t.TempDir()); code != 0 {
		t.Errorf("with MOAT_ADMIN_TOKEN: %d %s %s", code, out, errs)
	}
}

func TestVerdictServerDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	code, _, errs := runCLI(t, runVerdict, "list", "--server", url, "--data", t.TempDir())
	if code != exitError || !strings.Contains(errs, "no moat server answers at "+url) || !strings.Contains(errs, "moat serve") {
		t.Errorf("exit %d, stderr %s", code, errs)
	}
	// The default server comes from server.listen (here via the environment).
	t.Setenv("MOAT_SERVER_LISTEN", strings.TrimPrefix(url, "http://"))
	code, _, errs = runCLI(t, runVerdict, "overrides", "--data", t.TempDir())
	if code != exitError || !strings.Contains(errs, url) {
		t.Errorf("from server.listen: exit %d, stderr %s", code, errs)
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		args                   []string
		eco, pkg, version, rng string
		err                    bool
	}{
		{args: []string{"npm", "left-pad"}, eco: "npm", pkg: "left-pad"},
		{args: []string{"npm", "left-pad@1.3.0"}, eco: "npm", pkg: "left-pad", version: "1.3.0"},
		{args: []string{"NPM", "@scope/pkg@2.0.0-beta.1"}, eco: "npm", pkg: "@scope/pkg", version: "2.0.0-beta.1"},
		{args: []string{"npm", "@scope/pkg"}, eco: "npm", pkg: "@scope/pkg"},
		{args: []string{"npm", "x@^1.2"}, eco: "npm", pkg: "x", rng: "^1.2"},
		{args: []string{"npm", "x@1.2"}, eco: "npm", pkg: "x", rng: "1.2"},
		{args: []string{"npm", "x@>=1 <2"}, eco: "npm", pkg: "x", rng: ">=1 <2"},
		{args: []string{"npm/@acme/*"}, eco: "npm", pkg: "@acme/*"},
		{args: []string{"pypi", "Requests@2.31.0"}, eco: "pypi", pkg: "Requests", version: "2.31.0"},
		{args: []string{"pypi", "requests@==2.31"}, eco: "pypi", pkg: "requests", version: "2.31"},
		{args: []string{"pypi", "requests@~=2.31"}, eco: "pypi", pkg: "requests", rng: "~=2.31"},
		{args: []string{"pypi/requests@>=2,<3"}, eco: "pypi", pkg: "requests", rng: ">=2,<3"},
		{args: []string{"cargo", "serde"}, err: true},
		{args: []string{"npm"}, err: true},
		{args: []string{"npm", "@"}, err: true},
		{args: []string{"npm", "a", "b"}, err: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r, err := parseTarget(tt.args)
			if (err != nil) != tt.err {
				t.Fatalf("err %v, want error %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if string(r.Ecosystem) != tt.eco || r.Package != tt.pkg || r.Version != tt.version || r.Range != tt.rng {
				t.Errorf("got %+v", r)
			}
		})
	}
}

func TestListenURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:7878": "http://127.0.0.1:7878",
		"0.0.0.0:7878":   "http://127.0.0.1:7878",
		":7878":          "http://127.0.0.1:7878",
		"[::]:7878":      "http://[::1]:7878",
		"moat.lan:80":    "http://moat.lan:80",
	} {
		if got := listenURL(in); got != want {
			t.Errorf("listenURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFeedImportCLI(t *testing.T) {
	t.Run("through the server", func(t *testing.T) {
		f := newAdminFixture(t)
		code, out, errs := runCLI(t, runFeed, "import", writeOSV(t), "--server", f.URL, "--data", f.Data)
		if code != exitOK || !strings.Contains(errs, `imported 2 records (npm 1, pypi 1)`) || !strings.Contains(errs, `source "osv" via the server`) {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		recs, err := f.Store.FeedLookup(context.Background(), scan.PyPI, "moat-feed-bad")
		if err != nil || len(recs) != 1 {
			t.Errorf("lookup: %+v %v", recs, err)
		}
	})
	t.Run("offline into the store", func(t *testing.T) {
		data := t.TempDir()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		code, out, errs := runCLI(t, runFeed, "import", writeOSV(t), "--source", "mine", "--server", srv.URL, "--data", data)
		if code != exitOK || !strings.Contains(errs, "offline") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		st, err := store.Open(data, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		srcs, err := st.FeedSources(context.Background())
		if err != nil || len(srcs) != 1 || srcs[0].Name != "mine" || srcs[0].Records != 2 {
			t.Errorf("sources: %+v %v", srcs, err)
		}
	})
	t.Run("store held by another process", func(t *testing.T) {
		data := t.TempDir()
		st, err := store.Open(data, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		code, _, errs := runCLI(t, runFeed, "import", writeOSV(t), "--server", srv.URL, "--data", data)
		if code != exitError || !strings.Contains(errs, "--server") {
			t.Errorf("exit %d, stderr %s", code, errs)
		}
	})
	for name, args := range map[string][]string{
		"no path":      {"import"},
		"bad source":   {"import", ".", "--source", "../x"},
		"missing path": {"import", filepath.Join(t.TempDir(), "nope")},
		"unknown":      {"export"},
	} {
		t.Run(name, func(t *testing.T) {
			if code, _, _ := runCLI(t, runFeed, append(args, "--server", "http://127.0.0.1:1", "--data", t.TempDir())...); code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
		})
	}
}

// Compile-time checks that the real store and audit log fit the admin
// handler's interfaces.
var (
	_ admin.Store = (*store.Store)(nil)
	_ admin.Audit = (*audit.Log)(nil)
)
