package features

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTimeoutStress parses under budgets so small that many parses time out
// or are cancelled midway, from several goroutines sharing the parser
// pools: a parser left in a half-parsed state must never be reused (that
// aborts the process in tree-sitter's C code, which no test can catch).
func TestTimeoutStress(t *testing.T) {
	if testing.Short() {
		t.Skip("stress")
	}
	var js, py strings.Builder
	for i := 0; i < 4000; i++ {
		fmt.Fprintf(&js, "function f%d(a) { if (a > %d) { return require('child_process').exec('x' + a); } return [1,2,3].map(x => x * %d); }\n", i, i, i)
		fmt.Fprintf(&py, "def f%d(a):\n    if a > %d:\n        import os\n        return os.system('x' + str(a))\n    return [x * %d for x in range(3)]\n", i, i, i)
	}
	srcs := map[string][]byte{"a.js": []byte(js.String()), "a.py": []byte(py.String()), "b.js": []byte("module.exports = 1;\n"), "b.py": []byte("X = 1\n")}
	pt := 2 * time.Millisecond
	if os.Getenv("STRESS_NOTIMEOUT") != "" {
		pt = time.Minute
	}
	ex := New(Options{ParseTimeout: pt, MaxParsers: 2})
	nocancel := os.Getenv("STRESS_NOCANCEL") != ""
	gor := 4
	if os.Getenv("STRESS_ONE") != "" {
		gor = 1
	}
	defer ex.Close()
	var wg sync.WaitGroup
	for g := 0; g < gor; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				for name, src := range srcs {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%5)*time.Millisecond+time.Microsecond)
					if nocancel {
						ctx, cancel = context.WithCancel(context.Background())
					}
					if i%3 == 0 {
						ctx, cancel = context.WithCancel(context.Background())
					}
					_, _ = ex.Extract(ctx, name, src)
					cancel()
				}
			}
		}(g)
	}
	wg.Wait()
	// The pools still work afterwards.
	fe, err := ex.Extract(context.Background(), "b.js", []byte("require('child_process').exec('ls');\n"))
	if err != nil || len(fe.Events) == 0 {
		t.Fatalf("extractor broken after the stress: %v %+v", err, fe)
	}
}
