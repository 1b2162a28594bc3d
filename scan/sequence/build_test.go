package sequence

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// fe builds a FileEvents from "tok tok ..." with lines 1, 2, ...
func fe(path, toks string, imports ...string) *FileEvents {
	f := &FileEvents{Path: path, Imports: imports}
	for i, t := range strings.Fields(toks) {
		f.Events = append(f.Events, Event{Token: t, File: path, Line: i + 1})
	}
	return f
}

// layout renders a sequence as "[PHASE] file:tok ..." for compact asserts.
func layout(s Sequence) string {
	var b []string
	for i, e := range s.Events {
		if e.File == "" {
			b = append(b, s.Tokens[i])
			continue
		}
		b = append(b, e.File+":"+s.Tokens[i])
	}
	return strings.Join(b, " ")
}

func TestBuildOrder(t *testing.T) {
	tests := []struct {
		name  string
		pkg   Package
		files []*FileEvents
		want  string
	}{
		{
			name: "npm phases",
			pkg: Package{
				Install: []string{"package.json#scripts.postinstall"},
				Import:  []string{"./index"},
			},
			files: []*FileEvents{
				fe("a.js", "fs.read"),
				fe("index.js", "net.import", "./lib/util", "lodash"),
				fe("lib/util/index.js", "os.call"),
				fe("package.json#scripts.postinstall", "install.script", "./setup.js"),
				fe("setup.js", "env.read.all net.call", "./lib/util"),
				fe("z.js", "eval.decoded"),
				fe("empty.js", ""),
			},
			want: "[INSTALL] package.json#scripts.postinstall:install.script setup.js:env.read.all setup.js:net.call lib/util/index.js:os.call " +
				"[IMPORT] index.js:net.import " +
				"[OTHER] z.js:eval.decoded a.js:fs.read",
		},
		{
			name: "js resolution and cycles",
			pkg:  Package{Import: []string{"main.js"}},
			files: []*FileEvents{
				fe("main.js", "fs.import", "./b", "./c.js", "../outside", ".", "./main"),
				fe("b.mjs", "net.import", "./main.js"),
				fe("c.js", "os.import"),
				fe("index.js", "url"),
			},
			want: "[IMPORT] main.js:fs.import b.mjs:net.import c.js:os.import index.js:url",
		},
		{
			name: "python resolution",
			pkg: Package{
				Install: []string{"setup.py"},
				Import:  []string{"pkg/__init__.py"},
			},
			files: []*FileEvents{
				fe("setup.py", "setup.py", "pkg.version", "os"),
				fe("pkg/__init__.py", "os.import", ".core", "..nope", "pkg.helpers.do_it"),
				fe("pkg/version.py", "fs.read"),
				fe("pkg/core.py", "net.import", ".", "pkg.sub"),
				fe("pkg/helpers.py", "encoding.call"),
				fe("pkg/sub/__init__.py", "eval.call", "..version"),
			},
			want: "[INSTALL] setup.py:setup.py pkg/version.py:fs.read " +
				"[IMPORT] pkg/__init__.py:os.import pkg/core.py:net.import pkg/sub/__init__.py:eval.call pkg/helpers.py:encoding.call",
		},
		{
			name: "src layout and sibling imports",
			pkg:  Package{Import: []string{"src/mod/__init__.py"}},
			files: []*FileEvents{
				fe("src/mod/__init__.py", "os.import", "mod.x", "y"),
				fe("src/mod/x.py", "fs.import"),
				fe("src/mod/y.py", "net.import"),
			},
			want: "[IMPORT] src/mod/__init__.py:os.import src/mod/x.py:fs.import src/mod/y.py:net.import",
		},
		{
			name: "repeats",
			pkg:  Package{Import: []string{"a.js"}},
			files: []*FileEvents{
				fe("a.js", "fs.read fs.read fs.read fs.read net.call fs.read", "./b"),
				fe("b.js", "fs.read fs.read"),
			},
			want: "[IMPORT] a.js:fs.read a.js:fs.read a.js:net.call a.js:fs.read b.js:fs.read",
		},
		{
			name:  "nothing",
			files: []*FileEvents{fe("a.js", ""), nil},
			want:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Build(tt.pkg, tt.files, Options{})
			if l := layout(got); l != tt.want {
				t.Errorf("got  %s\nwant %s", l, tt.want)
			}
			checkInvariants(t, got, Options{}.withDefaults())
		})
	}
}

func TestBuildCap(t *testing.T) {
	big := func(path string, n int, imports ...string) *FileEvents {
		toks := make([]string, n)
		for i := range toks {
			toks[i] = []string{"net.call", "fs.read", "url", "process.call", "env.read"}[i%5]
		}
		return fe(path, strings.Join(toks, " "), imports...)
	}
	t.Run("payload module beside a copied library", func(t *testing.T) {
		files := []*FileEvents{
			big("index.js", 3000, "./lib/a", "./lib/b"),
			big("lib/a.js", 3000),
			big("lib/b.js", 3000),
			fe("lib/zz-payload.js", "encoding.call eval.decoded url.webhook"),
		}
		s := Build(Package{Import: []string{"index.js"}}, files, Options{MaxTokens: 100})
		checkInvariants(t, s, Options{MaxTokens: 100, MaxRepeat: 2})
		if !slices.Contains(s.Tokens, "eval.decoded") || !slices.Contains(s.Tokens, "url.webhook") {
			t.Errorf("payload pushed out: %v", s.Tokens)
		}
		if s.Tokens[0] != MarkImport || s.Dropped == 0 {
			t.Errorf("tokens[0] = %s, dropped %d", s.Tokens[0], s.Dropped)
		}
	})
	t.Run("payload imported after a big library", func(t *testing.T) {
		files := []*FileEvents{
			fe("index.js", "net.import", "./vendor", "./payload"),
			big("vendor.js", 5000),
			fe("payload.js", "sensitive.path fs.read net.call"),
		}
		s := Build(Package{Import: []string{"index.js"}}, files, Options{MaxTokens: 64})
		checkInvariants(t, s, Options{MaxTokens: 64, MaxRepeat: 2})
		want := "[IMPORT] index.js:net.import"
		if !strings.HasPrefix(layout(s), want) || !slices.Contains(s.Tokens, "sensitive.path") {
			t.Errorf("got %s", layout(s))
		}
	})
	t.Run("install head kept", func(t *testing.T) {
		files := []*FileEvents{
			fe("setup.py", "setup.py", "pkg"),
			big("pkg/__init__.py", 40),
			fe("other.py", "eval.decoded"),
		}
		s := Build(Package{Install: []string{"setup.py"}}, files, Options{MaxTokens: 20})
		checkInvariants(t, s, Options{MaxTokens: 20, MaxRepeat: 2})
		if s.Tokens[0] != MarkInstall || s.Tokens[1] != "setup.py" || len(s.Tokens) != 20 {
			t.Errorf("got %s", layout(s))
		}
		if slices.Contains(s.Tokens, MarkOther) {
			t.Errorf("install phase should take the whole budget: %s", layout(s))
		}
	})
	t.Run("oversized install keeps its riskiest events", func(t *testing.T) {
		toks := strings.Repeat("fs.import os.import ", 50) + "eval.decoded"
		s := Build(Package{Install: []string{"setup.py"}}, []*FileEvents{fe("setup.py", toks)}, Options{MaxTokens: 10})
		checkInvariants(t, s, Options{MaxTokens: 10, MaxRepeat: 2})
		if !slices.Contains(s.Tokens, "eval.decoded") || s.Tokens[1] != "fs.import" {
			t.Errorf("got %s", layout(s))
		}
	})
}

// checkInvariants asserts what every Sequence must satisfy.
func checkInvariants(t *testing.T, s Sequence, o Options) {
	t.Helper()
	if len(s.Tokens) != len(s.Events) {
		t.Fatalf("len(Tokens) %d != len(Events) %d", len(s.Tokens), len(s.Events))
	}
	if len(s.Tokens) > o.MaxTokens {
		t.Errorf("len %d > cap %d", len(s.Tokens), o.MaxTokens)
	}
	run, phase := 0, -1
	for i, tok := range s.Tokens {
		e := s.Events[i]
		if e.Token != tok {
			t.Errorf("event %d token %q != %q", i, e.Token, tok)
		}
		if isMarker(tok) {
			if e.File != "" {
				t.Errorf("marker %d has file %q", i, e.File)
			}
			p := slices.Index([]string{MarkInstall, MarkImport, MarkOther}, tok)
			if p <= phase {
				t.Errorf("marker %s out of order", tok)
			}
			phase = p
			if i+1 == len(s.Tokens) || isMarker(s.Tokens[i+1]) {
				t.Errorf("empty phase %s", tok)
			}
		} else if phase < 0 {
			t.Errorf("event %d before any marker", i)
		}
		if i > 0 && tok == s.Tokens[i-1] {
			run++
		} else {
			run = 1
		}
		if run > o.MaxRepeat {
			t.Errorf("%d repeats of %s at %d", run, tok, i)
		}
	}
}

// FuzzBuild feeds Build hostile file graphs: lines "path|tok tok|imp imp".
func FuzzBuild(f *testing.F) {
	f.Add("index.js|net.call fs.read|./a ./b\na.js|eval.call|./index\nb/index.js|url|..\n", "index.js", "setup.py", 16)
	f.Add("setup.py|setup.py env.read|pkg\npkg/__init__.py|os.import|.x ...y\npkg/x.py|net.call|\n", "pkg/__init__.py", "setup.py", 5)
	f.Add("a|x x x x|a\n", "a", "", 1)
	f.Fuzz(func(t *testing.T, spec, imp, inst string, max int) {
		var files []*FileEvents
		for _, line := range strings.Split(spec, "\n") {
			parts := strings.SplitN(line, "|", 3)
			for len(parts) < 3 {
				parts = append(parts, "")
			}
			files = append(files, fe(parts[0], parts[1], strings.Fields(parts[2])...))
		}
		o := Options{MaxTokens: max % 600, MaxRepeat: 2}
		s := Build(Package{Install: []string{inst}, Import: []string{imp}}, files, o)
		checkInvariants(t, s, o.withDefaults())
		n := 0
		for _, tok := range s.Tokens {
			if !isMarker(tok) {
				n++
			}
		}
		total := 0
		for _, f := range files {
			total += len(compress(f.Events, 2))
		}
		if n > total {
			t.Errorf("%d events out of %d", n, total)
		}
		_ = fmt.Sprint(s)
	})
}
