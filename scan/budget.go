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

// maxMarkerLen is the length of the longest suspicious marker.
var maxMarkerLen = func() int {
	n := 0
	for _, m := range suspiciousMarkers {
		n = max(n, len(m))
	}
	return n
}()

// countMarkers counts the suspicious markers in b (each as bytes.Count does:
// non-overlapping occurrences, left to right).
func countMarkers(b []byte) int {
	hits := 0
	for _, m := range suspiciousMarkers {
		hits += bytes.Count(b, m)
	}
	return hits
}

// markerCounter counts what the budget needs of a file while the archive
// is read (archive.Options.Observe), so that the scanner can keep only the
// head of the file the extractor will parse: n bytes written, with hits
// markers in them, exactly countMarkers of the whole whatever the pieces.
type markerCounter struct {
	n, hits int
	lastEnd []int  // per marker: where its last counted occurrence ends (stream offset)
	tail    []byte // the last maxMarkerLen-1 bytes written
	scratch []byte
}

func (c *markerCounter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.lastEnd == nil {
		c.lastEnd = make([]int, len(suspiciousMarkers))
	}
	k := maxMarkerLen - 1
	base := c.n // stream offset of p[0]
	// An occurrence that starts in the tail and ends in p lies within the
	// tail and p's first k bytes.
	region := append(append(c.scratch[:0], c.tail...), p[:min(len(p), k)]...)
	c.scratch = region
	rs := base - len(c.tail)
	for mi, m := range suspiciousMarkers {
		// Every occurrence that ends before p and starts at lastEnd or later
		// has been counted: the leftmost one from there is the next to count
		// if it starts in the tail (it cannot end there).
		if from := max(0, c.lastEnd[mi]-rs); from < len(c.tail) {
			if i := bytes.Index(region[from:], m); i >= 0 && from+i < len(c.tail) {
				c.hits++
				c.lastEnd[mi] = rs + from + i + len(m)
			}
		}
		for s := max(0, c.lastEnd[mi]-base); s+len(m) <= len(p); {
			i := bytes.Index(p[s:], m)
			if i < 0 {
				break
			}
			c.hits++
			s += i + len(m)
			c.lastEnd[mi] = base + s
		}
	}
	c.n += len(p)
	if len(p) >= k {
		c.tail = append(c.tail[:0], p[len(p)-k:]...)
	} else {
		c.tail = append(c.tail, p...)
		if extra := len(c.tail) - k; extra > 0 {
			c.tail = append(c.tail[:0], c.tail[extra:]...)
		}
	}
	return len(p), nil
}

// budgetJobs picks which extraction jobs fit the parse budget: entry points
// (install-time, then import-time) first, then the rest by density of
// suspicious markers, then smaller files first. A job counts its size, or
// fileCap when that is positive and smaller (the most of one file the
// extractor parses). Jobs left out are analysed lexically when the
// extractor can (LexicalExtractor), else reported as events of their file
// ("file.truncated" with line 0), so the model and the report see that part
// of the package was not parsed.
func budgetJobs(p *plan, budget, fileCap int) (keep []bool, skipped []int) {
	keep = make([]bool, len(p.jobs))
	cost := func(j job) int {
		if fileCap > 0 {
			return min(j.size, fileCap)
		}
		return j.size
	}
	total := 0
	for _, j := range p.jobs {
		total += cost(j)
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
		if j.size > 0 {
			hits := j.hits
			if hits < 0 {
				hits = countMarkers(j.src)
			}
			c.density = float64(hits) / float64(j.size)
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
			return p.jobs[a.i].size - p.jobs[b.i].size
		}
	})
	used := 0
	for _, c := range cs {
		n := cost(p.jobs[c.i])
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
