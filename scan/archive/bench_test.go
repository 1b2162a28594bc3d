package archive

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkReadTgz reads a synthetic npm tarball of 500 files, 5 MB in all,
// of mildly compressible text; MB/s is uncompressed throughput.
func BenchmarkReadTgz(b *testing.B) {
	const files, total = 500, 5 << 20
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"const ", "require", "(", ")", "function ", "return ", "{\n", "}\n", "x", "y", "=", ";\n", "'fs'", "exports."}
	ents := make([]tent, 0, files)
	var size int64
	for i := range files {
		buf := make([]byte, 0, total/files)
		for len(buf) < total/files-16 {
			buf = append(buf, words[rng.IntN(len(words))]...)
			buf = fmt.Appendf(buf, "%d", rng.IntN(1000))
		}
		ents = append(ents, tent{name: fmt.Sprintf("package/lib/m%03d/file%d.js", i%37, i), body: string(buf)})
		size += int64(len(buf))
	}
	data := tgz(b, ents...)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		a, err := Read("bench.tgz", data, Options{Want: WantSource})
		if err != nil || len(a.Files) != files {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size)/float64(len(data)), "ratio")
}
