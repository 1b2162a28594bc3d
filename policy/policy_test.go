package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/moatproject/moat/scan"
	"github.com/moatproject/moat/scan/behaviour"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

type fakeOverrides []Rule

func (f fakeOverrides) Rules() []Rule { return f }

// fakeFeed matches exact versions only.
type fakeFeed map[string][]fakeRec

type fakeRec struct {
	id        string
	versions  []string
	all       bool
	withdrawn bool
}

func (f fakeFeed) Lookup(eco scan.Ecosystem, name string) []FeedRecord {
	var out []FeedRecord
	for _, r := range f[string(eco)+" "+name] {
		out = append(out, FeedRecord{ID: r.id, Withdrawn: r.withdrawn, AllVersions: r.all, Affects: func(v string) bool {
			for _, x := range r.versions {
				if x == v {
					return true
				}
			}
			return false
		}})
	}
	return out
}

func report(score float64) *scan.Report {
	v := scan.VerdictClean
	if score >= 0.5 {
		v = scan.VerdictMalicious
	}
	return &scan.Report{Verdict: v, Score: score, Threshold: 0.5,
		Findings: []scan.Finding{{Feature: "net.http_request", File: "index.js", Line: 3}}}
}

func ruleReport() *scan.Report {
	r := report(1)
	r.DecidedBy = "rule:install.self_publish"
	r.Rules = []behaviour.Hit{{Rule: "install.self_publish", File: "bundle.js", Kind: "install", Why: "install-time code publishes packages"}}
	return r
}

func unitReport() *scan.Report {
	r := report(0.9996)
	r.DecidedBy = "unit:import:lib/evil.js"
	return r
}

func ptr[T any](v T) *T { return &v }

func TestDecide(t *testing.T) {
	old := now.Add(-30 * 24 * time.Hour)
	young := now.Add(-2 * time.Hour)
	feed := fakeFeed{
		"npm evil-pkg":       {{id: "MAL-0001", all: true}},
		"npm half-evil":      {{id: "MAL-0002", versions: []string{"2.0.0"}}},
		"npm gone-evil":      {{id: "MAL-0003", all: true, withdrawn: true}},
		"npm named-only":     {{id: "MAL-0004"}}, // no versions, not all: never blocks
		"pypi evil-py-thing": {{id: "MAL-0005", versions: []string{"1.0"}}},
	}
	base := Config{
		MinReleaseAge:     Duration(48 * time.Hour),
		ReleaseAgeExclude: []string{"@acme/*", "Internal_Tools"},
		Allow: []Rule{
			{Ecosystem: scan.NPM, Package: "evil-pkg", Version: "1.0.0", Reason: "vetted by security"},
			{Ecosystem: scan.NPM, Package: "@trusted/*"},
			{Ecosystem: scan.NPM, Package: "lodash", Range: "^4.17.0"},
			{Ecosystem: scan.PyPI, Package: "Django", Range: ">=4.0,<5"},
		},
		Deny: []Rule{
			{Ecosystem: scan.NPM, Package: "lodash", Version: "4.17.99", Reason: "bad build"},
			{Ecosystem: scan.NPM, Package: "@trusted/bad"},
			{Ecosystem: scan.NPM, Package: "@trusted/*", Version: "9.9.9"},
			{Ecosystem: scan.NPM, Package: "dup"},
			{Ecosystem: scan.PyPI, Package: "typo_squat.pkg"},
		},
	}
	base.Allow = append(base.Allow, Rule{Ecosystem: scan.NPM, Package: "dup"})
	overrides := fakeOverrides{
		{ID: "ov1", Action: ActionAllow, Ecosystem: scan.NPM, Package: "half-evil", Version: "2.0.0", Reason: "false positive"},
		{ID: "ov2", Action: ActionBlock, Ecosystem: scan.PyPI, Package: "requests", Range: ">=2.99,<3"},
	}
	type tc struct {
		name   string
		mut    func(*Config)
		in     Input
		action Action
		layer  string
		would  bool
		rule   string
		reason string // substring of Reason()
	}
	cases := []tc{
		// layer 1: rules
		{name: "allow exact version beats feed", in: Input{Ecosystem: scan.NPM, Name: "evil-pkg", Version: "1.0.0", PublishedAt: old}, action: ActionAllow, layer: LayerRule, rule: "config allow npm evil-pkg@1.0.0", reason: "vetted by security"},
		{name: "other version of allowed falls to feed", in: Input{Ecosystem: scan.NPM, Name: "evil-pkg", Version: "1.0.1", PublishedAt: old}, action: ActionBlock, layer: LayerFeed, rule: "feed MAL-0001"},
		{name: "scope glob allow beats scan", in: Input{Ecosystem: scan.NPM, Name: "@trusted/x", Version: "1.0.0", Report: report(0.99)}, action: ActionAllow, layer: LayerRule},
		{name: "exact name deny beats scope glob allow", in: Input{Ecosystem: scan.NPM, Name: "@trusted/bad", Version: "1.0.0"}, action: ActionBlock, layer: LayerRule, rule: "config deny npm @trusted/bad"},
		{name: "glob+version deny beats glob allow", in: Input{Ecosystem: scan.NPM, Name: "@trusted/x", Version: "9.9.9"}, action: ActionBlock, layer: LayerRule},
		{name: "escaped scope matches", in: Input{Ecosystem: scan.NPM, Name: "@Trusted%2fbad", Version: "1.0.0"}, action: ActionBlock, layer: LayerRule},
		{name: "exact version deny beats range allow", in: Input{Ecosystem: scan.NPM, Name: "lodash", Version: "4.17.99"}, action: ActionBlock, layer: LayerRule, reason: "bad build"},
		{name: "range allow", in: Input{Ecosystem: scan.NPM, Name: "lodash", Version: "4.17.21", Report: report(0.9)}, action: ActionAllow, layer: LayerRule, rule: "config allow npm lodash ^4.17.0"},
		{name: "outside range falls through", in: Input{Ecosystem: scan.NPM, Name: "lodash", Version: "3.0.0", Report: report(0.1), PublishedAt: old}, action: ActionAllow, layer: LayerScan},
		{name: "deny beats allow at equal specificity", in: Input{Ecosystem: scan.NPM, Name: "dup", Version: "1.0.0"}, action: ActionBlock, layer: LayerRule},
		{name: "pypi normalised deny", in: Input{Ecosystem: scan.PyPI, Name: "Typo-Squat_PKG", Version: "0.1"}, action: ActionBlock, layer: LayerRule},
		{name: "pypi specifier allow normalised name", in: Input{Ecosystem: scan.PyPI, Name: "django", Version: "4.2", Report: report(0.99)}, action: ActionAllow, layer: LayerRule},
		{name: "rules are per ecosystem", in: Input{Ecosystem: scan.PyPI, Name: "lodash", Version: "4.17.99"}, action: ActionAllow, layer: LayerDefault},
		{name: "override allow beats feed", in: Input{Ecosystem: scan.NPM, Name: "half-evil", Version: "2.0.0"}, action: ActionAllow, layer: LayerRule, rule: "override ov1: allow npm half-evil@2.0.0"},
		{name: "override deny range", in: Input{Ecosystem: scan.PyPI, Name: "Requests", Version: "2.99.1"}, action: ActionBlock, layer: LayerRule, rule: "override ov2: deny pypi requests >=2.99,<3"},
		{name: "version rule needs a version", in: Input{Ecosystem: scan.NPM, Name: "lodash"}, action: ActionAllow, layer: LayerDefault},

		// layer 2: feed
		{name: "feed affected version", in: Input{Ecosystem: scan.NPM, Name: "half-evil", Version: "2.0.1"}, action: ActionAllow, layer: LayerDefault},
		{name: "feed all versions", in: Input{Ecosystem: scan.NPM, Name: "evil-pkg", Version: "3.0.0", PublishedAt: young}, action: ActionBlock, layer: LayerFeed, reason: "known malicious"},
		{name: "feed beats age", in: Input{Ecosystem: scan.NPM, Name: "evil-pkg", Version: "3.0.0", PublishedAt: young}, action: ActionBlock, layer: LayerFeed},
		{name: "feed withdrawn ignored", in: Input{Ecosystem: scan.NPM, Name: "gone-evil", Version: "1.0.0"}, action: ActionAllow, layer: LayerDefault},
		{name: "feed name-only record without all-versions", in: Input{Ecosystem: scan.NPM, Name: "named-only", Version: "1.0.0"}, action: ActionAllow, layer: LayerDefault},
		{name: "feed pypi normalised", in: Input{Ecosystem: scan.PyPI, Name: "Evil.Py_Thing", Version: "1.0"}, action: ActionBlock, layer: LayerFeed, rule: "feed MAL-0005"},

		// layer 3: age
		{name: "too young", in: Input{Ecosystem: scan.NPM, Name: "fresh", Version: "1.0.0", PublishedAt: young, Report: report(0.1)}, action: ActionBlock, layer: LayerAge, reason: "less than min_release_age 48h0m0s"},
		{name: "age beats scan", in: Input{Ecosystem: scan.NPM, Name: "fresh", Version: "1.0.0", PublishedAt: young, Report: report(0.9)}, action: ActionBlock, layer: LayerAge},
		{name: "future publish time is young", in: Input{Ecosystem: scan.NPM, Name: "fresh", Version: "1.0.0", PublishedAt: now.Add(time.Hour)}, action: ActionBlock, layer: LayerAge},
		{name: "old enough", in: Input{Ecosystem: scan.NPM, Name: "fresh", Version: "1.0.0", PublishedAt: old}, action: ActionAllow, layer: LayerDefault},
		{name: "age exempt scope", in: Input{Ecosystem: scan.NPM, Name: "@acme/lib", Version: "1.0.0", PublishedAt: young}, action: ActionAllow, layer: LayerDefault},
		{name: "age exempt pypi normalised", in: Input{Ecosystem: scan.PyPI, Name: "internal.tools", Version: "1.0", PublishedAt: young}, action: ActionAllow, layer: LayerDefault},
		{name: "unknown age allowed by default", in: Input{Ecosystem: scan.NPM, Name: "fresh", Version: "1.0.0"}, action: ActionAllow, layer: LayerDefault},
		{name: "unknown age block", mut: func(c *Config) { c.UnknownAge = ValueBlock }, in: Input{Ecosystem: scan.NPM, Name: "fresh", Version: "1.0.0"}, action: ActionBlock, layer: LayerAge, reason: "no known publish time"},
		{name: "age disabled", mut: func(c *Config) { c.MinReleaseAge = 0 }, in: Input{Ecosystem: scan.NPM, Name: "fresh", Version: "1.0.0", PublishedAt: young}, action: ActionAllow, layer: LayerDefault},

		// layer 4: scan
		{name: "scan flagged", in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", PublishedAt: old, Report: report(0.97)}, action: ActionBlock, layer: LayerScan, reason: "net.http_request at index.js:3"},
		{name: "scan flagged by a behaviour rule", in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", Report: ruleReport()}, action: ActionBlock, layer: LayerScan,
			reason: "behaviour rule install.self_publish in bundle.js: install-time code publishes packages"},
		{name: "scan flagged by a unit", in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", Report: unitReport()}, action: ActionBlock, layer: LayerScan,
			reason: "(score 1.00 >= 0.50) in import:lib/evil.js"},
		{name: "scan at threshold blocks", in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", Report: report(0.5)}, action: ActionBlock, layer: LayerScan},
		{name: "scan clean", in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", Report: report(0.2)}, action: ActionAllow, layer: LayerScan},
		{name: "threshold override lowers bar", mut: func(c *Config) { c.ThresholdOverride = ptr(0.1) }, in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", Report: report(0.2)}, action: ActionBlock, layer: LayerScan},
		{name: "threshold override raises bar", mut: func(c *Config) { c.ThresholdOverride = ptr(0.99) }, in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", Report: report(0.9)}, action: ActionAllow, layer: LayerScan},

		// layer 5: scan error
		{name: "scan error blocks by default", in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", ScanErr: errors.New("timeout")}, action: ActionBlock, layer: LayerScanError, reason: "could not be scanned (timeout)"},
		{name: "error report blocks", in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", Report: &scan.Report{Verdict: scan.VerdictError, Error: "too big", ErrorKind: "archive.too_large"}}, action: ActionBlock, layer: LayerScanError, reason: "archive.too_large: too big"},
		{name: "scan error allowed", mut: func(c *Config) { c.OnScanError = ValueAllow }, in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", ScanErr: errors.New("timeout")}, action: ActionAllow, layer: LayerScanError},
		{name: "not scanned", in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0"}, action: ActionAllow, layer: LayerDefault},

		// modes
		{name: "warn mode", mut: func(c *Config) { c.Mode = ModeWarn }, in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", Report: report(0.97)}, action: ActionWarn, layer: LayerScan, would: true, reason: "flagged"},
		{name: "audit mode", mut: func(c *Config) { c.Mode = ModeAudit }, in: Input{Ecosystem: scan.NPM, Name: "evil-pkg", Version: "2.0.0"}, action: ActionAllow, layer: LayerFeed, would: true, rule: "feed MAL-0001"},
		{name: "audit mode allow untouched", mut: func(c *Config) { c.Mode = ModeAudit }, in: Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0", Report: report(0.1)}, action: ActionAllow, layer: LayerScan},
		{name: "warn mode deny rule", mut: func(c *Config) { c.Mode = ModeWarn }, in: Input{Ecosystem: scan.NPM, Name: "dup", Version: "1.0.0"}, action: ActionWarn, layer: LayerRule, would: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			if c.mut != nil {
				c.mut(&cfg)
			}
			e, err := New(cfg, Deps{Overrides: overrides, Feed: feed, Clock: fixedClock(now)})
			if err != nil {
				t.Fatal(err)
			}
			d := e.Decide(c.in)
			if d.Action != c.action || d.Layer != c.layer || d.WouldBlock != c.would {
				t.Fatalf("got %v/%s would=%v (%q), want %v/%s would=%v", d.Action, d.Layer, d.WouldBlock, d.Reason(), c.action, c.layer, c.would)
			}
			if c.rule != "" && d.Rule != c.rule {
				t.Errorf("rule = %q, want %q", d.Rule, c.rule)
			}
			if !strings.Contains(d.Reason(), c.reason) {
				t.Errorf("reason %q lacks %q", d.Reason(), c.reason)
			}
			if d.Mode == "" {
				t.Error("mode not set")
			}
		})
	}
}

func TestVisibleInMetadata(t *testing.T) {
	feed := fakeFeed{"npm evil": {{id: "MAL-1", all: true}}}
	cfg := Config{
		MinReleaseAge: Duration(24 * time.Hour),
		Deny:          []Rule{{Ecosystem: scan.NPM, Package: "banned"}},
	}
	old := now.Add(-72 * time.Hour)
	cases := []struct {
		name string
		mut  func(*Config)
		in   Input
		want bool
	}{
		{"plain", nil, Input{Ecosystem: scan.NPM, Name: "ok", Version: "1.0.0", PublishedAt: old}, true},
		{"deny rule", nil, Input{Ecosystem: scan.NPM, Name: "banned", Version: "1.0.0", PublishedAt: old}, false},
		{"feed", nil, Input{Ecosystem: scan.NPM, Name: "evil", Version: "1.0.0", PublishedAt: old}, false},
		{"too young", nil, Input{Ecosystem: scan.NPM, Name: "ok", Version: "1.0.0", PublishedAt: now.Add(-time.Hour)}, false},
		{"cached blocking report", nil, Input{Ecosystem: scan.NPM, Name: "ok", Version: "1.0.0", PublishedAt: old, Report: report(0.9)}, false},
		{"scan error does not hide", nil, Input{Ecosystem: scan.NPM, Name: "ok", Version: "1.0.0", PublishedAt: old, ScanErr: errors.New("x")}, true},
		{"error report does not hide", nil, Input{Ecosystem: scan.NPM, Name: "ok", Version: "1.0.0", PublishedAt: old, Report: &scan.Report{Verdict: scan.VerdictError}}, true},
		{"hiding off", func(c *Config) { c.HideBlockedVersions = ptr(false) }, Input{Ecosystem: scan.NPM, Name: "banned", Version: "1.0.0"}, true},
		{"warn mode shows", func(c *Config) { c.Mode = ModeWarn }, Input{Ecosystem: scan.NPM, Name: "banned", Version: "1.0.0"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cf := cfg
			if c.mut != nil {
				c.mut(&cf)
			}
			e, err := New(cf, Deps{Feed: feed, Clock: fixedClock(now)})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.VisibleInMetadata(c.in); got != c.want {
				t.Fatalf("VisibleInMetadata = %v, want %v", got, c.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string // "" = valid
	}{
		{"zero", Config{}, ""},
		{"mode", Config{Mode: "strict"}, `policy.mode: "strict" is not one of enforce, warn, audit`},
		{"age", Config{MinReleaseAge: -1}, "policy.min_release_age: -1ns is negative"},
		{"unknown_age", Config{UnknownAge: "maybe"}, `policy.unknown_age: "maybe" is not one of allow, block`},
		{"on_scan_error", Config{OnScanError: "warn"}, `policy.on_scan_error: "warn"`},
		{"threshold", Config{ThresholdOverride: ptr(1.5)}, "policy.threshold_override: 1.5 is outside (0, 1]"},
		{"glob", Config{ReleaseAgeExclude: []string{"[abc"}}, "policy.release_age_exclude[0]: bad name pattern"},
		{"no ecosystem", Config{Deny: []Rule{{Package: "x"}}}, `policy.deny[0]: package "x": ecosystem must be npm or pypi`},
		{"no package", Config{Allow: []Rule{{Ecosystem: scan.NPM}}}, "policy.allow[0]: package is required"},
		{"both", Config{Allow: []Rule{{Ecosystem: scan.NPM, Package: "x", Version: "1.0.0", Range: "^1"}}}, "version and range are mutually exclusive"},
		{"bad version", Config{Deny: []Rule{{Ecosystem: scan.NPM, Package: "x", Version: "not-a-version"}}}, `policy.deny[0]: package "x": version "not-a-version"`},
		{"bad range", Config{Deny: []Rule{{Ecosystem: scan.PyPI, Package: "x", Range: "=>1"}}}, `policy.deny[0]: package "x": range "=>1"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			if _, err := New(c.cfg, Deps{}); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
mode: warn
min_release_age: 7d
release_age_exclude: ["@acme/*"]
unknown_age: block
on_scan_error: allow
threshold_override: 0.8
hide_blocked_versions: false
allow:
  - {ecosystem: npm, package: "@acme/*", reason: "ours"}
deny:
  - {ecosystem: npm, package: left-pad, version: 1.3.0, reason: "pinned"}
  - {ecosystem: pypi, package: requests, range: "~=2.0"}
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeWarn || time.Duration(c.MinReleaseAge) != 7*24*time.Hour || c.UnknownAge != "block" ||
		c.OnScanError != "allow" || *c.ThresholdOverride != 0.8 || *c.HideBlockedVersions ||
		len(c.Allow) != 1 || len(c.Deny) != 2 || c.Deny[1].Range != "~=2.0" || c.Deny[0].Version != "1.3.0" {
		t.Fatalf("decoded %+v", c)
	}
	d := Default()
	if d.Mode != ModeEnforce || d.UnknownAge != ValueAllow || d.OnScanError != ValueBlock || !*d.HideBlockedVersions {
		t.Fatalf("defaults %+v", d)
	}
}

func TestParseDuration(t *testing.T) {
	cases := map[string]time.Duration{
		"": 0, "0": 0, "48h": 48 * time.Hour, "7d": 7 * 24 * time.Hour, "1w": 7 * 24 * time.Hour,
		"1d12h": 36 * time.Hour, "1w1d": 8 * 24 * time.Hour, "90m": 90 * time.Minute,
	}
	for in, want := range cases {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"d", "7x", "1d2", "abc"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	cases := []struct {
		eco      scan.Ecosystem
		in, want string
	}{
		{scan.PyPI, "Foo.Bar__baz--Qux", "foo-bar-baz-qux"},
		{scan.PyPI, "requests", "requests"},
		{scan.PyPI, " Django ", "django"},
		{scan.NPM, "@Scope%2fName", "@scope/name"},
		{scan.NPM, "@scope/name", "@scope/name"},
		{scan.NPM, "Left_Pad.js", "left_pad.js"},
	}
	for _, c := range cases {
		if got := NormalizeName(c.eco, c.in); got != c.want {
			t.Errorf("NormalizeName(%s, %q) = %q, want %q", c.eco, c.in, got, c.want)
		}
	}
}

func TestActionJSONAndRule(t *testing.T) {
	r := Rule{ID: "abc", Action: ActionBlock, Ecosystem: scan.NPM, Package: "x", Version: "1.0.0"}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"action":"block"`) {
		t.Fatalf("json %s", b)
	}
	var back Rule
	if err := json.Unmarshal([]byte(`{"action":"deny","ecosystem":"pypi","package":"Foo_Bar"}`), &back); err != nil {
		t.Fatal(err)
	}
	if back.Action != ActionBlock || back.Validate() != nil || back.Key() != "pypi foo-bar" {
		t.Fatalf("back %+v key %q", back, back.Key())
	}
	if err := (Rule{Ecosystem: scan.NPM, Package: "x"}).Validate(); err == nil {
		t.Fatal("override without action accepted")
	}
	if got := r.String(); got != "override abc: deny npm x@1.0.0" {
		t.Fatalf("String = %q", got)
	}
}

func TestInvalidOverrideIgnored(t *testing.T) {
	e, err := New(Config{}, Deps{Overrides: fakeOverrides{{Action: ActionBlock, Ecosystem: scan.NPM, Package: "x", Range: "not a range"}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := e.Decide(Input{Ecosystem: scan.NPM, Name: "x", Version: "1.0.0"}); d.Action != ActionAllow {
		t.Fatalf("invalid override applied: %+v", d)
	}
}

func TestRuleVersionMatching(t *testing.T) {
	cases := []struct {
		rule    Rule
		name    string
		version string
		want    bool
	}{
		{Rule{Ecosystem: scan.NPM, Package: "x", Version: "1.3.0"}, "x", "1.3.0", true},
		{Rule{Ecosystem: scan.NPM, Package: "x", Version: "1.3.0"}, "x", "v1.3.0", true},
		{Rule{Ecosystem: scan.NPM, Package: "x", Version: "1.3.0"}, "x", "1.3.1", false},
		{Rule{Ecosystem: scan.NPM, Package: "x", Range: "^1.2"}, "x", "1.9.9", true},
		{Rule{Ecosystem: scan.NPM, Package: "x", Range: "^1.2"}, "x", "2.0.0", false},
		{Rule{Ecosystem: scan.NPM, Package: "x", Range: ">=1 <2 || 3.x"}, "x", "3.1.0", true},
		{Rule{Ecosystem: scan.NPM, Package: "x", Range: "^1.2"}, "x", "garbage", false},
		{Rule{Ecosystem: scan.NPM, Package: "@acme/*"}, "@acme/tool", "", true},
		{Rule{Ecosystem: scan.NPM, Package: "@acme/*"}, "@acme/sub/x", "", false},
		{Rule{Ecosystem: scan.NPM, Package: "@acme/*"}, "@acme-evil/tool", "", false},
		{Rule{Ecosystem: scan.NPM, Package: "acme-*"}, "acme-cli", "", true},
		{Rule{Ecosystem: scan.PyPI, Package: "x", Version: "1.0"}, "x", "1.0.0", true},
		{Rule{Ecosystem: scan.PyPI, Package: "x", Range: "~=1.4"}, "x", "1.9", true},
		{Rule{Ecosystem: scan.PyPI, Package: "x", Range: "~=1.4"}, "x", "2.0", false},
		{Rule{Ecosystem: scan.PyPI, Package: "x", Range: "==2.99.*"}, "x", "2.99.3", true},
		{Rule{Ecosystem: scan.PyPI, Package: "Acme_*"}, "acme-tools", "", true},
	}
	for _, c := range cases {
		cr, err := compileRule(c.rule, "config")
		if err != nil {
			t.Fatalf("%+v: %v", c.rule, err)
		}
		if got := cr.matches(NormalizeName(c.rule.Ecosystem, c.name), c.version); got != c.want {
			t.Errorf("%s matches %s@%s = %v, want %v", c.rule, c.name, c.version, got, c.want)
		}
	}
}
