package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moatproject/moat/scan"
)

func fixture(name string) string { return filepath.Join("..", "..", "testdata", "fixtures", name) }

func TestRunScan(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  []string // substrings of stdout
	}{
		{"clean", []string{fixture("npm-benign-plain"), fixture("pypi-benign-sdist-env")}, exitOK,
			[]string{"PATH", "npm-benign-plain", "clean"}},
		{"flagged wins over error", []string{fixture("npm-malicious-postinstall"), filepath.Join(t.TempDir(), "missing.tgz")}, exitFlagged,
			[]string{"malicious", "error", "io:"}},
		{"error", []string{filepath.Join(t.TempDir(), "missing.tgz"), fixture("npm-benign-gyp")}, exitError, []string{"error"}},
		{"explain", []string{"--explain", fixture("pypi-malicious-sdist")}, exitFlagged,
			[]string{"[INSTALL]", "setup.py:17", "urlopen", "findings:"}},
		{"ecosystem", []string{"--ecosystem", "pypi", fixture("npm-benign-plain")}, exitOK, []string{"clean"}},
		{"bad ecosystem", []string{"--ecosystem", "cargo", fixture("npm-benign-plain")}, exitError, nil},
		{"no paths", nil, exitError, nil},
		{"bad flag", []string{"--nope"}, exitError, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runScan(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, &stdout, &stderr)
			}
			for _, s := range tt.out {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, &stdout)
				}
			}
		})
	}
}

func TestRunScanJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"--json", fixture("npm-malicious-postinstall"), fixture("pypi-benign-wheel-src")}
	if code := runScan(context.Background(), args, &stdout, &stderr); code != exitFlagged {
		t.Fatalf("exit %d: %s", code, &stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), &stdout)
	}
	var r scan.Report
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Flagged() || r.Name != "colors-utils-extra" || len(r.Findings) == 0 || r.Events != nil || r.Path != args[1] {
		t.Errorf("report %+v", r)
	}
	for _, key := range []string{`"path"`, `"ecosystem"`, `"sha256"`, `"verdict"`, `"score"`, `"threshold"`, `"findings"`, `"sequence"`, `"scanner_version"`, `"model_version"`, `"duration_ms"`, `"error"`} {
		if !strings.Contains(lines[1], key) {
			t.Errorf("JSON lacks %s: %s", key, lines[1])
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr not quiet: %s", &stderr)
	}
}
