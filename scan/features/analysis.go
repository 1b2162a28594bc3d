package features

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/moatproject/moat/scan/sequence"
)

// Limits of the analysis.
const (
	maxSnippet    = 120  // bytes of source kept per event
	maxDepth      = 1000 // syntax nesting analysed; deeper subtrees are skipped
	expansionMult = 4    // repeated call-site expansions may add this many times the file's own events
	maxFold       = 256  // longest string a constant fold may build
)

// item is one entry of a unit's event list: an event (call < 0) or a call
// site of another unit (call >= 0).
type item struct {
	tok  string
	row  int32 // -1: whole-file event
	off  uint32
	call int32
}

// unit is a function body (or the module body, unit 0) with the events it
// produces in source order and the call sites it contains.
type unit struct {
	node    int32
	items   []item
	callers int // call sites in other units
	emitted bool
	onPath  bool
}

// analysis is the per-file state of one extraction. Instances are pooled;
// reset clears them without freeing their buffers.
type analysis struct {
	lang *language
	k    *kinds
	path string
	src  []byte
	tree flatTree

	lines   []uint32 // byte offset of each line start
	units   []unit
	unitOf  map[int32]int32  // defining node → unit
	funcs   map[string]int32 // callable name → unit
	aliases map[string]string
	py      *pyState        // Python constant evaluation (pyfold.go), created on first use
	ctx     context.Context // of the running extraction, for decoded payloads
	cur     int32
	depth   int
	steps   int  // walk calls, for the periodic cancellation check
	stopped bool // ctx ended during the walk: every walk returns at once

	fileItems  []item // whole-file events, emitted first
	imports    []string
	seenImport map[string]struct{}
	seenTok    map[string]struct{}
	hex0x      int
	lower      []byte // scratch
	skip       map[int32]struct{}

	jsState
}

var analysisPool = sync.Pool{New: func() any {
	return &analysis{
		unitOf:     map[int32]int32{},
		funcs:      map[string]int32{},
		aliases:    map[string]string{},
		seenImport: map[string]struct{}{},
		seenTok:    map[string]struct{}{},
		skip:       map[int32]struct{}{},
	}
}}

func getAnalysis(l *language, path string, src []byte) *analysis {
	a := analysisPool.Get().(*analysis)
	a.lang, a.k, a.path, a.src = l, &l.k, path, src
	a.lines = append(a.lines[:0], 0)
	for i := 0; ; {
		j := bytes.IndexByte(src[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		a.lines = append(a.lines, uint32(i))
	}
	return a
}

func putAnalysis(a *analysis) {
	for i := range a.units {
		a.units[i].items = a.units[i].items[:0]
	}
	a.units = a.units[:0]
	clear(a.unitOf)
	clear(a.funcs)
	clear(a.aliases)
	clear(a.seenImport)
	clear(a.seenTok)
	clear(a.skip)
	if a.py != nil {
		a.py.reset()
	}
	a.ctx = nil
	a.fileItems = a.fileItems[:0]
	a.imports = nil // handed to the caller
	a.cur, a.depth, a.hex0x = 0, 0, 0
	a.steps, a.stopped = 0, false
	a.ctx = nil
	a.jsReset()
	a.lang, a.k, a.src, a.path = nil, nil, nil, ""
	if cap(a.tree.nodes) > 1<<16 { // do not pin large buffers (2 MiB and up)
		a.tree = flatTree{}
		a.lines = nil
	}
	analysisPool.Put(a)
}

// run analyses the flattened tree.
func (a *analysis) run(ctx context.Context) error {
	nodes := a.tree.nodes
	if len(nodes) == 0 {
		return nil
	}
	a.ctx = ctx
	a.fileChecks()
	a.newUnit(0) // the module
	switch a.lang.id {
	case langJS:
		a.jsCollect()
		a.jsDeclare()
	case langPython:
		a.pyDeclare()
	}
	for c := nodes[0].first; c >= 0; c = nodes[c].next {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		a.walk(c)
	}
	if a.stopped {
		return context.Cause(ctx)
	}
	return nil
}

func (a *analysis) newUnit(n int32) int32 {
	id := int32(len(a.units))
	if int(id) < cap(a.units) {
		a.units = a.units[:id+1]
		items := a.units[id].items[:0]
		a.units[id] = unit{node: n, items: items}
	} else {
		a.units = append(a.units, unit{node: n})
	}
	a.unitOf[n] = id
	return id
}

// fileChecks adds the whole-file events: minified layout and parse errors.
func (a *analysis) fileChecks() {
	longest, longestRow := 0, 0
	for i := range a.lines {
		end := len(a.src)
		if i+1 < len(a.lines) {
			end = int(a.lines[i+1])
		}
		if l := end - int(a.lines[i]); l > longest {
			longest, longestRow = l, i
		}
	}
	if n := len(a.lines); longest >= 5000 || (len(a.src)/n >= 500) {
		a.fileItems = append(a.fileItems, item{tok: "obfuscation.minified", row: int32(longestRow), off: a.lines[longestRow], call: -1})
	}
	var errBytes, errEnd uint32
	for i := range a.tree.nodes {
		n := &a.tree.nodes[i]
		if n.kind == errorKind && n.start >= errEnd {
			errBytes += n.end - n.start
			errEnd = n.end
		}
	}
	if total := len(bytes.TrimSpace(a.src)); total > 0 && int(errBytes)*2 > total {
		a.fileEvent("parse.error")
	}
}

func (a *analysis) fileEvent(tok string) {
	a.fileItems = append(a.fileItems, item{tok: tok, row: -1, call: -1})
}

// emit records an event at node n in the current unit.
func (a *analysis) emit(tok string, n int32) {
	nd := &a.tree.nodes[n]
	a.units[a.cur].items = append(a.units[a.cur].items, item{tok: tok, row: int32(nd.row), off: nd.start, call: -1})
}

// emitImport records a module import: the raw specifier in Imports, and the
// module's category token once per module root.
func (a *analysis) emitImport(spec string, n int32) {
	if spec == "" {
		return
	}
	if _, ok := a.seenImport[spec]; !ok {
		a.seenImport[spec] = struct{}{}
		a.imports = append(a.imports, spec)
	}
	var root, tok string
	if a.lang.id == langJS {
		root = jsModule(spec)
		tok = jsImportTokens[root]
	} else {
		root = pyRoot(spec)
		tok = pyImportTokens[root]
	}
	if tok == "" {
		return
	}
	if _, ok := a.seenTok[root]; ok {
		return
	}
	a.seenTok[root] = struct{}{}
	a.emit(tok, n)
}

// callUnit records a call site of unit u in the current unit.
func (a *analysis) callUnit(u int32, n int32) {
	if u == a.cur {
		return // direct recursion adds nothing
	}
	a.units[u].callers++
	nd := &a.tree.nodes[n]
	a.units[a.cur].items = append(a.units[a.cur].items, item{row: int32(nd.row), off: nd.start, call: u})
}

// since reports whether the current unit got one of toks at or after mark.
func (a *analysis) since(mark int, toks ...string) bool {
	items := a.units[a.cur].items
	for i := mark; i < len(items); i++ {
		for _, t := range toks {
			if items[i].call < 0 && items[i].tok == t {
				return true
			}
		}
	}
	return false
}

func (a *analysis) mark() int { return len(a.units[a.cur].items) }

// output appends the file's events in execution order to dst.
func (a *analysis) output(dst []sequence.Event) []sequence.Event {
	for _, it := range a.fileItems {
		dst = append(dst, a.event(it))
	}
	if len(a.units) == 0 {
		return dst
	}
	own := 0
	for i := range a.units {
		for _, it := range a.units[i].items {
			if it.call < 0 {
				own++
			}
		}
	}
	budget := expansionMult * own
	repeat := 0
	var expand func(u int32)
	expand = func(u int32) {
		un := &a.units[u]
		un.emitted, un.onPath = true, true
		for _, it := range un.items {
			if it.call < 0 {
				if repeat > 0 {
					if budget <= 0 {
						continue
					}
					budget--
				}
				dst = append(dst, a.event(it))
				continue
			}
			v := &a.units[it.call]
			if v.onPath {
				continue
			}
			if v.emitted {
				if budget <= 0 {
					continue
				}
				// Each re-expansion costs budget too, not only the events
				// it emits: a call graph of wrappers with no events of
				// their own would otherwise be walked exponentially often.
				budget--
				repeat++
				expand(it.call)
				repeat--
				continue
			}
			expand(it.call)
		}
		a.units[u].onPath = false
	}
	expand(0)
	// Functions never called: after the module, in source order; then any
	// left over (only reachable from each other).
	for u := range a.units {
		if !a.units[u].emitted && a.units[u].callers == 0 {
			expand(int32(u))
		}
	}
	for u := range a.units {
		if !a.units[u].emitted {
			expand(int32(u))
		}
	}
	return dst
}

// event materialises an item.
func (a *analysis) event(it item) sequence.Event {
	ev := sequence.Event{Token: it.tok, File: a.path}
	if it.row < 0 || int(it.row) >= len(a.lines) {
		return ev
	}
	ev.Line = int(it.row) + 1
	ev.Snippet = a.snippet(int(it.row), int(it.off))
	return ev
}

// snippet returns the trimmed source line row (0-based), or for long lines a
// window starting near off, as valid single-line UTF-8 of ≤ maxSnippet bytes.
func (a *analysis) snippet(row, off int) string {
	start := int(a.lines[row])
	end := len(a.src)
	if row+1 < len(a.lines) {
		end = int(a.lines[row+1])
	}
	return snippetOf(a.src, start, end, off)
}

// snippetOf returns the trimmed line src[start:end], or for a long line a
// window of it starting near off, as valid single-line UTF-8 of ≤ maxSnippet
// bytes.
func snippetOf(src []byte, start, end, off int) string {
	line := bytes.TrimSpace(src[start:end])
	if len(line) > maxSnippet {
		s := max(off-16, start)
		line = bytes.TrimSpace(src[s:min(end, s+maxSnippet+8)])
		for len(line) > 0 && !utf8.RuneStart(line[0]) {
			line = line[1:]
		}
	}
	var b strings.Builder
	b.Grow(min(len(line), maxSnippet))
	for len(line) > 0 {
		r, size := utf8.DecodeRune(line)
		line = line[size:]
		if r == utf8.RuneError && size <= 1 {
			continue
		}
		if r == '\r' || r == '\n' || r == '\u2028' || r == '\u2029' || (r < 0x20 && r != '\t') || r == 0x7f {
			r = ' '
		}
		if b.Len()+utf8.RuneLen(r) > maxSnippet {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimRightFunc(b.String(), unicode.IsSpace)
}

// Tree helpers.

func (a *analysis) text(n int32) []byte {
	if n < 0 {
		return nil
	}
	nd := &a.tree.nodes[n]
	return a.src[nd.start:nd.end]
}

func (a *analysis) kind(n int32) uint16 {
	if n < 0 {
		return 0xFFFE
	}
	return a.tree.nodes[n].kind
}

// child returns n's first named child with the given field, or -1.
func (a *analysis) child(n int32, field uint16) int32 {
	if n < 0 || field == 0 {
		return -1
	}
	for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
		if a.tree.nodes[c].field == field {
			return c
		}
	}
	return -1
}

// nth returns n's i-th named child that is not a comment, or -1.
func (a *analysis) nth(n int32, i int) int32 {
	if n < 0 {
		return -1
	}
	for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
		if a.tree.nodes[c].kind == a.k.comment {
			continue
		}
		if i == 0 {
			return c
		}
		i--
	}
	return -1
}

func (a *analysis) parent(n int32) int32 {
	if n < 0 {
		return -1
	}
	return a.tree.nodes[n].parent
}

func (a *analysis) first(n int32) int32 { return a.nth(n, 0) }

// walk analyses the subtree at n in source order.
func (a *analysis) walk(n int32) {
	if n < 0 {
		return
	}
	if a.depth >= maxDepth || a.stopped {
		return
	}
	// A minified bundle is one top-level statement: check for the scan's
	// end inside the walk too, so that a timed-out scan stops working
	// instead of holding a parser and a CPU after its caller gave up.
	if a.steps++; a.steps&4095 == 0 && a.ctx != nil && a.ctx.Err() != nil {
		a.stopped = true
		return
	}
	if _, ok := a.skip[n]; ok {
		return
	}
	a.depth++
	switch a.lang.id {
	case langJS:
		a.jsVisit(n)
	case langPython:
		a.pyVisit(n)
	}
	a.depth--
}

// walkChildren walks every named child of n.
func (a *analysis) walkChildren(n int32) {
	for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
		a.walk(c)
	}
}

// walkUnit walks the body of a function unit u with u as the current unit.
func (a *analysis) walkUnit(u int32, n int32) {
	saved := a.cur
	a.cur = u
	a.walkChildren(n)
	a.cur = saved
}

// countIdent tracks _0x… identifiers for obfuscation.identifiers.
func (a *analysis) countIdent(n int32, t []byte) {
	if len(t) < 5 || t[0] != '_' || t[1] != '0' || (t[2] != 'x' && t[2] != 'X') {
		return
	}
	for _, c := range t[3:] {
		if !isHex(c) {
			return
		}
	}
	a.hex0x++
	if a.hex0x == obfIdentMin {
		a.emit("obfuscation.identifiers", n)
	}
}

const obfIdentMin = 10

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// lastSeg and rootSeg split a qualified name.
func lastSeg(q string) string {
	if i := strings.LastIndexByte(q, '.'); i >= 0 {
		return q[i+1:]
	}
	return q
}

func rootSeg(q string) string {
	if i := strings.IndexByte(q, '.'); i >= 0 {
		return q[:i]
	}
	return q
}

// lookupCall maps a resolved callee name to tokens: exact names first, then
// the module root's method table, then names distinctive on any receiver.
func lookupCall(exact map[string][]string, roots map[string]map[string][]string, any map[string][]string, q string) []string {
	if q == "" {
		return nil
	}
	if t, ok := exact[q]; ok {
		return t
	}
	last := lastSeg(q)
	if m, ok := roots[rootSeg(q)]; ok && last != q {
		if t, ok := m[last]; ok {
			return t
		}
	}
	return any[last]
}
