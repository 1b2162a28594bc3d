package scan

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/moatproject/moat/scan/sequence"
)

func TestBudgetKeepsEntryPointsAndThePayload(t *testing.T) {
	benign := []byte(strings.Repeat("function add(a, b) { return a + b; }\n", 3000)) // ~110 KB each
	p := &plan{pkg: sequence.Package{Import: []string{"index.js"}}}
	p.jobs = append(p.jobs, newJob("lib/a.js", benign), newJob("lib/b.js", benign),
		newJob("lib/payload.js", []byte("const cp = require('child_process'); cp.exec(Buffer.from(process.env.X, 'base64').toString());\n")),
		newJob("lib/c.js", benign), newJob("index.js", benign))
	keep, skipped := budgetJobs(p, 250<<10, 0)
	if !keep[4] {
		t.Error("the import-time entry point was dropped")
	}
	if !keep[2] {
		t.Error("the dense payload module was dropped for plain library code")
	}
	if len(skipped) != 2 {
		t.Errorf("skipped %v, want two of the plain library files", skipped)
	}
	keep, skipped = budgetJobs(p, -1, 0)
	if len(skipped) != 0 || !keep[0] || !keep[3] {
		t.Error("a negative budget must keep everything")
	}
}

// markerCounter, fed a file in pieces of any size, counts what countMarkers
// counts in the whole.
func TestMarkerCounterMatchesCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var b []byte
	for len(b) < 200<<10 {
		switch rng.IntN(4) {
		case 0:
			b = append(b, suspiciousMarkers[rng.IntN(len(suspiciousMarkers))]...)
		case 1: // overlapping and cut-short occurrences
			b = append(b, "__import__import____"[:1+rng.IntN(20)]...)
		default:
			b = append(b, "abcdefghijklmnopqrstuvwxyz _().'\"/:"[rng.IntN(35)])
		}
	}
	// bytes.Count counts "__import__import__" once: the second occurrence
	// overlaps the first.
	b = append(b, "__import__import__"...)
	if n := bytes.Count([]byte("__import__import__"), []byte("__import__")); n != 1 {
		t.Fatalf("bytes.Count found %d", n)
	}
	want := countMarkers(b)
	for _, maxPiece := range []int{1, 2, 3, 9, maxMarkerLen - 1, maxMarkerLen, 100, 32 << 10, len(b)} {
		c := &markerCounter{}
		for rest := b; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(maxPiece))
			c.Write(rest[:n])
			rest = rest[n:]
		}
		if c.hits != want || c.n != len(b) {
			t.Errorf("pieces up to %d bytes: %d hits in %d bytes, want %d in %d", maxPiece, c.hits, c.n, want, len(b))
		}
	}
}
