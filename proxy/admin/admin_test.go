package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/audit"
	"github.com/moatproject/moat/internal/feed"
	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
	"github.com/moatproject/moat/scan/sequence"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// Fixed facts of the fixture.
var (
	testNow   = time.Date(2025, 3, 14, 15, 30, 0, 0, time.UTC)
	evilSHA   = strings.Repeat("ab", 32)
	plainSHA  = strings.Repeat("cd", 32)
	hostile   = `<script>alert("pwn")</script>`
	evilName  = "evil-pkg"
	plainName = "plain-pkg"
)

type fixture struct {
	t     *testing.T
	store *store.Store
	audit *audit.Log
	admin *Admin
	srv   *httptest.Server
}

// newFixture opens a temp store and audit log, fills them with a malicious
// and a clean report and a day of decisions, and serves the admin handler.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	al, err := audit.Open(dir, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	ctx := context.Background()

	evil := &scan.Report{
		Ecosystem: scan.NPM, Name: evilName, Version: "1.0.0", SHA256: evilSHA,
		Verdict: scan.VerdictMalicious, Score: 0.97, Threshold: 0.5,
		Findings: []scan.Finding{
			{Feature: "sensitive.path", File: "setup.js", Line: 3, Snippet: "fs.readFileSync(home + '/.npmrc') " + hostile, Weight: 0.4},
			{Feature: "url.webhook", File: "<img src=x onerror=alert(1)>.js", Line: 7, Snippet: "https://hooks.invalid/x"},
		},
		Sequence: []string{sequence.MarkInstall, "install.script", "sensitive.path", "net.call", sequence.MarkImport, "fs.read"},
		Events: []sequence.Event{
			{Token: sequence.MarkInstall},
			{Token: "install.script", File: "package.json", Line: 5, Snippet: `"postinstall": "node setup.js"`},
			{Token: "sensitive.path", File: "setup.js", Line: 3, Snippet: hostile},
			{Token: "net.call", File: "setup.js", Line: 7, Snippet: "https.request(opts)"},
			{Token: sequence.MarkImport},
			{Token: "fs.read", File: "index.js", Line: 1, Snippet: "fs.readFileSync(p)"},
		},
		ScannerVersion: "scan-1", ModelVersion: "model-1", DurationMS: 42,
	}
	plain := &scan.Report{
		Ecosystem: scan.NPM, Name: plainName, Version: "2.0.0", SHA256: plainSHA,
		Verdict: scan.VerdictClean, Score: 0.02, Threshold: 0.5, Findings: []scan.Finding{},
		Sequence: []string{"fs.read"}, ScannerVersion: "scan-1", ModelVersion: "model-1", DurationMS: 7,
	}
	for _, r := range []*scan.Report{evil, plain} {
		if err := st.PutReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	entries := []audit.Entry{
		{Time: testNow.Add(-20 * time.Hour), Ecosystem: "npm", Name: plainName, Version: "2.0.0", SHA256: plainSHA, Action: "allow", Layer: "scan", DurationMS: 7},
		{Time: testNow.Add(-5 * time.Hour), Ecosystem: "npm", Name: plainName, Version: "2.0.0", SHA256: plainSHA, Action: "allow", Layer: "scan", DurationMS: 120},
		{Time: testNow.Add(-2 * time.Hour), Ecosystem: "pypi", Name: "warned", Version: "0.1", Action: "warn", Layer: "age", Reasons: []string{"published 2h ago"}, DurationMS: 3},
		{Time: testNow.Add(-1 * time.Hour), Client: "127.0.0.1", Ecosystem: "npm", Name: evilName, Version: "1.0.0", SHA256: evilSHA, Action: "block", Layer: "scan",
			Reasons: []string{"scanner flagged it: " + hostile}, Score: 0.97, DurationMS: 1800},
		{Time: testNow.Add(-10 * time.Minute), Ecosystem: "npm", Name: plainName, Version: "2.0.0", SHA256: plainSHA, Action: "allow", Layer: "scan", DurationMS: 2},
	}
	for _, e := range entries {
		if err := al.Write(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	a, err := New(Options{Store: st, Audit: al, Token: testToken, Version: "1.2.3-test", PolicyMode: "enforce",
		Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &fixture{t: t, store: st, audit: al, admin: a, srv: srv}
}

// do sends a request; auth adds the right token.
func (f *fixture) do(method, path, body string, auth bool) (*http.Response, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+testToken)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, b
}

// getJSON GETs path, expects code and decodes the body into v (if not nil).
func (f *fixture) getJSON(path string, code int, v any) {
	f.t.Helper()
	resp, b := f.do(http.MethodGet, path, "", false)
	if resp.StatusCode != code {
		f.t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, code, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			f.t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
}

func errorOf(t *testing.T, b []byte) string {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error body: %s", b)
	}
	return e.Error
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Options{}); err != ErrNoStore {
		t.Errorf("no store: %v", err)
	}
	f := newFixture(t)
	if _, err := New(Options{Store: f.store, Audit: f.audit}); err != ErrNoToken {
		t.Errorf("no token: %v", err)
	}
}

func TestWritesNeedToken(t *testing.T) {
	f := newFixture(t)
	writes := []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/overrides", `{"action":"allow","ecosystem":"npm","package":"x"}`},
		{http.MethodDelete, "/api/v1/overrides/abc", ""},
		{http.MethodPost, "/api/v1/feeds/test", `[]`},
	}
	headers := []struct{ name, value string }{
		{"none", ""},
		{"wrong token", "Bearer " + strings.Repeat("0", len(testToken))},
		{"token prefix", "Bearer " + testToken[:10]},
		{"basic scheme", "Basic " + testToken},
		{"bare token", testToken},
		{"empty bearer", "Bearer "},
	}
	for _, w := range writes {
		for _, h := range headers {
			t.Run(w.method+" "+w.path+"/"+h.name, func(t *testing.T) {
				req, _ := http.NewRequest(w.method, f.srv.URL+w.path, strings.NewReader(w.body))
				if h.value != "" {
					req.Header.Set("Authorization", h.value)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("got %d, want 401: %s", resp.StatusCode, b)
				}
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate header")
				}
				if msg := errorOf(t, b); strings.Contains(msg, testToken) {
					t.Error("error message leaks the token")
				}
			})
		}
	}
	// Nothing was written.
	if rules, _ := f.store.ListOverrides(context.Background()); len(rules) != 0 {
		t.Errorf("unauthorised write stored %v", rules)
	}
	// The right token (scheme case-insensitive) passes.
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/feeds/test", strings.NewReader("[]"))
	req.Header.Set("Authorization", "bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("authorised write: %d", resp.StatusCode)
	}
}

func TestOverrides(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	eng, err := policy.New(policy.Config{}, policy.Deps{Overrides: f.store})
	if err != nil {
		t.Fatal(err)
	}
	evilReport, _ := f.store.ReportsBySHA(ctx, evilSHA)
	in := policy.Input{Ecosystem: scan.NPM, Name: evilName, Version: "1.0.0", Report: evilReport[0]}
	if d := eng.Decide(in); d.Action != policy.ActionBlock {
		t.Fatalf("before the override: %v", d)
	}

	resp, b := f.do(http.MethodPost, "/api/v1/overrides",
		`{"action":"allow","ecosystem":"npm","package":"Evil-Pkg","version":"1.0.0","reason":"reviewed by sec"}`, true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, b)
	}
	var rule policy.Rule
	if err := json.Unmarshal(b, &rule); err != nil {
		t.Fatal(err)
	}
	if rule.ID == "" || rule.Action != policy.ActionAllow || rule.Reason != "reviewed by sec" || rule.CreatedAt.IsZero() {
		t.Errorf("stored rule: %+v", rule)
	}
	if loc := resp.Header.Get("Location"); loc != "/api/v1/overrides/"+rule.ID {
		t.Errorf("Location %q", loc)
	}
	// It takes effect at once: the engine reads the store on every decision.
	if d := eng.Decide(in); d.Action != policy.ActionAllow || d.Layer != policy.LayerRule {
		t.Errorf("after allow: %+v", d)
	}

	var list OverrideList
	f.getJSON("/api/v1/overrides", http.StatusOK, &list)
	if len(list.Overrides) != 1 || list.Overrides[0].ID != rule.ID {
		t.Errorf("list: %+v", list)
	}
	var one policy.Rule
	f.getJSON("/api/v1/overrides/"+rule.ID, http.StatusOK, &one)
	if one.ID != rule.ID {
		t.Errorf("get: %+v", one)
	}
	f.getJSON("/api/v1/overrides/nope", http.StatusNotFound, nil)

	// The same target again replaces the rule (allow → deny), same id.
	resp, b = f.do(http.MethodPost, "/api/v1/overrides",
		`{"action":"deny","ecosystem":"npm","package":"evil-pkg","version":"1.0.0","reason":"changed our mind"}`, true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST deny: %d %s", resp.StatusCode, b)
	}
	var denied policy.Rule
	_ = json.Unmarshal(b, &denied)
	if denied.ID != rule.ID || denied.Action != policy.ActionBlock {
		t.Errorf("replacement: %+v", denied)
	}
	if d := eng.Decide(in); d.Action != policy.ActionBlock || !strings.Contains(d.Reason(), "changed our mind") {
		t.Errorf("after deny: %+v", d)
	}

	resp, b = f.do(http.MethodDelete, "/api/v1/overrides/"+rule.ID, "", true)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), rule.ID) {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, b)
	}
	resp, b = f.do(http.MethodDelete, "/api/v1/overrides/"+rule.ID, "", true)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE again: %d %s", resp.StatusCode, b)
	}
	errorOf(t, b)
	f.getJSON("/api/v1/overrides", http.StatusOK, &list)
	if len(list.Overrides) != 0 {
		t.Errorf("after delete: %+v", list)
	}
}

func TestOverrideValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, body, want string
		code             int
	}{
		{"not json", `{`, "override body", 400},
		{"array", `[]`, "override body", 400},
		{"unknown field", `{"action":"allow","ecosystem":"npm","package":"x","verison":"1"}`, "unknown field", 400},
		{"trailing data", `{"action":"allow","ecosystem":"npm","package":"x"} {}`, "trailing", 400},
		{"no action", `{"ecosystem":"npm","package":"x"}`, "action", 400},
		{"warn action", `{"action":"warn","ecosystem":"npm","package":"x"}`, "action", 400},
		{"bad ecosystem", `{"action":"allow","ecosystem":"cargo","package":"x"}`, "ecosystem", 400},
		{"no package", `{"action":"allow","ecosystem":"npm","package":"  "}`, "package", 400},
		{"version and range", `{"action":"deny","ecosystem":"npm","package":"x","version":"1.0.0","range":"^1"}`, "", 400},
		{"bad range", `{"action":"deny","ecosystem":"npm","package":"x","range":"^^nope"}`, "", 400},
		{"bad glob", `{"action":"deny","ecosystem":"npm","package":"[x"}`, "", 400},
		{"too big", `{"action":"allow","ecosystem":"npm","package":"x","reason":"` + strings.Repeat("a", maxOverrideBytes) + `"}`, "", 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := f.do(http.MethodPost, "/api/v1/overrides", tt.body, true)
			if resp.StatusCode != tt.code {
				t.Fatalf("got %d, want %d: %s", resp.StatusCode, tt.code, b)
			}
			if msg := errorOf(t, b); !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not mention %q", msg, tt.want)
			}
		})
	}
	// Glob and range rules are fine.
	for _, body := range []string{
		`{"action":"deny","ecosystem":"npm","package":"@evil/*","reason":"scope taken over"}`,
		`{"action":"allow","ecosystem":"pypi","package":"Requests","range":"~=2.31"}`,
		`{"action":"block","ecosystem":"npm","package":"x","range":"^1.2"}`,
	} {
		if resp, b := f.do(http.MethodPost, "/api/v1/overrides", body, true); resp.StatusCode != http.StatusCreated {
			t.Errorf("%s: %d %s", body, resp.StatusCode, b)
		}
	}
}

func TestDecisions(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		query string
		want  []string // names, newest first
	}{
		{"", []string{plainName, evilName, "warned", plainName, plainName}},
		{"?limit=2", []string{plainName, evilName}},
		{"?action=block", []string{evilName}},
		{"?action=deny", []string{evilName}},
		{"?action=allow&limit=1", []string{plainName}},
		{"?ecosystem=pypi", []string{"warned"}},
		{"?ecosystem=npm&name=EVIL-PKG", []string{evilName}},
		{"?name=nothing", nil},
		{"?layer=age", []string{"warned"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var got DecisionList
			f.getJSON("/api/v1/decisions"+tt.query, http.StatusOK, &got)
			var names []string
			for _, d := range got.Decisions {
				names = append(names, d.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", names, tt.want)
			}
			if got.Decisions == nil {
				t.Error("decisions is null, want []")
			}
		})
	}
	for _, q := range []string{"?limit=0", "?limit=x", "?limit=-3", "?action=maybe", "?ecosystem=cargo"} {
		t.Run("bad "+q, func(t *testing.T) {
			resp, b := f.do(http.MethodGet, "/api/v1/decisions"+q, "", false)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("got %d: %s", resp.StatusCode, b)
			}
			errorOf(t, b)
		})
	}
}

func TestReportAPI(t *testing.T) {
	f := newFixture(t)
	var rep scan.Report
	f.getJSON("/api/v1/reports/"+evilSHA, http.StatusOK, &rep)
	if rep.Name != evilName || rep.Verdict != scan.VerdictMalicious || len(rep.Findings) != 2 {
		t.Errorf("report: %+v", rep)
	}
	// Upper-case digests are accepted.
	f.getJSON("/api/v1/reports/"+strings.ToUpper(evilSHA), http.StatusOK, nil)
	f.getJSON("/api/v1/reports/"+strings.Repeat("ef", 32), http.StatusNotFound, nil)
	f.getJSON("/api/v1/reports/abc", http.StatusBadRequest, nil)
	f.getJSON("/api/v1/reports/"+strings.Repeat("zz", 32), http.StatusBadRequest, nil)
}

func TestPackageAPI(t *testing.T) {
	f := newFixture(t)
	if resp, b := f.do(http.MethodPost, "/api/v1/overrides", `{"action":"deny","ecosystem":"npm","package":"evil-*","reason":"r"}`, true); resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var v PackageView
	f.getJSON("/api/v1/packages/npm/Evil-Pkg", http.StatusOK, &v)
	if v.Name != evilName || len(v.Reports) != 1 || v.Reports[0].SHA256 != evilSHA || len(v.Decisions) != 1 || len(v.Overrides) != 1 {
		t.Errorf("package view: %+v", v)
	}
	f.getJSON("/api/v1/packages/npm/plain-pkg?version=2.0.0&limit=2", http.StatusOK, &v)
	if len(v.Reports) != 1 || len(v.Decisions) != 2 || len(v.Overrides) != 0 {
		t.Errorf("with version: reports %d decisions %d overrides %d", len(v.Reports), len(v.Decisions), len(v.Overrides))
	}
	f.getJSON("/api/v1/packages/npm/plain-pkg?version=9.9.9", http.StatusOK, &v)
	if len(v.Reports) != 0 || len(v.Decisions) != 0 || v.Reports == nil {
		t.Errorf("unknown version: %+v", v)
	}

	// Scoped names keep their slash (and may come escaped).
	ctx := context.Background()
	scoped := &scan.Report{Ecosystem: scan.NPM, Name: "@acme/tool", Version: "1.0.0", SHA256: strings.Repeat("12", 32),
		Verdict: scan.VerdictClean, ScannerVersion: "scan-1"}
	if err := f.store.PutReport(ctx, scoped); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/v1/packages/npm/@acme/tool", "/api/v1/packages/npm/@acme%2ftool"} {
		f.getJSON(p, http.StatusOK, &v)
		if v.Name != "@acme/tool" || len(v.Reports) != 1 {
			t.Errorf("%s: %+v", p, v)
		}
	}
	f.getJSON("/api/v1/packages/cargo/serde", http.StatusBadRequest, nil)
	f.getJSON("/api/v1/packages/npm/x?limit=nope", http.StatusBadRequest, nil)
}

func TestStatsAPI(t *testing.T) {
	f := newFixture(t)
	var s Stats
	f.getJSON("/api/v1/stats", http.StatusOK, &s)
	if s.Version != "1.2.3-test" || s.PolicyMode != "enforce" {
		t.Errorf("header fields: %+v", s)
	}
	if s.Store.Records["reports"] != 2 {
		t.Errorf("store records: %v", s.Store.Records)
	}
	d := s.Decisions
	if d.Window != 5 || d.ByAction["allow"] != 3 || d.ByAction["block"] != 1 || d.ByAction["warn"] != 1 ||
		d.ByLayer["scan"] != 4 || d.ByLayer["age"] != 1 || d.ByEcosystem["npm"] != 4 || !d.Since.Equal(testNow.Add(-20*time.Hour)) {
		t.Errorf("decision stats: %+v", d)
	}
	if s.Feeds == nil {
		t.Error("feeds is null")
	}
}

func TestFeedsAPI(t *testing.T) {
	f := newFixture(t)
	var list FeedList
	f.getJSON("/api/v1/feeds", http.StatusOK, &list)
	if len(list.Sources) != 0 || list.Sources == nil {
		t.Errorf("empty: %+v", list)
	}
	recs := []feed.Record{
		{ID: "MAL-1", Ecosystem: scan.NPM, Name: "Bad-Thing", AllVersions: true, Summary: "steals tokens"},
		{ID: "MAL-2", Ecosystem: scan.PyPI, Name: "Evil_Lib", Versions: []string{"1.0"}},
	}
	body, _ := json.Marshal(recs)
	resp, b := f.do(http.MethodPost, "/api/v1/feeds/osv", string(body), true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d %s", resp.StatusCode, b)
	}
	var res FeedResult
	if err := json.Unmarshal(b, &res); err != nil || res.Records != 2 || res.Source != "osv" {
		t.Errorf("result %+v %v", res, err)
	}
	got, err := f.store.FeedLookup(context.Background(), scan.PyPI, "evil-lib")
	if err != nil || len(got) != 1 || got[0].Name != "evil-lib" {
		t.Errorf("lookup: %+v %v", got, err)
	}
	f.getJSON("/api/v1/feeds", http.StatusOK, &list)
	if len(list.Sources) != 1 || list.Sources[0].Name != "osv" || list.Sources[0].Records != 2 {
		t.Errorf("sources: %+v", list)
	}
	// Posting again replaces the source.
	if resp, b := f.do(http.MethodPost, "/api/v1/feeds/osv", `[{"id":"MAL-3","ecosystem":"npm","name":"other"}]`, true); resp.StatusCode != 200 {
		t.Fatalf("replace: %d %s", resp.StatusCode, b)
	}
	if got, _ := f.store.FeedLookup(context.Background(), scan.NPM, "bad-thing"); len(got) != 0 {
		t.Errorf("old records survived the replacement: %+v", got)
	}

	bad := []struct{ name, path, body string }{
		{"bad source", "/api/v1/feeds/..%2fx", `[]`},
		{"source with space", "/api/v1/feeds/a%20b", `[]`},
		{"object", "/api/v1/feeds/osv", `{}`},
		{"no id", "/api/v1/feeds/osv", `[{"ecosystem":"npm","name":"x"}]`},
		{"bad ecosystem", "/api/v1/feeds/osv", `[{"id":"M","ecosystem":"Go","name":"x"}]`},
		{"no name", "/api/v1/feeds/osv", `[{"id":"M","ecosystem":"npm","name":" "}]`},
		{"NUL in name", "/api/v1/feeds/osv", `[{"id":"M","ecosystem":"npm","name":"a\u0000b"}]`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := f.do(http.MethodPost, tt.path, tt.body, true)
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
				t.Fatalf("got %d: %s", resp.StatusCode, b)
			}
		})
	}
}

func TestFeedBodyLimit(t *testing.T) {
	f := newFixture(t)
	a, err := New(Options{Store: f.store, Audit: f.audit, Token: testToken, MaxFeedBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/feeds/osv", strings.NewReader(`[{"id":"`+strings.Repeat("x", 200)+`"}]`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("got %d: %s", rec.Code, rec.Body)
	}
}

func TestUnknownRoutes(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		method, path string
		code         int
		allow        string
	}{
		{http.MethodGet, "/api/v1/nothing", 404, ""},
		{http.MethodPut, "/api/v1/overrides", 405, "GET, POST"},
		{http.MethodPost, "/api/v1/decisions", 405, "GET"},
		{http.MethodDelete, "/api/v1/feeds", 405, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, b := f.do(tt.method, tt.path, "", true)
			if resp.StatusCode != tt.code {
				t.Fatalf("got %d: %s", resp.StatusCode, b)
			}
			errorOf(t, b)
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}

func TestStatusPage(t *testing.T) {
	f := newFixture(t)
	resp, b := f.do(http.MethodGet, "/", "", false)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	page := string(b)
	for _, want := range []string{
		evilName, "1.0.0", "scanner flagged it: &lt;script&gt;", `href="/reports/` + evilSHA + `"`,
		`<svg`, `class="block"`, `class="allow"`, `class="warn"`, `class="latency"`, "median", "1.2.3-test",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if !strings.Contains(page, "npm config set registry "+f.srv.URL+"/npm/") {
		t.Error("status page lacks the npm setup hint")
	}
	assertNoActiveContent(t, page)
	golden(t, "status.html", bytes.ReplaceAll(b, []byte(f.srv.URL), []byte("http://moat.test")))

	// A hostile Host header is escaped like everything else.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Host = `x"><script>alert(1)</script>`
	rec := httptest.NewRecorder()
	f.admin.ServeHTTP(rec, req)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "<script>") {
		t.Errorf("hostile Host: %d, page carries the raw script", rec.Code)
	}
}

func TestReportPage(t *testing.T) {
	f := newFixture(t)
	resp, b := f.do(http.MethodGet, "/reports/"+evilSHA, "", false)
	if resp.StatusCode != 200 {
		t.Fatalf("GET: %d %s", resp.StatusCode, b)
	}
	page := string(b)
	for _, want := range []string{
		"malicious", "0.970", "0.500", "setup.js:3", "install phase", "import phase", "scan-1", "model-1",
		"&lt;script&gt;alert(&#34;pwn&#34;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;.js:7", "scanner flagged it",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	assertNoActiveContent(t, page)
	golden(t, "report.html", b)

	resp, b = f.do(http.MethodGet, "/reports/"+strings.Repeat("ef", 32), "", false)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "No report") {
		t.Errorf("missing report: %d %s", resp.StatusCode, b)
	}
	resp, b = f.do(http.MethodGet, "/reports/%3Cscript%3E", "", false)
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(b), "<script>") {
		t.Errorf("bad sha: %d %s", resp.StatusCode, b)
	}
}

// assertNoActiveContent checks that a page carries no script and loads
// nothing from elsewhere.
func assertNoActiveContent(t *testing.T, page string) {
	t.Helper()
	low := strings.ToLower(page)
	for _, bad := range []string{"<script", "<img", "<iframe", "src=\"http", "href=\"http", "@import", "url(http"} {
		if i := strings.Index(low, bad); i >= 0 {
			t.Errorf("page contains %q near %q", bad, page[max(0, i-60):min(len(page), i+60)])
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update and review the diff)", name, path)
	}
}
