package features

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLanguageByExtension(t *testing.T) {
	e := newTestExtractor(t)
	src := "eval(x)\n"
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"a.js", true}, {"a.cjs", true}, {"a.mjs", true}, {"a.jsx", true}, {"A.JS", true},
		{"a.py", true}, {"a.pyw", true}, {"setup.py", true},
		{"a.ts", false}, {"a.json", false}, {"README", false}, {"a.pth", false},
	} {
		fe := extract(t, e, tc.path, src)
		if got := slices.Contains(tokens(fe), "eval.call"); got != tc.want {
			t.Errorf("%s: eval.call found=%v, want %v", tc.path, got, tc.want)
		}
		if fe.Path != tc.path || fe.Events == nil {
			t.Errorf("%s: bad FileEvents %+v", tc.path, fe)
		}
	}
}

func TestImports(t *testing.T) {
	e := newTestExtractor(t)
	js := extract(t, e, "a.js", `const x = require('./x');
import y from '../y';
import 'side-effect';
const cp = require('node:child_process');
const again = require('./x');
const lazy = await import('./lazy.js');
`)
	if want := []string{"./x", "../y", "side-effect", "node:child_process", "./lazy.js"}; !slices.Equal(js.Imports, want) {
		t.Errorf("JS imports = %q, want %q", js.Imports, want)
	}
	py := extract(t, e, "a.py", `import a.b
from . import c, d as e
from .mod import f
from ..pkg.sub import g
import os, sys as system
`)
	if want := []string{"a.b", ".c", ".d", ".mod", "..pkg.sub", "os", "sys"}; !slices.Equal(py.Imports, want) {
		t.Errorf("Python imports = %q, want %q", py.Imports, want)
	}
}

func TestImportTokensOncePerModule(t *testing.T) {
	e := newTestExtractor(t)
	fe := extract(t, e, "a.js", `const a = require('child_process');
const b = require('node:child_process');
function f() { require('child_process').exec('x'); }
f(); f();
`)
	if n := count(tokens(fe), "process.import"); n != 1 {
		t.Errorf("process.import ×%d, want 1:\n%s", n, dump(fe))
	}
	if n := count(tokens(fe), "process.call"); n != 2 {
		t.Errorf("process.call ×%d, want 2 (calls repeat):\n%s", n, dump(fe))
	}
	py := extract(t, e, "a.py", "import os\nimport os.path\nfrom os import path\n")
	if n := count(tokens(py), "os.import"); n != 1 {
		t.Errorf("os.import ×%d, want 1:\n%s", n, dump(py))
	}
}

func count(toks []string, tok string) int {
	n := 0
	for _, t := range toks {
		if t == tok {
			n++
		}
	}
	return n
}

// TestCallSiteOrder checks execution order: a locally defined function's
// events appear where it is called, not where it is defined, and functions
// that are never called come after the module-level events.
func TestCallSiteOrder(t *testing.T) {
	e := newTestExtractor(t)
	cases := []struct {
		name, path, src string
		want            []string
	}{
		{"js declaration", "a.js", `function a() { eval(x); }
function never() { fetch(u); }
atob(s);
a();
require('os');
`, []string{"encoding.call", "eval.call", "os.import", "net.call"}},
		{"js arrow and this", "a.js", `const run = () => { eval(x); };
class C { go() { this.inner(); } inner() { atob(s); } }
run();
`, []string{"eval.call", "encoding.call"}},
		{"js callback by name", "a.js", `function tick() { eval(x); }
setTimeout(tick, 10);
atob(s);
`, []string{"eval.call", "encoding.call"}},
		{"py def and self", "a.py", `class A:
    def go(self):
        self.inner()
    def inner(self):
        eval(x)

def main():
    A().go()
    exec(y)

if __name__ == "__main__":
    main()
`, []string{"eval.call", "eval.call"}},
		{"py thread target", "a.py", `import threading
def work():
    exec(x)
threading.Thread(target=work).start()
`, []string{"eval.call"}},
		{"py uncalled after module", "a.py", `def later():
    exec(x)
import os
`, []string{"os.import", "eval.call"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := extract(t, e, tc.path, tc.src)
			if got := tokens(fe); !slices.Equal(got, tc.want) {
				t.Errorf("tokens = %q, want %q\n%s", got, tc.want, dump(fe))
			}
		})
	}
}

func TestRecursionAndExpansionCap(t *testing.T) {
	e := newTestExtractor(t)
	// Mutual recursion terminates and each body is emitted.
	fe := extract(t, e, "a.js", `function a() { eval(1); b(); }
function b() { atob(2); a(); }
a();
`)
	if got, want := tokens(fe), []string{"eval.call", "encoding.call"}; !slices.Equal(got, want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
	// Exponential fan-out is capped at expansionMult× the file's own events.
	var b strings.Builder
	b.WriteString("function f0() { eval(0); }\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "function f%d() { f%d(); f%d(); }\n", i, i-1, i-1)
	}
	b.WriteString("f20();\n")
	fe = extract(t, e, "b.js", b.String())
	if n := len(fe.Events); n < 1 || n > 1+expansionMult {
		t.Errorf("%d events, want between 1 and %d", n, 1+expansionMult)
	}
}

func TestSnippets(t *testing.T) {
	e := newTestExtractor(t)
	long := "x = 1; " + strings.Repeat("y = 2; ", 40) + "eval(z); " + strings.Repeat("w = 3; ", 40)
	src := "#!/usr/bin/env python\n   exec(a)   \n" + long + "\nexec('é\xff\xfe')\n"
	fe := extract(t, e, "a.py", src)
	checkWellFormed(t, fe, "a.py")
	var evs []string
	for _, ev := range fe.Events {
		if ev.Token == "eval.call" {
			evs = append(evs, fmt.Sprintf("%d:%s", ev.Line, ev.Snippet))
		}
	}
	if len(evs) != 3 || evs[0] != "2:exec(a)" || !strings.Contains(evs[1], "eval(z)") || !strings.HasPrefix(evs[1], "3:") {
		t.Errorf("eval snippets = %q", evs)
	}
}

// Code past MaxFileParseBytes is analysed lexically: its behaviour is still
// seen, at its line, and the file is marked truncated.
func TestTruncation(t *testing.T) {
	e := New(Options{MaxParseBytes: 64, MaxFileParseBytes: 64})
	defer e.Close()
	src := "eval(a);\n" + strings.Repeat("var x = 1;\n", 20) + "atob(b);\n"
	fe := extract(t, e, "a.js", src)
	if !fe.Truncated {
		t.Error("Truncated not set")
	}
	got := tokens(fe)
	if !slices.Contains(got, "file.truncated") || !slices.Contains(got, "eval.call") || !slices.Contains(got, "encoding.call") {
		t.Errorf("tokens = %q", got)
	}
	for _, ev := range fe.Events {
		if ev.Token == "encoding.call" && (ev.Line != 22 || ev.Snippet != "atob(b);") {
			t.Errorf("lexical event %+v, want line 22", ev)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	e := newTestExtractor(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Extract(ctx, "a.js", []byte("eval(x)")); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// A cancellation that lands mid-parse: the parser is retired, the next
	// extraction still works.
	big := []byte(jsMinifiedSource(2 << 20))
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := e.Extract(ctx, "big.js", big); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	fe := extract(t, e, "a.js", "eval(x)")
	if !slices.Contains(tokens(fe), "eval.call") {
		t.Error("extractor unusable after a cancelled parse")
	}
}

func TestParseTimeout(t *testing.T) {
	e := New(Options{ParseTimeout: time.Microsecond})
	defer e.Close()
	fe := extract(t, e, "big.js", jsMinifiedSource(512<<10))
	if got := tokens(fe); !slices.Equal(got, []string{"parse.error"}) {
		t.Errorf("tokens = %q, want [parse.error]", got)
	}
}

func TestClose(t *testing.T) {
	e := New(Options{})
	extract(t, e, "a.js", "eval(x)")
	extract(t, e, "a.py", "exec(x)")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := e.Extract(context.Background(), "a.js", []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("err = %v, want ErrClosed", err)
	}
	for _, l := range []*language{e.js, e.py} {
		if c, d := l.created.Load(), l.destroyed.Load(); c != d || c == 0 {
			t.Errorf("parsers created %d, closed %d", c, d)
		}
	}
}

// TestNoLeaks runs 5,000 extractions and checks that parsers are reused,
// all are closed, and neither the Go heap nor the process RSS (C memory)
// keeps growing.
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	e := New(Options{MaxParsers: 2})
	js := []byte(jsModuleSource(1 << 10))
	py := []byte(pyModuleSource(1 << 10))
	ctx := context.Background()
	run := func(n int) {
		for i := range n {
			src, path := js, "a.js"
			if i%2 == 1 {
				src, path = py, "a.py"
			}
			if _, err := e.Extract(ctx, path, src); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(500) // warm up pools and allocator arenas
	runtime.GC()
	rss0, heap0 := rssBytes(), heapBytes()
	run(4500)
	runtime.GC()
	rss1, heap1 := rssBytes(), heapBytes()
	t.Logf("RSS %d → %d KiB, Go heap %d → %d KiB", rss0>>10, rss1>>10, heap0>>10, heap1>>10)
	if rss0 > 0 && rss1 > rss0+16<<20 {
		t.Errorf("RSS grew by %d KiB over 4,500 extractions", (rss1-rss0)>>10)
	}
	if heap1 > heap0+8<<20 {
		t.Errorf("Go heap grew by %d KiB over 4,500 extractions", (heap1-heap0)>>10)
	}
	for _, l := range []*language{e.js, e.py} {
		if c := l.created.Load(); c > 2 {
			t.Errorf("%d parsers created, want ≤ 2 (reuse)", c)
		}
	}
	e.Close()
	for _, l := range []*language{e.js, e.py} {
		if c, d := l.created.Load(), l.destroyed.Load(); c != d {
			t.Errorf("parsers created %d, closed %d", c, d)
		}
	}
}

func heapBytes() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestConcurrent(t *testing.T) {
	e := New(Options{MaxParsers: 3})
	defer e.Close()
	inputs := []struct{ path, src string }{
		{"a.js", jsModuleSource(2 << 10)},
		{"b.py", pyModuleSource(2 << 10)},
		{"c.js", `const cp = require('child_process'); cp.exec('id'); eval(atob(x));`},
		{"d.py", "import os\nos.system('id')\n"},
	}
	want := make([][]string, len(inputs))
	for i, in := range inputs {
		want[i] = tokens(extract(t, e, in.path, in.src))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				in := inputs[(g+i)%len(inputs)]
				fe, err := e.Extract(context.Background(), in.path, []byte(in.src))
				if err != nil {
					t.Error(err)
					return
				}
				if got := tokens(fe); !slices.Equal(got, want[(g+i)%len(inputs)]) {
					t.Errorf("%s: tokens differ under concurrency: %q", in.path, got)
					return
				}
			}
		})
	}
	wg.Wait()
	if c := e.js.created.Load() + e.py.created.Load(); c > 6 {
		t.Errorf("%d parsers created, want ≤ 6", c)
	}
}

// raceEnabled is set under the race detector (race_test.go).
var raceEnabled bool

// The C memory of a large parse goes back to the system once the parse is
// done, rather than staying with the allocator.
func TestLargeParseMemoryReturned(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	if raceEnabled {
		t.Skip("RSS includes the race detector's shadow of the Go heap")
	}
	e := New(Options{ParseTimeout: time.Minute})
	defer e.Close()
	src := []byte(jsMinifiedSource(1 << 20))
	small := []byte(jsModuleSource(1 << 10))
	ctx := context.Background()
	if _, err := e.Extract(ctx, "a.js", small); err != nil { // parsers, pools
		t.Fatal(err)
	}
	settle := func() uint64 {
		runtime.GC()
		debug.FreeOSMemory()
		return rssBytes()
	}
	rss0 := settle()
	for range 3 {
		if _, err := e.Extract(ctx, "big.js", src); err != nil {
			t.Fatal(err)
		}
	}
	rss1 := settle()
	t.Logf("RSS %d → %d KiB after 3 parses of 1 MiB", rss0>>10, rss1>>10)
	if rss0 > 0 && rss1 > rss0+8<<20 {
		t.Errorf("RSS stays %d KiB higher after large parses", (rss1-rss0)>>10)
	}
}
