package features

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// jsModuleSource is a typical ~20 KB hand-written-style CommonJS module.
func jsModuleSource(size int) string {
	var b strings.Builder
	b.WriteString("'use strict';\nconst fs = require('fs');\nconst path = require('path');\nconst https = require('https');\n\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `/**
 * helper%[1]d does a small thing.
 */
function helper%[1]d(input, options = {}) {
  const out = [];
  for (let i = 0; i < input.length; i++) {
    if (options.skip && options.skip.includes(input[i])) continue;
    out.push(String(input[i]).trim().toLowerCase());
  }
  const file = path.join(__dirname, 'data', 'item-%[1]d.json');
  if (fs.existsSync(file)) {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  return { name: 'helper%[1]d', values: out, size: out.length * %[1]d };
}

module.exports.helper%[1]d = helper%[1]d;

`, i)
	}
	return b.String()
}

// jsMinifiedSource is ~size bytes of minified-style JavaScript: long lines
// of short identifiers, few newlines.
func jsMinifiedSource(size int) string {
	var b strings.Builder
	b.WriteString("!function(e,t){\"object\"==typeof exports?module.exports=t():e.lib=t()}(this,function(){\"use strict\";")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "var a%[1]d=function(n,r){for(var o=0,i=[];o<n.length;o++)i.push(n[o]*r+%[1]d);return i},b%[1]d={k:\"v%[1]d\",f:function(e){return a%[1]d(e,2).map(function(t){return t.toString(16)}).join(\"\")},g:[1,2,3,%[1]d]};", i)
		if i%200 == 199 {
			b.WriteString("\n")
		}
	}
	b.WriteString("return{}});\n")
	return b.String()
}

func pyModuleSource(size int) string {
	var b strings.Builder
	b.WriteString("import os\nimport json\nfrom pathlib import Path\n\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `

class Handler%[1]d:
    """Handle things number %[1]d."""

    def __init__(self, root, options=None):
        self.root = Path(root)
        self.options = options or {}

    def load(self, name):
        path = self.root / f"{name}-%[1]d.json"
        if not path.exists():
            return None
        with open(path) as fh:
            return json.load(fh)

    def values(self, items):
        return [str(x).strip().lower() for x in items if x not in self.options.get("skip", ())]


def make_handler%[1]d(root):
    return Handler%[1]d(os.path.join(root, "data"))
`, i)
	}
	return b.String()
}

func benchExtract(b *testing.B, path, src string) {
	// A generous parse budget: the timeout is wall-clock and shared CI
	// machines are slow.
	e := New(Options{ParseTimeout: time.Minute})
	defer e.Close()
	data := []byte(src)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := e.Extract(ctx, path, data); err != nil {
			b.Fatal(err)
		}
	}
	// Process CPU time, which unlike ns/op is not inflated by other work on
	// a shared machine.
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/cpu/1e6, "cpu-MB/s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkExtractJS(b *testing.B) {
	b.Run("minified-1MB", func(b *testing.B) { benchExtract(b, "dist/lib.min.js", jsMinifiedSource(1<<20)) })
	b.Run("module-20KB", func(b *testing.B) { benchExtract(b, "lib/index.js", jsModuleSource(20<<10)) })
}

func BenchmarkExtractPython(b *testing.B) {
	b.Run("module-20KB", func(b *testing.B) { benchExtract(b, "pkg/handlers.py", pyModuleSource(20<<10)) })
	b.Run("module-200KB", func(b *testing.B) { benchExtract(b, "pkg/handlers.py", pyModuleSource(200<<10)) })
}
