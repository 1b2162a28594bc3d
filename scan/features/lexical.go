package features

import (
	"bytes"
	"strings"

	"github.com/moatproject/moat/scan/sequence"
)

// Lexical analysis: the behaviour events of code that is not parsed (past a
// file's parse budget, or in a window whose parse timed out), found from the
// lexer's code runs and string literals alone. It uses the same token tables
// as the parsed analysis: a called dotted name (resolved through the aliases
// that require/import statements bind) is looked up with lookupCall, module
// names given to require/import earn their import token, and every string
// literal goes through classifyLiteral (URLs, shell commands, sensitive
// paths). What needs a syntax tree (data flow, call-site expansion, constant
// folding) is not done.

// Bounds of the lexical events of one file: a large bundle repeats the same
// behaviour many times, and the sequence compresses repeats anyway.
const (
	maxLexicalPerToken = 64
	maxLexicalEvents   = 1024
	maxLexicalAliases  = 4096
)

// lexicalAnalysis collects the lexical events of one file.
type lexicalAnalysis struct {
	lang    langID
	path    string
	src     []byte
	aliases map[string]string // may be seeded with the parsed windows' aliases
	events  []sequence.Event
	counts  map[string]int
	seenTok map[string]bool
	lower   []byte

	row, off int // where the literal being classified starts

	reqMod string // JS: module of the require(...) call whose ')' ends at reqEnd
	reqEnd int
}

func newLexicalAnalysis(lang langID, path string, src []byte, aliases map[string]string) *lexicalAnalysis {
	if aliases == nil {
		aliases = map[string]string{}
	}
	return &lexicalAnalysis{lang: lang, path: path, src: src, aliases: aliases,
		counts: map[string]int{}, seenTok: map[string]bool{}, reqEnd: -1}
}

// run analyses src[from:to], which starts in plain code on row (0-based).
func (x *lexicalAnalysis) run(from, to, row int) {
	l := newLexer(x.lang, x.src)
	l.onCode = x.code
	l.onString = x.str
	l.run(from, to, row)
}

// emit implements emitter for classifyLiteral.
func (x *lexicalAnalysis) emit(tok string, _ int32) { x.add(tok, x.row, x.off) }

// add records an event at byte off on row, within the bounds above.
func (x *lexicalAnalysis) add(tok string, row, off int) {
	if len(x.events) >= maxLexicalEvents || x.counts[tok] >= maxLexicalPerToken {
		return
	}
	x.counts[tok]++
	start := off
	if i := bytes.LastIndexByte(x.src[max(0, off-4096):off], '\n'); i >= 0 {
		start = max(0, off-4096) + i + 1
	} else {
		start = max(0, off-4096)
	}
	end := len(x.src)
	if i := bytes.IndexByte(x.src[off:min(len(x.src), off+4096)], '\n'); i >= 0 {
		end = off + i + 1
	} else {
		end = min(len(x.src), off+4096)
	}
	x.events = append(x.events, sequence.Event{Token: tok, File: x.path, Line: row + 1, Snippet: snippetOf(x.src, start, end, off)})
}

// importTok records the import token of a module root, once per root.
func (x *lexicalAnalysis) importTok(root string, row, off int) {
	var tok string
	if x.lang == langJS {
		tok = jsImportTokens[root]
	} else {
		tok = pyImportTokens[root]
	}
	if tok == "" || x.seenTok[root] {
		return
	}
	x.seenTok[root] = true
	x.add(tok, row, off)
}

func (x *lexicalAnalysis) alias(name, q string) {
	if name == "" || q == "" || len(x.aliases) >= maxLexicalAliases {
		return
	}
	x.aliases[name] = q
}

// str handles a string literal body src[start:end] on row.
func (x *lexicalAnalysis) str(start, end, row int) {
	body := x.src[start:end]
	x.row, x.off = row, start
	classifyLiteral(x, &x.lower, body, body, -1)
	if x.lang == langJS {
		x.jsModuleString(start, end, row)
	}
}

// jsModuleString handles a literal that names a module: require('m'),
// import('m'), import ... from 'm', import 'm'.
func (x *lexicalAnalysis) jsModuleString(start, end, row int) {
	src := x.src
	q := start - 1 // the opening quote
	if q < 0 || end-start > 256 || end-start == 0 {
		return
	}
	p := skipSpaceBack(src, q)
	call := p > 0 && src[p-1] == '('
	if call {
		p = skipSpaceBack(src, p-1)
	}
	w, kwStart := identBefore(src, p)
	var kw string
	switch string(w) {
	case "require", "import", "from":
		kw = string(w)
	}
	switch {
	case call && (kw == "require" || kw == "import"):
	case !call && (kw == "from" || kw == "import"):
	default:
		return
	}
	mod := jsModule(string(src[start:end]))
	x.importTok(mod, row, kwStart)
	if call && kw == "require" {
		// require('m').f(...) and NAME = require('m')
		if c := skipSpace(src, min(len(src), end+1)); c < len(src) && src[c] == ')' {
			x.reqMod, x.reqEnd = mod, c+1
		}
		b := skipSpaceBack(src, kwStart)
		if b > 0 && src[b-1] == '=' && (b < 2 || !strings.ContainsRune("=!<>+-*/%&|^", rune(src[b-2]))) {
			if name, _ := identBefore(src, skipSpaceBack(src, b-1)); len(name) > 0 {
				x.alias(string(name), mod)
			}
		}
	} else if kw == "from" {
		// import NAME from 'm', import * as NAME from 'm'
		if name, _ := identBefore(src, skipSpaceBack(src, kwStart)); len(name) > 0 && string(name) != "import" {
			x.alias(string(name), mod)
		}
	}
}

// code handles a run of code src[start:end] beginning on row.
func (x *lexicalAnalysis) code(start, end, row int) {
	src := x.src[:end]
	if x.lang == langPython {
		x.pyImports(start, end, row)
	}
	envMarkers := jsEnvMarkers
	if x.lang == langPython {
		envMarkers = pyEnvMarkers
	}
	for _, m := range envMarkers {
		for i := start; ; {
			j := bytes.Index(src[i:], m)
			if j < 0 {
				break
			}
			i += j
			if i == 0 || !isIdentByte(src[i-1]) && src[i-1] != '.' {
				x.add("env.read", row+bytes.Count(src[start:i], []byte{'\n'}), i)
			}
			i += len(m)
		}
	}
	rowAt, rowOff := row, start
	for i := start; i < end; {
		j := bytes.IndexByte(src[i:], '(')
		if j < 0 {
			break
		}
		p := i + j
		i = p + 1
		ne := skipSpaceBack(src, p)
		ns := ne
		for ns > start && (isIdentByte(src[ns-1]) || src[ns-1] == '.') {
			ns--
		}
		if ns == ne {
			continue
		}
		name := src[ns:ne]
		last := name
		if k := bytes.LastIndexByte(name, '.'); k >= 0 {
			last = name[k+1:]
		}
		if !lexicalCallNames[string(last)] {
			continue
		}
		switch kw, _ := identBefore(src, skipSpaceBack(src, ns)); string(kw) {
		case "function", "def", "class":
			continue // a definition, not a call
		}
		var q string
		if name[0] == '.' {
			if ns != x.reqEnd || x.reqMod == "" {
				continue // a method of a value the lexer cannot name
			}
			q = x.reqMod + string(name)
		} else {
			q = string(name)
			root := rootSeg(q)
			if r, ok := x.aliases[root]; ok {
				q = r + q[len(root):]
			}
		}
		var toks []string
		if x.lang == langJS {
			toks = lookupCall(jsExact, jsRoots, jsAny, q)
		} else {
			toks = lookupCall(pyExact, pyRoots, pyAny, q)
			if lastSeg(q) == "getenv" {
				toks = tEnv
			}
		}
		if len(toks) == 0 {
			continue
		}
		rowAt += bytes.Count(src[rowOff:ns], []byte{'\n'})
		rowOff = ns
		for _, t := range toks {
			x.add(t, rowAt, ns)
		}
	}
}

var tEnv = []string{"env.read"}

var (
	jsEnvMarkers = bs("process.env")
	pyEnvMarkers = bs("os.environ")
)

// lexicalCallNames holds every callee name's last segment the token tables
// know, so that the lexical pass looks up only calls that can match.
var lexicalCallNames = func() map[string]bool {
	m := map[string]bool{"getenv": true}
	add := func(t map[string][]string) {
		for k := range t {
			m[lastSeg(k)] = true
		}
	}
	for _, t := range []map[string][]string{jsExact, jsAny, pyExact, pyAny} {
		add(t)
	}
	for _, roots := range []map[string]map[string][]string{jsRoots, pyRoots} {
		for _, t := range roots {
			add(t)
		}
	}
	return m
}()

// pyImports handles the import statements that begin lines of a code run.
func (x *lexicalAnalysis) pyImports(start, end, row int) {
	src := x.src
	for ls, r := start, row; ls < end; r++ {
		le := end
		if j := bytes.IndexByte(src[ls:end], '\n'); j >= 0 {
			le = ls + j
		}
		atLineStart := ls == 0 || src[ls-1] == '\n' || len(bytes.TrimSpace(src[lineStartOf(src, ls):ls])) == 0
		if atLineStart {
			x.pyImportLine(bytes.TrimSpace(src[ls:le]), r, ls)
		}
		ls = le + 1
	}
}

func lineStartOf(src []byte, off int) int {
	if i := bytes.LastIndexByte(src[max(0, off-256):off], '\n'); i >= 0 {
		return max(0, off-256) + i + 1
	}
	return max(0, off-256)
}

// pyImportLine handles one "import a.b as c, d" or "from m import n as k"
// statement.
func (x *lexicalAnalysis) pyImportLine(line []byte, row, off int) {
	s := string(line)
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	switch {
	case strings.HasPrefix(s, "import ") || strings.HasPrefix(s, "import\t"):
		for _, it := range strings.Split(s[len("import "):], ",") {
			f := strings.Fields(it)
			if len(f) == 0 {
				continue
			}
			x.importTok(pyRoot(f[0]), row, off)
			if len(f) == 3 && f[1] == "as" {
				x.alias(f[2], f[0])
			}
		}
	case strings.HasPrefix(s, "from ") || strings.HasPrefix(s, "from\t"):
		f := strings.Fields(s)
		if len(f) < 4 || f[2] != "import" {
			return
		}
		mod := f[1]
		x.importTok(pyRoot(mod), row, off)
		rest := strings.Trim(strings.Join(f[3:], " "), "()\\ ")
		for _, it := range strings.Split(rest, ",") {
			g := strings.Fields(strings.Trim(it, "() "))
			switch {
			case len(g) == 1 && g[0] != "*":
				x.alias(g[0], mod+"."+g[0])
			case len(g) == 3 && g[1] == "as":
				x.alias(g[2], mod+"."+g[0])
			}
		}
	}
}

func skipSpaceBack(src []byte, p int) int {
	for p > 0 && (src[p-1] == ' ' || src[p-1] == '\t' || src[p-1] == '\n' || src[p-1] == '\r') {
		p--
	}
	return p
}

func skipSpace(src []byte, p int) int {
	for p < len(src) && (src[p] == ' ' || src[p] == '\t' || src[p] == '\n' || src[p] == '\r') {
		p++
	}
	return p
}

// identBefore returns the identifier ending at p and its start.
func identBefore(src []byte, p int) ([]byte, int) {
	s := p
	for s > 0 && p-s < 64 && isIdentByte(src[s-1]) {
		s--
	}
	return src[s:p], s
}
