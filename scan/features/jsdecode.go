package features

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Decoded payloads, string pools and the dynamic-import shim.

const (
	maxNest            = 2                      // decoded payloads analysed inside decoded payloads, at most
	maxDecodes         = 8                      // payloads analysed per file
	nestedParseTimeout = 250 * time.Millisecond // per payload parse
	poolMin            = 5                      // strings in an array before it may be a string pool
	maxPools           = 4                      // string pools examined per file
	maxPoolStrings     = 4096                   // strings examined per pool
)

// isFunctionCtor reports whether a resolved callee is the Function
// constructor (also reached through a global object).
func isFunctionCtor(q string) bool { return stripGlobal(q) == "Function" }

// evalCodeArg returns the argument of a code-evaluating call that holds
// the code: the last argument of the Function constructor, else the first.
func (a *analysis) evalCodeArg(q string, args int32) int32 {
	if isFunctionCtor(q) {
		last := int32(-1)
		for c := a.tree.nodes[args].first; c >= 0; c = a.tree.nodes[c].next {
			if a.kind(c) != a.k.comment {
				last = c
			}
		}
		return last
	}
	return a.first(args)
}

// importShimRE matches a Function body that only performs a dynamic
// import of one of its parameters.
var importShimRE = regexp.MustCompile(`^\s*return\s+(?:await\s+)?import\s*\(\s*([A-Za-z_$][\w$]*)\s*\)\s*;*\s*$`)

// jsImportShim reports whether the arguments of a Function constructor call
// build `function (p) { return import(p) }`: the way CommonJS code (webpack
// minimiser plugins, CLIs) performs a native ESM import that bundlers must
// not rewrite. Anything else in the body is still code evaluation.
func (a *analysis) jsImportShim(args int32) bool {
	if args < 0 {
		return false
	}
	var parts []string
	for c := a.tree.nodes[args].first; c >= 0; c = a.tree.nodes[c].next {
		if a.kind(c) == a.k.comment {
			continue
		}
		s, ok := a.jsFold(c)
		if !ok {
			return false
		}
		parts = append(parts, s)
	}
	if len(parts) < 2 {
		return false
	}
	m := importShimRE.FindStringSubmatch(parts[len(parts)-1])
	if m == nil {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		for _, name := range strings.Split(p, ",") {
			if strings.TrimSpace(name) == m[1] {
				return true
			}
		}
	}
	return false
}

// evalPayload folds the code argument of an evaluating call n. A payload
// that took a decoding step earns eval.decoded; one that reads as
// JavaScript is analysed like a file of its own and its events are emitted
// at n. decodedSeen tells whether eval.decoded was already emitted for n.
func (a *analysis) evalPayload(n, arg int32, decodedSeen bool) {
	if arg < 0 || a.decodes >= maxDecodes || a.lang.id != langJS {
		return
	}
	switch a.kind(arg) {
	case a.k.identifier:
		if _, ok := a.consts[string(a.text(arg))]; !ok {
			return // never bound to a foldable value (-1 entries may be decoding loops)
		}
	case a.k.number, a.k.this, jx.funcExpr, jx.arrowFunc, jx.object:
		return
	}
	f := jsFolder{a: a, maxSteps: payloadSteps, maxLen: maxPayload, payload: true}
	v, ok := f.eval(arg, 0)
	if !ok {
		return
	}
	code, ok := v.str()
	if !ok {
		return
	}
	a.decodes++
	if f.decoded && !decodedSeen {
		a.emit("eval.decoded", n)
	}
	if !looksLikeCode(code) {
		return
	}
	if f.decoded {
		a.emit("eval.payload", n)
	}
	if a.nest >= maxNest {
		return
	}
	a.nestedJS(code, n)
}

// looksLikeCode is a cheap filter before parsing a payload: printable text
// with some punctuation of code.
func looksLikeCode(s string) bool {
	if len(s) < 4 || !utf8.ValidString(s) || !strings.ContainsAny(s, "(=;") {
		return false
	}
	bad := 0
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == utf8.RuneError {
			bad++
		}
	}
	return bad*20 <= len(s)
}

// nestedJS analyses decoded JavaScript and emits its events at node n.
func (a *analysis) nestedJS(code string, n int32) {
	if a.ctx == nil || a.ctx.Err() != nil {
		return
	}
	src := []byte(code)
	p, err := a.lang.get(a.ctx)
	if err != nil {
		return
	}
	tree, cancelled := p.parse(a.ctx, src, nestedParseTimeout)
	if cancelled || tree == nil {
		// As in Extract: a halted parser is not reused.
		a.lang.discard(p)
		if tree != nil {
			tree.Close()
		}
		return
	}
	sub := getAnalysis(a.lang, a.path, src)
	defer putAnalysis(sub)
	sub.nest = a.nest + 1
	err = flatten(tree, &sub.tree)
	tree.Close()
	a.lang.put(p)
	if err != nil || sub.run(a.ctx) != nil {
		return
	}
	for _, it := range sub.fileItems {
		if it.tok == "parse.error" {
			return // not JavaScript after all
		}
	}
	skip := len(sub.fileItems) // whole-file events describe the payload's layout, not behaviour
	for i, ev := range sub.output(nil) {
		if i >= skip {
			a.emit(ev.Token, n)
		}
	}
	for _, spec := range sub.imports {
		if _, ok := a.seenImport[spec]; !ok {
			a.seenImport[spec] = struct{}{}
			a.imports = append(a.imports, spec)
		}
	}
}

// String pools.

// poolGlobals are global callees whose name in a string pool means the
// obfuscated code calls them (window[pool(i)](…)).
var poolGlobals = map[string][]string{"eval": tEval, "Function": tEval, "fetch": tNet, "XMLHttpRequest": tNet,
	"WebSocket": tNet, "atob": tEncoding}

// poolVagueModules are module names that are also common words; in a pool
// they do not count as imports.
var poolVagueModules = map[string]bool{"request": true, "got": true, "ws": true, "bent": true, "needle": true,
	"phin": true, "buffer": true}

// jsPool handles an array that may be the string pool of an
// obfuscator.io-style transform: code reads names from it through an
// accessor (_0x1a2b(0x1f)) after rotating it, so which string an access
// yields is unknown statically. The pool's strings are decoded (plain, or
// the obfuscator's base64 variant) and stand for every access: decoded
// strings get the literal classification, module names their import tokens,
// and method names of those modules (or dangerous globals) their call
// tokens, all at the array.
func (a *analysis) jsPool(n int32) {
	if !a.rotated && a.obfIdents < obfIdentMin || a.pools >= maxPools {
		return
	}
	k := a.k
	count := 0
	for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
		if a.kind(c) != k.str {
			return
		}
		count++
	}
	if count < poolMin {
		return
	}
	a.pools++
	var strs []string
	seen := 0
	for c := a.tree.nodes[n].first; c >= 0 && seen < maxPoolStrings; c = a.tree.nodes[c].next {
		seen++
		s, ok := a.jsString(c)
		if !ok {
			continue
		}
		strs = append(strs, s)
		if d, ok := obfDecode(s); ok && d != s {
			a.literal([]byte(d), []byte(d), c)
			strs = append(strs, d)
		}
	}
	var mods []string
	for _, s := range strs {
		if len(s) > 64 || strings.ContainsAny(s, " \t\n") {
			continue
		}
		m := jsModule(s)
		if tok := jsImportTokens[m]; tok != "" && !poolVagueModules[m] {
			mods = append(mods, m)
			if _, ok := a.seenTok[m]; !ok {
				a.seenTok[m] = struct{}{}
				a.emit(tok, n)
			}
		}
	}
	emitted := map[string]bool{}
	emit := func(toks []string) {
		for _, t := range toks {
			if !emitted[t] {
				emitted[t] = true
				a.emit(t, n)
			}
		}
	}
	for _, s := range strs {
		if len(s) > 40 {
			continue
		}
		for _, m := range mods {
			emit(jsRoots[m][s])
		}
		emit(poolGlobals[s])
		emit(jsAny[s])
	}
}

// obfDecode decodes a pool string encoded with base64 over the alphabet
// obfuscator.io uses (lower case first) or the standard one; the result
// must be printable text.
func obfDecode(s string) (string, bool) {
	if len(s) < 3 || len(s)%4 == 1 {
		return "", false
	}
	swapped := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		swapped[i] = c
	}
	for _, cand := range []string{string(swapped), s} {
		if b, ok := decodeBase64(cand); ok {
			if d := percentDecode(string(b)); printable(d) {
				return d, true
			}
		}
	}
	return "", false
}

// printable reports whether s is valid UTF-8 text without control
// characters (other than whitespace), at least two characters long.
func printable(s string) bool {
	if len(s) < 2 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f || r == utf8.RuneError || r >= 0x80 && r < 0xa0 {
			return false
		}
	}
	return true
}
