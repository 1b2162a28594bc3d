package scan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moatproject/moat/scan/archive"
	"github.com/moatproject/moat/scan/sequence"
)

// plan is what a package's layout and manifests say: its identity, its
// entry points, and the sources to hand to the Extractor.
type plan struct {
	eco           Ecosystem
	name, version string
	pkg           sequence.Package
	jobs          []job       // sources to extract
	files         []composite // the FileEvents the sequence builder will see
	// cut holds the files the archive kept only the head of (over
	// Limits.MaxFileBytes): their tail was never read.
	cut map[string]bool
}

// job is one Extract call.
type job struct {
	path string // the path given to the extractor (its extension picks the language)
	src  []byte // what the extractor gets: the whole file
	size int    // bytes of the file the parse budget counts (len(src) unless only a head is held)
	hits int    // suspiciousMarkers occurrences in those bytes; -1: count them in src when needed
}

// newJob is a job whose src is all there is.
func newJob(path string, src []byte) job {
	return job{path: path, src: src, size: len(src), hits: -1}
}

// composite describes one FileEvents: fixed manifest events and extracted
// events, in order.
type composite struct {
	path    string
	parts   []part
	imports []string
}

type part struct {
	events []sequence.Event // fixed events (manifest tokens)
	job    int              // index into plan.jobs, or -1
	line   int              // > 0: the job's events all belong to this line of path
}

// sourceExt lists the extensions the extractor understands.
func isSource(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".js", ".cjs", ".mjs", ".jsx", ".py", ".pyw":
		return true
	}
	return false
}

// maxSnippet bounds Event.Snippet.
const maxSnippet = 120

func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxSnippet {
		return s
	}
	cut := maxSnippet - 3
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// planner builds a plan from an archive.
type planner struct {
	plan
	data  map[string][]byte         // kept files by path
	stats map[string]*markerCounter // what the archive reader saw of files of which only a head is kept
	done  map[string]bool           // paths that already have a composite
	// listed holds every path in the archive, kept or not: an install
	// script that runs a file the scanner does not read as source (a
	// binary, a script under a data extension) is told apart from one that
	// runs a file generated at build time.
	listed map[string]bool
}

func newPlan(a *archive.Archive, in Input) *plan {
	p := &planner{data: make(map[string][]byte, len(a.Files)), stats: make(map[string]*markerCounter),
		done: make(map[string]bool), listed: make(map[string]bool, len(a.Files))}
	var paths []string
	for _, f := range a.Files {
		p.listed[f.Path] = true
		if f.Truncated && f.Data != nil {
			if p.cut == nil {
				p.cut = make(map[string]bool)
			}
			p.cut[f.Path] = true
		}
		if f.Data == nil {
			continue
		}
		if _, dup := p.data[f.Path]; !dup {
			paths = append(paths, f.Path)
		}
		p.data[f.Path] = f.Data
		if c, ok := f.Observer.(*markerCounter); ok {
			p.stats[f.Path] = c
		} else {
			delete(p.stats, f.Path)
		}
	}
	slices.Sort(paths)
	p.name, p.version = in.Name, in.Version
	p.eco = in.Ecosystem
	if p.eco == "" {
		p.eco = detectEcosystem(in.Filename, paths, p.data)
	}
	switch p.eco {
	case NPM:
		p.npm()
	case PyPI:
		p.pypi(in.Filename, paths)
	}
	// Every other source file, in path order.
	for _, f := range paths {
		if !p.done[f] && isSource(f) {
			p.source(f, f)
		}
	}
	// A copy, so that the planner's maps (and the files only they hold)
	// are garbage once planning is done.
	out := p.plan
	return &out
}

// detectEcosystem infers the ecosystem from the layout: a wheel or Python
// metadata → PyPI; a root package.json → npm; setup.py, pyproject.toml or
// setup.cfg → PyPI; otherwise whichever of .py and .js files is more
// common; "" when there are neither.
func detectEcosystem(filename string, paths []string, data map[string][]byte) Ecosystem {
	if strings.HasSuffix(strings.ToLower(filename), ".whl") {
		return PyPI
	}
	if data["PKG-INFO"] != nil || wheelInfo(paths) != "" {
		return PyPI
	}
	if data["package.json"] != nil {
		return NPM
	}
	if data["setup.py"] != nil || data["pyproject.toml"] != nil || data["setup.cfg"] != nil {
		return PyPI
	}
	py, js := 0, 0
	for _, p := range paths {
		switch strings.ToLower(path.Ext(p)) {
		case ".py", ".pyw":
			py++
		case ".js", ".cjs", ".mjs", ".jsx":
			js++
		}
	}
	switch {
	case py > 0 && py >= js:
		return PyPI
	case js > 0:
		return NPM
	}
	return ""
}

// source adds an extracted file as its own composite.
func (p *planner) source(as, extractAs string) {
	p.done[as] = true
	p.jobs = append(p.jobs, p.fileJob(as, extractAs))
	p.files = append(p.files, composite{path: as, parts: []part{{job: len(p.jobs) - 1}}})
}

// fileJob is the job extracting the kept file as under the name extractAs.
func (p *planner) fileJob(as, extractAs string) job {
	if c := p.stats[as]; c != nil {
		return job{path: extractAs, src: p.data[as], size: c.n, hits: c.hits}
	}
	return newJob(extractAs, p.data[as])
}

// npm lifecycle scripts run at install time, in this order. binding.gyp
// takes the place of "install" when that script is absent.
// npmInstallScripts are the lifecycle scripts npm, yarn and pnpm run when
// they install a package from a registry tarball, in order. "prepare" is
// not one: it runs before packing and for git or folder dependencies, never
// for a tarball moat serves, and build tooling fills it (husky, tsc).
var npmInstallScripts = []string{"preinstall", "install", "postinstall"}

func (p *planner) npm() {
	raw := p.data["package.json"]
	var m map[string]json.RawMessage
	if raw == nil || json.Unmarshal(raw, &m) != nil {
		m = nil
	}
	if p.name == "" {
		p.name = jsonString(m["name"])
	}
	if p.version == "" {
		p.version = jsonString(m["version"])
	}
	scripts := make(map[string]string)
	var sm map[string]json.RawMessage
	if json.Unmarshal(m["scripts"], &sm) == nil {
		for k, v := range sm {
			if s := jsonString(v); s != "" {
				scripts[k] = s
			}
		}
	}
	for _, name := range npmInstallScripts {
		if name == "install" && p.data["binding.gyp"] != nil {
			p.done["binding.gyp"] = true
			p.files = append(p.files, composite{path: "binding.gyp", parts: []part{{job: -1, events: []sequence.Event{{
				Token: "install.binding_gyp", File: "binding.gyp", Snippet: "binding.gyp (node-gyp rebuild)",
			}}}}})
			p.pkg.Install = append(p.pkg.Install, "binding.gyp")
		}
		if cmd, ok := scripts[name]; ok {
			p.npmScript(raw, name, cmd, scripts)
		}
	}

	main := jsonString(m["main"])
	if main != "" {
		p.pkg.Import = append(p.pkg.Import, main)
	}
	p.pkg.Import = append(p.pkg.Import, exportTargets(m["exports"], 0)...)
	p.pkg.Import = append(p.pkg.Import, binTargets(m["bin"])...)
	if main == "" {
		p.pkg.Import = append(p.pkg.Import, "index.js")
	}
	// Extension-less bin files are JavaScript run by node.
	for _, b := range binTargets(m["bin"]) {
		f := cleanRel(b)
		if p.data[f] != nil && !p.done[f] && !isSource(f) {
			p.source(f, f+"#.js")
		}
	}
}

// npmScript adds the composite of one lifecycle script: install.script and
// what its shell command reveals, importing the files it runs, followed by
// any inline code it evaluates.
func (p *planner) npmScript(raw []byte, name, cmd string, scripts map[string]string) {
	vpath := "package.json#scripts." + name
	line := lineOfKey(raw, name)
	snip := snippet(fmt.Sprintf("%q: %q", name, cmd))
	ev := func(tok string) sequence.Event {
		return sequence.Event{Token: tok, File: "package.json", Line: line, Snippet: snip}
	}
	events := []sequence.Event{ev("install.script")}
	var facts shellFacts
	seen := map[string]bool{name: true}
	var walk func(cmd string, depth int)
	walk = func(cmd string, depth int) {
		f := analyzeShell(cmd)
		facts.tokens = append(facts.tokens, f.tokens...)
		facts.runs = append(facts.runs, f.runs...)
		facts.inline = append(facts.inline, f.inline...)
		facts.execs = append(facts.execs, f.execs...)
		for _, r := range f.npmRun {
			if s, ok := scripts[r]; ok && !seen[r] && depth < maxShellDepth {
				seen[r] = true
				walk(s, depth+1)
			}
		}
	}
	walk(cmd, 0)
	for _, r := range append(slices.Clone(facts.runs), facts.execs...) {
		if p.runsNonSource(cleanRel(r)) {
			facts.tokens = append(facts.tokens, "install.binary")
		}
	}
	for _, t := range facts.tokens {
		events = append(events, ev(t))
	}
	c := composite{path: vpath, parts: []part{{job: -1, events: events}}}
	for _, r := range facts.runs {
		f := cleanRel(r)
		if strings.HasSuffix(f, ".sh") && p.data[f] != nil && !p.done[f] {
			p.shellFile(f)
		}
		c.imports = append(c.imports, "./"+f)
	}
	p.files = append(p.files, c)
	p.pkg.Install = append(p.pkg.Install, vpath)
	for i, in := range facts.inline {
		ipath := vpath + in.ext
		if i > 0 {
			ipath = fmt.Sprintf("%s.%d%s", vpath, i+1, in.ext)
		}
		p.jobs = append(p.jobs, newJob(ipath, []byte(in.code)))
		p.files = append(p.files, composite{path: ipath, parts: []part{{job: len(p.jobs) - 1}}})
		p.pkg.Install = append(p.pkg.Install, ipath)
	}
}

// runsNonSource reports whether an install script runs f, a file shipped in
// the package that the scanner cannot read as source: not JavaScript,
// Python or shell (as written or as Node resolves it), e.g. a native binary
// or code under an image or font extension. A file absent from the package
// (built at install time, or a typo) does not count.
func (p *planner) runsNonSource(f string) bool {
	if !p.listed[f] {
		return false
	}
	for _, c := range []string{f, f + ".js", f + ".cjs", f + ".mjs", f + "/index.js"} {
		if p.data[c] != nil {
			return false
		}
	}
	return true
}

// shellFile analyses a shell script an install script runs, line by line.
func (p *planner) shellFile(f string) {
	p.done[f] = true
	c := composite{path: f}
	sc := bufio.NewScanner(bytes.NewReader(p.data[f]))
	sc.Buffer(nil, 64<<10)
	for n := 1; sc.Scan() && n <= 10_000; n++ {
		facts := analyzeShell(sc.Text())
		var evs []sequence.Event
		for _, t := range facts.tokens {
			evs = append(evs, sequence.Event{Token: t, File: f, Line: n, Snippet: snippet(sc.Text())})
		}
		if len(evs) > 0 {
			c.parts = append(c.parts, part{job: -1, events: evs})
		}
		for _, r := range facts.runs {
			c.imports = append(c.imports, "./"+path.Join(path.Dir(f), r))
		}
	}
	p.files = append(p.files, c)
}

// cleanRel turns "./bin/x.js" or "bin\x.js" into "bin/x.js".
func cleanRel(s string) string {
	s = strings.ReplaceAll(s, `\`, "/")
	return strings.TrimPrefix(path.Clean("/"+s), "/")
}

func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// exportTargets lists the string targets of a package.json "exports" value:
// the "." entry first, then other keys in sorted order; patterns ("*") and
// null targets are skipped.
func exportTargets(raw json.RawMessage, depth int) []string {
	if len(raw) == 0 || depth > 8 {
		return nil
	}
	if s := jsonString(raw); s != "" {
		if strings.Contains(s, "*") {
			return nil
		}
		return []string{s}
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		var out []string
		for _, v := range arr {
			out = append(out, exportTargets(v, depth+1)...)
		}
		return out
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	keys := slices.Sorted(mapKeys(obj))
	slices.SortStableFunc(keys, func(a, b string) int {
		switch {
		case a == "." && b != ".":
			return -1
		case b == "." && a != ".":
			return 1
		}
		return 0
	})
	var out []string
	for _, k := range keys {
		out = append(out, exportTargets(obj[k], depth+1)...)
	}
	return out
}

// binTargets lists the files of a package.json "bin" value (a string or a
// map of names to files, in name order).
func binTargets(raw json.RawMessage) []string {
	if s := jsonString(raw); s != "" {
		return []string{s}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	var out []string
	for _, k := range slices.Sorted(mapKeys(obj)) {
		if s := jsonString(obj[k]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// lineOfKey returns the 1-based line of the first `"key":` in a JSON
// document, or 0.
func lineOfKey(doc []byte, key string) int {
	needle := []byte(`"` + key + `"`)
	off := 0
	for {
		i := bytes.Index(doc[off:], needle)
		if i < 0 {
			return 0
		}
		j := off + i + len(needle)
		rest := bytes.TrimLeft(doc[j:], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			return 1 + bytes.Count(doc[:off+i], []byte{'\n'})
		}
		off = j
	}
}

// wheelInfo returns the wheel's .dist-info folder, or "".
func wheelInfo(paths []string) string {
	for _, p := range paths {
		dir, rest, ok := strings.Cut(p, "/")
		if ok && strings.HasSuffix(dir, ".dist-info") && (rest == "METADATA" || rest == "WHEEL" || rest == "RECORD") {
			return dir
		}
	}
	return ""
}

func (p *planner) pypi(filename string, paths []string) {
	info := wheelInfo(paths)
	wheel := info != "" || strings.HasSuffix(strings.ToLower(filename), ".whl")

	// Identity: PKG-INFO, METADATA, egg-info, pyproject.toml, file name.
	var metaDirs []string // folders that may hold top_level.txt
	if info != "" {
		metaDirs = append(metaDirs, info)
	}
	for _, f := range paths {
		if dir, base := path.Split(f); base == "PKG-INFO" && strings.HasSuffix(strings.TrimSuffix(dir, "/"), ".egg-info") {
			metaDirs = append(metaDirs, strings.TrimSuffix(dir, "/"))
		}
	}
	for _, f := range []string{"PKG-INFO", info + "/METADATA"} {
		if d := p.data[f]; d != nil {
			p.fill(parseMetadata(d))
		}
	}
	for _, d := range metaDirs {
		p.fill(parseMetadata(p.data[d+"/PKG-INFO"]))
	}
	if d := p.data["pyproject.toml"]; d != nil {
		p.fill(parsePyproject(d))
	}
	p.fill(nameFromFilename(filename))

	// Install time: setup.py of an sdist, then .pth files.
	if d := p.data["setup.py"]; d != nil && !wheel {
		p.done["setup.py"] = true
		p.jobs = append(p.jobs, p.fileJob("setup.py", "setup.py"))
		p.files = append(p.files, composite{path: "setup.py", parts: []part{
			{job: -1, events: []sequence.Event{{Token: "setup.py", File: "setup.py", Snippet: "setup.py (run by pip at install)"}}},
			{job: len(p.jobs) - 1},
		}})
		p.pkg.Install = append(p.pkg.Install, "setup.py")
	}
	if d := p.data["pyproject.toml"]; d != nil && !wheel {
		p.inTreeBackend(d)
	}
	for _, f := range paths {
		if strings.HasSuffix(f, ".pth") {
			p.pth(f)
		}
	}

	// Import time: top-level packages and modules.
	roots := []string{"", "src"}
	for _, f := range paths {
		if dir, _, ok := strings.Cut(f, "/"); ok && strings.HasSuffix(dir, ".data") {
			for _, sub := range []string{"/purelib", "/platlib"} {
				if !slices.Contains(roots, dir+sub) && strings.HasPrefix(f, dir+sub+"/") {
					roots = append(roots, dir+sub)
					p.pkg.PythonRoots = append(p.pkg.PythonRoots, dir+sub)
				}
			}
		}
	}
	var names []string
	for _, d := range metaDirs {
		if tl := p.data[d+"/top_level.txt"]; tl != nil {
			for _, l := range strings.Split(string(tl), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					names = append(names, strings.ReplaceAll(l, ".", "/"))
				}
			}
		}
	}
	if p.name != "" {
		names = append(names, strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToLower(p.name)))
	}
	found := false
	for _, n := range names {
		for _, r := range roots {
			for _, f := range []string{path.Join(r, n, "__init__.py"), path.Join(r, n+".py")} {
				if p.data[f] != nil && !slices.Contains(p.pkg.Import, f) {
					p.pkg.Import = append(p.pkg.Import, f)
					found = true
				}
			}
		}
	}
	if !found {
		// No declared name matched: every top-level package but tests and docs.
		for _, f := range paths {
			for _, r := range roots {
				rel, ok := strings.CutPrefix(f, r+"/")
				if r == "" {
					rel, ok = f, true
				}
				if !ok {
					continue
				}
				dir, base := path.Split(rel)
				dir = strings.TrimSuffix(dir, "/")
				if base == "__init__.py" && dir != "" && !strings.Contains(dir, "/") && !notImported[dir] {
					p.pkg.Import = append(p.pkg.Import, f)
				}
			}
		}
	}
}

// inTreeBackend records a PEP 517 build backend that the sdist itself
// ships (pyproject.toml's build-system.backend-path): pip imports and runs
// it to build the package, as it runs setup.py (sequence.Package.BuildBackend).
func (p *planner) inTreeBackend(pyproject []byte) {
	backend, dirs := parseBuildSystem(pyproject)
	mod, _, _ := strings.Cut(backend, ":")
	if mod == "" || len(dirs) == 0 {
		return
	}
	rel := strings.ReplaceAll(mod, ".", "/")
	for _, d := range dirs {
		for _, f := range []string{path.Join(cleanRel(d), rel+".py"), path.Join(cleanRel(d), rel, "__init__.py")} {
			if p.data[f] == nil || slices.Contains(p.pkg.BuildBackend, f) {
				continue
			}
			p.pkg.BuildBackend = append(p.pkg.BuildBackend, f)
			return
		}
	}
}

// parseBuildSystem reads build-system.build-backend and backend-path from
// pyproject.toml: enough TOML for these two keys (a string; an array of
// strings, possibly over several lines).
func parseBuildSystem(d []byte) (backend string, paths []string) {
	in := false
	lines := strings.Split(string(d), "\n")
	for i := 0; i < len(lines) && i < 10_000; i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "[") {
			in = strings.ReplaceAll(l, " ", "") == "[build-system]"
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !in || !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "build-backend":
			if s, ok := tomlString(v); ok {
				backend = s
			}
		case "backend-path":
			for !strings.Contains(v, "]") && i+1 < len(lines) && len(v) < 4096 {
				i++
				v += " " + strings.TrimSpace(lines[i])
			}
			v = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(v, "]", 2)[0], "["), ","))
			for _, e := range strings.Split(v, ",") {
				if s, ok := tomlString(strings.TrimSpace(e)); ok {
					paths = append(paths, s)
				}
			}
		}
	}
	return backend, paths
}

// tomlString unquotes a basic or literal TOML string (no escapes).
func tomlString(v string) (string, bool) {
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	if len(v) < 2 || (v[0] != '"' && v[0] != '\'') || v[len(v)-1] != v[0] {
		return "", false
	}
	return v[1 : len(v)-1], true
}

var notImported = map[string]bool{"test": true, "tests": true, "testing": true, "docs": true, "doc": true, "examples": true, "example": true, "benchmarks": true}

func (p *planner) fill(name, version string) {
	if p.name == "" {
		p.name = name
	}
	if p.version == "" {
		p.version = version
	}
}

// pth adds a .pth file: every line starting with "import" is executed by
// Python's site module at every interpreter start; each such line yields
// pth.exec followed by the events of the line parsed as Python.
func (p *planner) pth(f string) {
	p.done[f] = true
	c := composite{path: f}
	for i, l := range strings.Split(string(p.data[f]), "\n") {
		l = strings.TrimRight(l, "\r")
		if !strings.HasPrefix(l, "import ") && !strings.HasPrefix(l, "import\t") {
			continue
		}
		p.jobs = append(p.jobs, newJob(fmt.Sprintf("%s#L%d.py", f, i+1), []byte(l)))
		c.parts = append(c.parts,
			part{job: -1, events: []sequence.Event{{Token: "pth.exec", File: f, Line: i + 1, Snippet: snippet(l)}}},
			part{job: len(p.jobs) - 1, line: i + 1})
		if len(c.parts) >= 2*1000 {
			break
		}
	}
	p.files = append(p.files, c)
	p.pkg.Install = append(p.pkg.Install, f)
}

// parseMetadata reads Name and Version from core metadata (PKG-INFO,
// METADATA): RFC 822 headers up to the first blank line.
func parseMetadata(d []byte) (name, version string) {
	for n, l := range strings.Split(string(d), "\n") {
		l = strings.TrimRight(l, "\r")
		if l == "" || n > 1000 {
			break
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "name":
			if name == "" {
				name = strings.TrimSpace(v)
			}
		case "version":
			if version == "" {
				version = strings.TrimSpace(v)
			}
		}
	}
	return name, version
}

// parsePyproject reads name and version from the [project] table of a
// pyproject.toml (plain `key = "value"` lines only; dynamic versions stay
// empty).
func parsePyproject(d []byte) (name, version string) {
	in := false
	for _, l := range strings.Split(string(d), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			in = l == "[project]"
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) < 2 || (v[0] != '"' && v[0] != '\'') || v[len(v)-1] != v[0] {
			continue
		}
		v = v[1 : len(v)-1]
		switch strings.TrimSpace(k) {
		case "name":
			name = v
		case "version":
			version = v
		}
	}
	return name, version
}

// nameFromFilename splits "name-1.0.tar.gz" and
// "name-1.0-py3-none-any.whl" into name and version.
func nameFromFilename(fn string) (name, version string) {
	base := path.Base(strings.ReplaceAll(fn, `\`, "/"))
	lower := strings.ToLower(base)
	if strings.HasSuffix(lower, ".whl") {
		parts := strings.Split(base[:len(base)-4], "-")
		if len(parts) >= 5 {
			return parts[0], parts[1]
		}
		return "", ""
	}
	for _, ext := range []string{".tar.gz", ".tgz", ".tar.bz2", ".zip", ".tar"} {
		if strings.HasSuffix(lower, ext) {
			stem := base[:len(base)-len(ext)]
			if i := strings.LastIndexByte(stem, '-'); i > 0 {
				return stem[:i], stem[i+1:]
			}
		}
	}
	return "", ""
}
