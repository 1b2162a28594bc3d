package scan

import (
	"strings"
	"testing"

	"github.com/moatproject/moat/scan/sequence"
)

func TestBudgetKeepsEntryPointsAndThePayload(t *testing.T) {
	benign := []byte(strings.Repeat("function add(a, b) { return a + b; }\n", 3000)) // ~110 KB each
	p := &plan{pkg: sequence.Package{Import: []string{"index.js"}}}
	p.jobs = append(p.jobs, job{path: "lib/a.js", src: benign}, job{path: "lib/b.js", src: benign},
		job{path: "lib/payload.js", src: []byte("const cp = require('child_process'); cp.exec(Buffer.from(process.env.X, 'base64').toString());\n")},
		job{path: "lib/c.js", src: benign}, job{path: "index.js", src: benign})
	keep, skipped := budgetJobs(p, 250<<10)
	if !keep[4] {
		t.Error("the import-time entry point was dropped")
	}
	if !keep[2] {
		t.Error("the dense payload module was dropped for plain library code")
	}
	if len(skipped) != 2 {
		t.Errorf("skipped %v, want two of the plain library files", skipped)
	}
	keep, skipped = budgetJobs(p, -1)
	if len(skipped) != 0 || !keep[0] || !keep[3] {
		t.Error("a negative budget must keep everything")
	}
}
