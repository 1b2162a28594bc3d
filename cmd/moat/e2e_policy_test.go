package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/internal/feed"
	"github.com/moatproject/moat/internal/store"
	"github.com/moatproject/moat/internal/testutil/npmfake"
	"github.com/moatproject/moat/internal/testutil/pypifake"
	"github.com/moatproject/moat/policy"
	"github.com/moatproject/moat/scan"
)

// seedFeed writes known-malicious records into a data dir before moat starts.
func seedFeed(t *testing.T, dir string, recs ...feed.Record) {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.PutFeedRecords(context.Background(), "test-osv", recs); err != nil {
		t.Fatal(err)
	}
}

func installedVersion(t *testing.T, dir, pkg string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json"))
	if err != nil {
		t.Fatalf("%s not installed: %v", pkg, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `"version"`) {
			return strings.Trim(strings.TrimSpace(strings.SplitN(line, ":", 2)[1]), `",`)
		}
	}
	return ""
}

// TestNPMMetadataFiltering: versions policy refuses are hidden from the
// packument, so a range resolves to an allowed version.
func TestNPMMetadataFiltering(t *testing.T) {
	reg := npmfake.New()
	defer reg.Close()
	files := map[string]string{"index.js": "module.exports = 1;\n"}
	month := time.Now().Add(-30 * 24 * time.Hour)
	reg.Add("moat-fixture-fed", npmfake.Version{Version: "1.0.0", Files: files, Published: month})
	reg.Add("moat-fixture-fed", npmfake.Version{Version: "1.1.0", Files: files, Published: month.Add(time.Hour)})
	reg.Add("moat-fixture-young", npmfake.Version{Version: "1.0.0", Files: files, Published: month})
	reg.Add("moat-fixture-young", npmfake.Version{Version: "1.1.0", Files: files, Published: time.Now().Add(-time.Hour)})

	t.Run("feed-listed version is hidden", func(t *testing.T) {
		data := t.TempDir()
		seedFeed(t, data, feed.Record{ID: "MAL-TEST-0001", Ecosystem: scan.NPM, Name: "moat-fixture-fed", Versions: []string{"1.1.0"}, Summary: "test record"})
		cfg := testConfig(reg.URL())
		cfg.Server.DataDir = data
		m := startMoat(t, cfg)
		dir := writeProject(t, map[string]string{"moat-fixture-fed": "^1.0.0"})
		if out, err := npmRun(t, dir, t.TempDir(), "install", "--registry", m.URL+"/npm/"); err != nil {
			t.Fatalf("npm install: %v\n%s", err, out)
		}
		if v := installedVersion(t, dir, "moat-fixture-fed"); v != "1.0.0" {
			t.Errorf("installed %s, want 1.0.0 (1.1.0 is in the feed)", v)
		}
	})

	for _, c := range []struct {
		name string
		age  time.Duration
		want string
	}{
		{"48h release age hides a version published an hour ago", 48 * time.Hour, "1.0.0"},
		{"with the rule off it reappears", 0, "1.1.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(reg.URL())
			cfg.Policy.MinReleaseAge = policy.Duration(c.age)
			m := startMoat(t, cfg)
			dir := writeProject(t, map[string]string{"moat-fixture-young": "^1.0.0"})
			if out, err := npmRun(t, dir, t.TempDir(), "install", "--registry", m.URL+"/npm/"); err != nil {
				t.Fatalf("npm install: %v\n%s", err, out)
			}
			if v := installedVersion(t, dir, "moat-fixture-young"); v != c.want {
				t.Errorf("installed %s, want %s", v, c.want)
			}
		})
	}
}

// TestPipMetadataFiltering is the same for pip: a feed-listed version and a
// too-young version are left out of the index page.
func TestPipMetadataFiltering(t *testing.T) {
	ix := pypifake.New()
	defer ix.Close()
	month := time.Now().Add(-30 * 24 * time.Hour)
	for _, p := range []struct {
		name, version string
		at            time.Time
	}{
		{"fedlib", "1.0.0", month}, {"fedlib", "1.1.0", month.Add(time.Hour)},
		{"younglib", "1.0.0", month}, {"younglib", "1.1.0", time.Now().Add(-time.Hour)},
	} {
		fn, data, _ := pypifake.Wheel(p.name, p.version, map[string]string{p.name + "/__init__.py": "V = '" + p.version + "'\n"})
		ix.Add(p.name, &pypifake.File{Filename: fn, Data: data, Uploaded: p.at})
	}
	data := t.TempDir()
	seedFeed(t, data, feed.Record{ID: "MAL-TEST-0002", Ecosystem: scan.PyPI, Name: "fedlib", Versions: []string{"1.1.0"}})
	cfg := testConfigPyPI(ix.URL())
	cfg.Server.DataDir = data
	cfg.Policy.MinReleaseAge = policy.Duration(48 * time.Hour)
	m := startMoat(t, cfg)
	for _, pkg := range []string{"fedlib", "younglib"} {
		dest := t.TempDir()
		out, err := pip(t, m.URL+"/pypi/simple/", "download", "--no-deps", "--dest", dest, pkg)
		if err != nil {
			t.Fatalf("pip download %s: %v\n%s", pkg, err, out)
		}
		if _, err := os.Stat(filepath.Join(dest, pkg+"-1.0.0-py3-none-any.whl")); err != nil {
			entries, _ := os.ReadDir(dest)
			t.Errorf("%s: want 1.0.0, got %v\n%s", pkg, entries, out)
		}
	}
}
