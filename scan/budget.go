package scan

import (
	"bytes"
	"path"
	"slices"
	"strings"

	"github.com/moatproject/moat/scan/sequence"
)

// DefaultParseBudget bounds the source bytes one scan hands to the
// extractor. Packages are mostly small; the budget matters for the few that
// ship many megabytes of bundled or minified code, which would otherwise
// dominate scan latency (tree-sitter parses JavaScript at a few MB/s here).
const DefaultParseBudget = 3 << 20

// suspiciousMarkers are byte patterns whose density ranks files for the
// parse budget: a payload module hidden among a copied library's files
// reads the environment, spawns processes, decodes and talks to the
// network far more densely than the library around it.
var suspiciousMarkers = [][]byte{
	[]byte("child_process"), []byte("subprocess"), []byte("os.system"), []byte("exec("), []byte("eval("),
	[]byte("spawn"), []byte("process.env"), []byte("os.environ"), []byte("getenv"), []byte("base64"),
	[]byte("atob("), []byte("fromCharCode"), []byte("b64decode"), []byte("http://"), []byte("https://"),
	[]byte("require('http"), []byte("require(\"http"), []byte("urllib"), []byte("requests."), []byte("socket"),
	[]byte("webhook"), []byte(".npmrc"), []byte(".ssh"), []byte("homedir"), []byte("_0x"), []byte("Function("),
	[]byte("__import__"), []byte("marshal"), []byte("zlib"), []byte("chmod"), []byte("curl "), []byte("wget "),
}

// budgetJobs picks which extraction jobs fit the parse budget: entry points
// (install-time, then import-time) first, then the rest by density of
// suspicious markers, then smaller files first. Jobs left out are reported
// as events of their file ("file.truncated" with line 0), so the model and
// the report see that part of the package was not parsed.
func budgetJobs(p *plan, budget int) (keep []bool, skipped []int) {
	keep = make([]bool, len(p.jobs))
	total := 0
	for _, j := range p.jobs {
		total += len(j.src)
	}
	if budget <= 0 || total <= budget {
		for i := range keep {
			keep[i] = true
		}
		return keep, nil
	}
	rank := map[string]int{}
	for i, f := range p.pkg.Install {
		rank[f] = i - 2_000_000
	}
	for i, f := range p.pkg.Import {
		if _, ok := rank[f]; !ok {
			rank[f] = i - 1_000_000
		}
	}
	type cand struct {
		i       int
		entry   int
		density float64
	}
	cs := make([]cand, len(p.jobs))
	for i, j := range p.jobs {
		c := cand{i: i, entry: 0}
		if r, ok := rank[path.Clean(j.path)]; ok {
			c.entry = r
		} else if strings.Contains(j.path, "#") { // inline scripts (package.json#scripts...)
			c.entry = -3_000_000
		}
		if n := len(j.src); n > 0 {
			hits := 0
			for _, m := range suspiciousMarkers {
				hits += bytes.Count(j.src, m)
			}
			c.density = float64(hits) / float64(n)
		}
		cs[i] = c
	}
	slices.SortStableFunc(cs, func(a, b cand) int {
		switch {
		case a.entry != b.entry:
			return a.entry - b.entry
		case a.density != b.density:
			if a.density > b.density {
				return -1
			}
			return 1
		default:
			return len(p.jobs[a.i].src) - len(p.jobs[b.i].src)
		}
	})
	used := 0
	for _, c := range cs {
		n := len(p.jobs[c.i].src)
		if used+n <= budget || used == 0 {
			keep[c.i] = true
			used += n
			continue
		}
		skipped = append(skipped, c.i)
	}
	return keep, skipped
}

// skippedEvent marks a file the budget left unparsed.
func skippedEvent(file string) sequence.Event {
	return sequence.Event{Token: "file.truncated", File: file, Snippet: "not parsed: package over the parse budget"}
}
