package features

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func FuzzExtractJS(f *testing.F) {
	cases := slices.Clone(jsTokenCases)
	for _, c := range jsFoldCases() {
		for _, src := range c.forms {
			cases = append(cases, tokenCase{c.token, "fold", src})
		}
	}
	for _, c := range jsNewTokenCases {
		cases = append(cases, tokenCase{c.token, c.name, c.src})
	}
	cases = append(cases, tokenCase{"process.call", "pool", obfuscatorPool(obfB64, "child_process", "exec", "log", "id", "x")})
	fuzzExtract(f, "pkg/index.js", cases, "js")
}

func FuzzExtractPython(f *testing.F) { fuzzExtract(f, "pkg/setup.py", pyTokenCases, "py") }

// fuzzExtract checks that arbitrary input never panics and always yields
// well-formed events. Seeds: the token table snippets and the fixtures.
func fuzzExtract(f *testing.F, path string, cases []tokenCase, dir string) {
	for _, c := range cases {
		f.Add([]byte(c.src))
	}
	fixtures, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
	for _, p := range fixtures {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\xff\xfe\x00(\"\\x"))
	f.Add(bytes.Repeat([]byte("(["), 3000))
	e := New(Options{MaxParseBytes: 64 << 10})
	f.Cleanup(func() { e.Close() })
	f.Fuzz(func(t *testing.T, src []byte) {
		fe, err := e.Extract(context.Background(), path, src)
		if err != nil {
			t.Fatal(err)
		}
		checkWellFormed(t, fe, path)
		lines := bytes.Count(src, []byte("\n")) + 1
		for _, ev := range fe.Events {
			if ev.Line > lines {
				t.Fatalf("event line %d beyond %d lines", ev.Line, lines)
			}
		}
	})
}
