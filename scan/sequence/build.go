package sequence

import (
	"cmp"
	"path"
	"slices"
	"strings"
)

// Phase markers placed by Build before the events of each phase that has any.
const (
	MarkInstall = "[INSTALL]"
	MarkImport  = "[IMPORT]"
	MarkOther   = "[OTHER]"
)

// Defaults for Options.
const (
	DefaultMaxTokens = 512
	DefaultMaxRepeat = 2
)

// Package describes a package's entry points, as the scan package reads them
// from its manifests. Paths are slash-separated and relative to the package
// root, like FileEvents.Path; an entry may also be written like a JavaScript
// module specifier ("./lib/index", "lib/cli") and is then resolved the way
// Node resolves a relative require.
type Package struct {
	// Install lists the files executed at install time, in execution order:
	// npm lifecycle scripts (preinstall → install → postinstall,
	// as virtual files) and the files they run, binding.gyp, setup.py,
	// *.pth files, inline scripts.
	Install []string
	// Import lists the files loaded when the package is imported or run:
	// npm main, exports ("." first), bin, index.js; Python top-level
	// packages' __init__.py and top-level modules.
	Import []string
	// BuildBackend lists in-tree PEP 517 build backends (pyproject.toml's
	// backend-path): pip runs them to build an sdist, so the behaviour
	// rules judge them as install-time code; the sequence keeps them among
	// the other files, where the model was trained to see them.
	BuildBackend []string
	// PythonRoots lists the folders from which absolute Python imports
	// resolve, besides the package root, "src" and the importing file's own
	// folder (e.g. a wheel's "<name>.data/purelib").
	PythonRoots []string
}

// Options tune Build. The zero value means the defaults.
type Options struct {
	// MaxTokens caps the sequence length, phase markers included
	// (default 512).
	MaxTokens int
	// MaxRepeat is how many consecutive events with the same token are
	// kept (default 2): "fs.read fs.read fs.read fs.read" becomes
	// "fs.read fs.read". The model sees that a behaviour repeats without
	// letting a loop-unrolled file flood the budget. Repeats are dropped
	// rather than replaced by a count token so the vocabulary stays closed.
	MaxRepeat int
}

func (o Options) withDefaults() Options {
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	if o.MaxRepeat <= 0 {
		o.MaxRepeat = DefaultMaxRepeat
	}
	return o
}

// Sequence is a package's behaviour sequence. Tokens and Events are
// parallel: Events[i] is where Tokens[i] was seen; phase markers have an
// Event with an empty File.
type Sequence struct {
	Tokens []string `json:"tokens"`
	Events []Event  `json:"events"`
	// Dropped counts the events (after repeat compression) left out by the
	// length cap.
	Dropped int `json:"dropped,omitempty"`
}

// Risk weighs how strongly a token points at malicious behaviour. Build
// uses it to budget long packages (files are ranked by the summed Risk of
// their distinct tokens, so a copied library with a hundred network calls
// does not outrank a small module that decodes and evaluates a payload), and
// the scan package uses it to pick findings when the classifier cannot
// explain itself. 10: rarely benign; 3: risky capability; 1: weak signal;
// 0: neutral (module imports, markers, unknown tokens).
func Risk(token string) int {
	switch token {
	case "eval.decoded", "shell.download_exec", "install.node_eval", "pth.exec",
		"env.read.all", "env.read.secret", "spy.call", "persistence", "process.detached",
		"sensitive.path", "sensitive.browser", "sensitive.wallet", "sensitive.messenger",
		"url.ip", "url.webhook", "url.paste", "url.tunnel", "url.telegram",
		"obfuscation.identifiers", "obfuscation.charcodes", "obfuscation.minified",
		"browser.hook", "wallet.address", "script.inject", "publish.self", "install.binary",
		"process.download_exec", "eval.payload":
		return 10
	case "net.call", "net.dns", "process.call", "shell.script", "eval.call",
		"import.dynamic", "install.script", "install.binding_gyp",
		"setup.py", "setup.cmdclass", "setup.install_class":
		return 3
	case "encoding.call", "crypto.call", "string.base64", "string.hex", "string.long",
		"url", "fs.write", "fs.delete", "fs.read", "os.call", "env.read", "file.truncated", "fs.read.nonsource":
		return 1
	}
	return 0
}

// Build orders a package's events along its likely execution path and caps
// the result:
//
//   - Phases: install-time entry files in the order given, then import-time
//     entries, then every other file with events, most suspicious first (by
//     summed Risk of distinct tokens, then event count, then path). From each
//     entry, local imports are followed depth-first in pre-order (the file's
//     own events, then the files it imports, in import order); each file is
//     emitted once, in the first phase that reaches it. Each phase with
//     events starts with its marker.
//   - Repeats: at most MaxRepeat consecutive events with the same token.
//   - Cap: MaxTokens including markers. The install phase is kept whole when
//     it fits; otherwise its riskiest events win, earlier before later. The
//     remaining budget goes to files from the import and other phases in
//     rank order: files holding a rarely benign token (Risk 10) first, by
//     suspicion; then the import phase in execution order; then the other
//     files by suspicion. A file that fits is taken whole; one that does not
//     gets its riskiest events, at most half of what is left, and files cut
//     short are topped up at the end. Selected events keep their execution
//     order. This is what keeps a payload module in the sequence when it
//     ships beside a full copy of a big benign library (DESIGN.md, "Long
//     packages").
//
// Build never fails: unknown entries and unresolvable imports are ignored.
func Build(pkg Package, files []*FileEvents, opts Options) Sequence {
	opts = opts.withDefaults()
	b := newBuilder(files, pkg.PythonRoots, opts.MaxRepeat)

	install := b.walk(pkg.Install)
	imports := b.walk(pkg.Import)
	others := b.rest()

	total := 0
	for _, units := range [][]*unit{install, imports, others} {
		for _, u := range units {
			total += len(u.events)
		}
	}

	budget := opts.MaxTokens
	var out []Event
	kept := 0

	// Install phase: whole if it fits, else its riskiest events.
	var head []Event
	for _, u := range install {
		head = append(head, u.events...)
	}
	if len(head) > 0 && budget > 1 {
		budget--
		head = pick(head, budget)
		budget -= len(head)
		kept += len(head)
		out = append(out, marker(MarkInstall))
		out = append(out, head...)
	}

	// Import and other phases compete for the rest.
	var cands []cand // import phase in execution order, then other files
	for i, u := range imports {
		cands = append(cands, cand{u, 0, i})
	}
	for i, u := range others {
		cands = append(cands, cand{u, 1, i})
	}
	ranked := slices.Clone(cands)
	slices.SortStableFunc(ranked, func(a, b cand) int {
		if c := cmp.Compare(a.tier(), b.tier()); c != 0 {
			return c
		}
		if a.tier() == 0 {
			if c := cmp.Compare(b.u.risk, a.u.risk); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(a.phase, b.phase); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	open := [2]bool{}
	chosen := make(map[*unit][]Event, len(ranked))
	take := func(c cand, n int) {
		if !open[c.phase] {
			open[c.phase] = true
			budget--
		}
		budget -= n - len(chosen[c.u])
		kept += n - len(chosen[c.u])
		chosen[c.u] = pick(c.u.events, n)
	}
	// First pass: whole files that fit; a file that does not fit gets its
	// riskiest events, at most half of what is left, so one huge file cannot
	// starve the ones ranked after it.
	for _, c := range ranked {
		mark := 0
		if !open[c.phase] {
			mark = 1
		}
		if n := len(c.u.events); n+mark <= budget {
			take(c, n)
		} else if room := budget - mark; room > 0 {
			take(c, max(room/2, 1))
		}
	}
	// Second pass: top up the files cut short, in rank order.
	for _, c := range ranked {
		if budget <= 0 {
			break
		}
		if have := len(chosen[c.u]); have > 0 && have < len(c.u.events) {
			take(c, min(len(c.u.events), have+budget))
		}
	}
	for phase, mark := range []string{MarkImport, MarkOther} {
		if !open[phase] {
			continue
		}
		out = append(out, marker(mark))
		for _, c := range cands {
			if c.phase == phase {
				out = append(out, chosen[c.u]...)
			}
		}
	}

	out = compress(out, opts.MaxRepeat)
	seq := Sequence{
		Tokens:  make([]string, len(out)),
		Events:  out,
		Dropped: total - kept,
	}
	for i, e := range out {
		seq.Tokens[i] = e.Token
	}
	return seq
}

func marker(tok string) Event { return Event{Token: tok} }

// cand is a file competing for the budget after the install phase.
type cand struct {
	u     *unit
	phase int // 0 import, 1 other
	order int // position within its phase
}

// tier ranks candidates: files with a rarely benign token first, then the
// import phase, then the other files.
func (c cand) tier() int {
	switch {
	case c.u.critical:
		return 0
	case c.phase == 0:
		return 1
	}
	return 2
}

// unit is one file's contribution: its events after repeat compression.
type unit struct {
	path     string
	events   []Event
	risk     int  // summed Risk of distinct tokens
	critical bool // has a token with Risk 10
}

type builder struct {
	files     map[string]*FileEvents
	paths     []string // sorted
	roots     []string
	maxRepeat int
	seen      map[string]bool
}

func newBuilder(files []*FileEvents, roots []string, maxRepeat int) *builder {
	b := &builder{
		files:     make(map[string]*FileEvents, len(files)),
		roots:     append([]string{"", "src"}, roots...),
		maxRepeat: maxRepeat,
		seen:      make(map[string]bool),
	}
	for _, f := range files {
		if f == nil {
			continue
		}
		p := cleanPath(f.Path)
		if _, dup := b.files[p]; dup {
			continue
		}
		b.files[p] = f
		b.paths = append(b.paths, p)
	}
	slices.Sort(b.paths)
	return b
}

// Reached returns the files that entries and the local files they import
// reach, as Build follows them: Reached(pkg, files, pkg.Install) is the
// install phase, Reached(pkg, files, pkg.Import) what importing the
// package loads. Paths are cleaned (CleanPath).
func Reached(pkg Package, files []*FileEvents, entries []string) map[string]bool {
	b := newBuilder(files, pkg.PythonRoots, DefaultMaxRepeat)
	b.walk(entries)
	return b.seen
}

// CleanPath cleans a FileEvents.Path the way Build does.
func CleanPath(p string) string { return cleanPath(p) }

func cleanPath(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	return p
}

// walk visits the entries and everything they import locally, depth-first.
func (b *builder) walk(entries []string) []*unit {
	var units []*unit
	var visit func(p string, depth int)
	visit = func(p string, depth int) {
		if b.seen[p] || depth > maxDepth {
			return
		}
		b.seen[p] = true
		f := b.files[p]
		if u := b.unit(p, f); u != nil {
			units = append(units, u)
		}
		for _, spec := range f.Imports {
			if r := b.resolve(p, spec); r != "" {
				visit(r, depth+1)
			}
		}
	}
	for _, e := range entries {
		if p := b.resolveEntry(e); p != "" {
			visit(p, 0)
		}
	}
	return units
}

// maxDepth bounds import chains so hostile packages cannot recurse deeply.
const maxDepth = 256

// rest returns the files no entry reached, most suspicious first.
func (b *builder) rest() []*unit {
	var units []*unit
	for _, p := range b.paths {
		if b.seen[p] {
			continue
		}
		b.seen[p] = true
		if u := b.unit(p, b.files[p]); u != nil {
			units = append(units, u)
		}
	}
	slices.SortStableFunc(units, func(a, b *unit) int {
		if c := cmp.Compare(b.risk, a.risk); c != 0 {
			return c
		}
		if c := cmp.Compare(len(b.events), len(a.events)); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	return units
}

func (b *builder) unit(p string, f *FileEvents) *unit {
	evs := compress(f.Events, b.maxRepeat)
	if len(evs) == 0 {
		return nil
	}
	u := &unit{path: p, events: evs}
	distinct := make(map[string]bool)
	for _, e := range evs {
		if !distinct[e.Token] {
			distinct[e.Token] = true
			u.risk += Risk(e.Token)
			u.critical = u.critical || Risk(e.Token) >= 10
		}
	}
	return u
}

// compress keeps at most n consecutive events with the same token. Phase
// markers are never dropped.
func compress(evs []Event, n int) []Event {
	out := make([]Event, 0, len(evs))
	run := 0
	for i, e := range evs {
		if i > 0 && e.Token == evs[i-1].Token {
			run++
		} else {
			run = 1
		}
		if run <= n || isMarker(e.Token) {
			out = append(out, e)
		}
	}
	return out
}

func isMarker(tok string) bool {
	return tok == MarkInstall || tok == MarkImport || tok == MarkOther
}

// pick returns at most n of evs, riskiest first and earlier before later
// among equals, in their original order.
func pick(evs []Event, n int) []Event {
	if n <= 0 {
		return nil
	}
	if len(evs) <= n {
		return evs
	}
	idx := make([]int, len(evs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Compare(Risk(evs[b].Token), Risk(evs[a].Token))
	})
	idx = idx[:n]
	slices.Sort(idx)
	out := make([]Event, n)
	for i, j := range idx {
		out[i] = evs[j]
	}
	return out
}

func isPython(p string) bool {
	p = baseFile(p)
	return strings.HasSuffix(p, ".py") || strings.HasSuffix(p, ".pyw") || strings.HasSuffix(p, ".pth")
}

// resolveEntry maps an entry (a path or a relative module specifier) to a
// known file.
func (b *builder) resolveEntry(e string) string {
	if e == "" {
		return ""
	}
	if p := cleanPath(e); b.files[p] != nil {
		return p
	}
	for _, p := range jsCandidates(cleanPath(e)) {
		if b.files[p] != nil {
			return p
		}
	}
	return ""
}

// resolve maps an import specifier seen in file from to a local file, or "".
func (b *builder) resolve(from, spec string) string {
	if spec == "" {
		return ""
	}
	if isPython(from) {
		return b.resolvePython(from, spec)
	}
	if !(spec == "." || spec == ".." || strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../")) {
		return "" // bare specifier: a dependency or a builtin
	}
	base := path.Join(path.Dir(baseFile(from)), spec)
	if strings.HasPrefix(base, "../") || base == ".." {
		return "" // outside the package
	}
	for _, p := range jsCandidates(base) {
		if b.files[p] != nil {
			return p
		}
	}
	return ""
}

// baseFile strips a virtual suffix ("package.json#scripts.postinstall").
func baseFile(p string) string {
	if i := strings.IndexByte(p, '#'); i >= 0 {
		return p[:i]
	}
	return p
}

func jsCandidates(base string) []string {
	base = strings.TrimPrefix(base, "./")
	if base == "." || base == "" {
		return []string{"index.js", "index.mjs", "index.cjs"}
	}
	return []string{
		base, base + ".js", base + ".mjs", base + ".cjs",
		base + "/index.js", base + "/index.mjs", base + "/index.cjs",
	}
}

func (b *builder) resolvePython(from, spec string) string {
	dots := len(spec) - len(strings.TrimLeft(spec, "."))
	parts := strings.Split(spec[dots:], ".")
	if spec[dots:] == "" {
		parts = nil
	}
	var bases []string
	if dots > 0 {
		dir := path.Dir(from)
		for i := 1; i < dots; i++ {
			if dir == "." {
				return ""
			}
			dir = path.Dir(dir)
		}
		bases = []string{dir}
	} else {
		bases = append(slices.Clone(b.roots), path.Dir(from))
	}
	// "from a.b import c" may arrive as "a.b.c" with c a name: try the
	// longest module path first.
	for n := len(parts); n >= 0; n-- {
		if n == 0 && dots == 0 {
			break
		}
		mod := strings.Join(parts[:n], "/")
		for _, base := range bases {
			p := path.Join(base, mod)
			if n > 0 && b.files[p+".py"] != nil {
				return p + ".py"
			}
			if b.files[path.Join(p, "__init__.py")] != nil {
				return path.Join(p, "__init__.py")
			}
		}
	}
	return ""
}
