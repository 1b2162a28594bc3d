package features

import (
	"bytes"
	"strings"
)

// knownJS are the name roots worth tracking through aliases: modules with
// token tables and the globals the rules mention.
var knownJS = func() map[string]bool {
	m := map[string]bool{"process": true, "require": true, "Buffer": true, "String": true, "JSON": true, "Object": true,
		"module": true, "vm": true}
	for k := range jsExact {
		m[rootSeg(k)] = true
	}
	for k := range jsRoots {
		m[k] = true
	}
	for k := range jsImportTokens {
		m[k] = true
	}
	for k := range jsGlobalObjects {
		m[k] = true
	}
	return m
}()

// jsDeclare is the pre-pass: it registers function units and aliases in
// source order over the whole file (flow-insensitive).
func (a *analysis) jsDeclare() {
	k := a.k
	nodes := a.tree.nodes
	for i := range nodes {
		n := int32(i)
		switch nodes[i].kind {
		case k.funcDecl, k.genFuncDecl:
			a.defineFunc(string(a.text(a.child(n, k.fName))), n)
		case k.methodDef:
			name := string(a.text(a.child(n, k.fName)))
			u := a.defineFunc("this."+name, n)
			if name == "constructor" {
				if cls := a.parent(a.parent(n)); cls >= 0 {
					if cn := a.child(cls, k.fName); cn >= 0 {
						if _, dup := a.funcs[string(a.text(cn))]; !dup {
							a.funcs[string(a.text(cn))] = u
						}
					}
				}
			}
		case k.varDeclarator:
			a.jsBind(a.child(n, k.fName), a.child(n, k.fValue))
		case k.assignExpr:
			a.jsBind(a.child(n, k.fLeft), a.child(n, k.fRight))
		case k.importStmt:
			spec, ok := a.fold(a.child(n, k.fSource))
			if !ok {
				continue
			}
			mod := jsModule(spec)
			for c := nodes[n].first; c >= 0; c = nodes[c].next {
				if nodes[c].kind != k.importClause {
					continue
				}
				for d := nodes[c].first; d >= 0; d = nodes[d].next {
					switch nodes[d].kind {
					case k.identifier: // default import
						a.aliases[string(a.text(d))] = mod
					case k.namespaceImport:
						if id := a.first(d); id >= 0 {
							a.aliases[string(a.text(id))] = mod
						}
					case k.namedImports:
						for s := nodes[d].first; s >= 0; s = nodes[s].next {
							if nodes[s].kind != k.importSpecifier {
								continue
							}
							name := a.child(s, k.fName)
							local := a.child(s, k.fAlias)
							if local < 0 {
								local = name
							}
							imported := string(a.text(name))
							if imported == "default" {
								a.aliases[string(a.text(local))] = mod
							} else {
								a.aliases[string(a.text(local))] = mod + "." + imported
							}
						}
					}
				}
			}
		}
	}
}

// defineFunc registers a function unit under name (first definition wins).
func (a *analysis) defineFunc(name string, n int32) int32 {
	u := a.newUnit(n)
	if name == "" || name == "this." {
		return u
	}
	if _, dup := a.funcs[name]; !dup {
		a.funcs[name] = u
	}
	return u
}

func (a *analysis) isJSFunc(n int32) bool {
	switch a.kind(n) {
	case a.k.funcExpr, a.k.arrowFunc, a.k.genFunc:
		return true
	}
	return false
}

// jsBind handles `name = value` in declarations and assignments.
func (a *analysis) jsBind(name, value int32) {
	if name < 0 || value < 0 {
		return
	}
	for a.kind(value) == a.k.paren {
		value = a.first(value)
	}
	k := a.k
	if a.isJSFunc(value) {
		key := string(a.text(name))
		if a.kind(name) == k.member {
			// X.prototype.m = function … is reached as this.m().
			if p := a.child(name, k.fProperty); p >= 0 && bytes.HasSuffix(a.text(a.child(name, k.fObject)), []byte(".prototype")) {
				a.defineFunc("this."+string(a.text(p)), value)
				return
			}
		}
		a.defineFunc(key, value)
		return
	}
	switch a.kind(name) {
	case k.identifier:
		q := a.jsName(value, 0)
		if id := string(a.text(name)); q != "" && q != id && knownJS[rootSeg(q)] {
			a.aliases[id] = q
		}
	case k.objectPattern:
		base := a.jsName(value, 0)
		if base == "" || !knownJS[rootSeg(base)] {
			return
		}
		for c := a.tree.nodes[name].first; c >= 0; c = a.tree.nodes[c].next {
			switch a.kind(c) {
			case k.shorthandPropPattern:
				id := string(a.text(c))
				a.aliases[id] = base + "." + id
			case k.pairPattern:
				key, val := a.child(c, k.fKey), a.child(c, k.fValue)
				if a.kind(val) == k.identifier {
					kt, ok := a.fold(key)
					if !ok {
						kt = string(a.text(key))
					}
					a.aliases[string(a.text(val))] = base + "." + kt
				}
			}
		}
	}
}

// jsName resolves an expression to a dotted name through aliases:
// "child_process.exec", "process.env", "https" (the module a call returns),
// or "" when it is not a name worth resolving.
func (a *analysis) jsName(n int32, depth int) string {
	if n < 0 || depth > 64 {
		return ""
	}
	k := a.k
	switch a.kind(n) {
	case k.identifier:
		t := a.text(n)
		if q, ok := a.aliases[string(t)]; ok {
			return q
		}
		return string(t)
	case k.this:
		return "this"
	case k.member:
		obj := a.child(n, k.fObject)
		o := a.jsName(obj, depth+1)
		prop := a.text(a.child(n, k.fProperty))
		if string(prop) == "constructor" && a.isFunctionLike(obj, o) {
			return "Function"
		}
		if o == "" {
			o = "?"
		}
		return o + "." + string(prop)
	case k.subscript:
		obj := a.child(n, k.fObject)
		o := a.jsName(obj, depth+1)
		if s, ok := a.jsFold(a.child(n, k.fIndex)); ok && s != "" && len(s) < 64 {
			if s == "constructor" && a.isFunctionLike(obj, o) {
				return "Function"
			}
			if o == "" {
				o = "?"
			}
			return o + "." + s
		}
		if jsGlobalObjects[o] {
			return computedGlobal
		}
		return ""
	case k.call:
		fn := a.child(n, k.fFunction)
		if spec, isReq := a.jsRequireSpec(fn, n); isReq {
			if spec == "" {
				return ""
			}
			return jsModule(spec)
		}
		q := a.jsName(fn, depth+1)
		if a.returnsGlobal(fn, q) {
			return "globalThis"
		}
		// A call on Function (Function.call.bind(f), Function.prototype.toString.call(x),
		// Function('…')) returns some other function, not the constructor.
		if r := rootSeg(q); knownJS[r] && r != "String" && r != "JSON" && r != "Object" && r != "Function" {
			return r
		}
		return ""
	case k.newExpr:
		q := a.jsName(a.child(n, k.fConstructor), depth+1)
		if r := rootSeg(q); knownJS[r] {
			return r
		}
		return ""
	case k.paren, k.await:
		return a.jsName(a.first(n), depth+1)
	case k.sequenceExpr: // (0, eval)(x)
		last := int32(-1)
		for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
			last = c
		}
		return a.jsName(last, depth+1)
	}
	return ""
}

// jsRequireSpec reports whether call n (callee fn) loads a module, and its
// constant specifier ("" when computed).
func (a *analysis) jsRequireSpec(fn, n int32) (string, bool) {
	k := a.k
	if a.kind(fn) == k.importKw {
		spec, _ := a.fold(a.first(a.child(n, k.fArguments)))
		return spec, true
	}
	// Cheap syntactic filter first: jsName allocates.
	switch a.kind(fn) {
	case k.identifier:
		if t := a.text(fn); string(t) != "require" && a.aliases[string(t)] != "require" {
			return "", false
		}
	case k.member:
		if p := string(a.text(a.child(fn, k.fProperty))); p != "require" && p != "_load" {
			return "", false
		}
	case k.subscript, k.paren:
	default:
		return "", false
	}
	switch a.jsName(fn, 1) {
	case "require", "module.require", "process.mainModule.require", "globalThis.require", "global.require",
		"module.constructor._load", "process.mainModule.constructor._load", "globalThis.process.mainModule.require":
	default:
		return "", false
	}
	spec, _ := a.jsFold(a.first(a.child(n, k.fArguments)))
	return spec, true
}

// jsVisit analyses node n.
func (a *analysis) jsVisit(n int32) {
	k := a.k
	nd := &a.tree.nodes[n]
	switch nd.kind {
	case k.comment, k.number, k.propertyIdent, k.shorthandPropPattern:
	case k.funcDecl, k.genFuncDecl, k.methodDef:
		a.walkUnit(a.unitOf[n], a.child(n, k.fBody))
	case k.funcExpr, k.arrowFunc, k.genFunc:
		if u, ok := a.unitOf[n]; ok {
			saved := a.cur
			a.cur = u
			a.walk(a.child(n, k.fBody))
			a.cur = saved
			return
		}
		a.walk(a.child(n, k.fBody))
	case k.call:
		a.jsCall(n)
	case k.newExpr:
		a.jsNew(n)
	case k.member:
		a.jsMember(n)
	case k.subscript:
		a.jsSubscript(n)
	case k.str:
		raw := a.text(n)
		if len(raw) >= 2 {
			a.literal(raw[1:len(raw)-1], raw, n)
		}
	case k.templateString:
		raw := a.text(n)
		if len(raw) >= 2 {
			a.literal(raw[1:len(raw)-1], raw, n)
		}
		for c := nd.first; c >= 0; c = a.tree.nodes[c].next {
			if a.kind(c) == k.templateSubst {
				a.walk(c)
			}
		}
	case k.regex:
		if p := a.first(n); p >= 0 {
			t := a.text(p)
			a.literal(t, t, n)
		}
	case k.identifier, k.shorthandProp:
		t := a.text(n)
		a.countIdent(n, t)
		if nd.kind == k.shorthandProp && string(t) == "env" {
			// {env} shorthand is usually process.env passed on; ignore.
			return
		}
	case k.importStmt:
		if spec, ok := a.fold(a.child(n, k.fSource)); ok {
			a.emitImport(spec, n)
		}
	case k.array:
		a.charcodeArray(n)
		a.jsPool(n)
		a.walkChildren(n)
	case k.assignExpr:
		a.jsAssign(n)
		a.walkChildren(n)
	case k.object:
		a.jsObject(n)
		a.walkChildren(n)
	case k.binary:
		a.charcodeChain(n)
		a.walkChildren(n)
	case k.varDeclarator:
		name, value := a.child(n, k.fName), a.child(n, k.fValue)
		if a.kind(name) == k.identifier {
			a.countIdent(name, a.text(name))
		}
		if a.kind(name) == k.objectPattern && a.jsName(value, 0) == "process.env" {
			a.envPattern(name)
			return
		}
		if u, ok := a.unitOf[value]; ok && value >= 0 {
			a.walkUnit(u, value)
			return
		}
		a.walk(value)
	default:
		a.walkChildren(n)
	}
}

// envPattern handles const {A, B: b} = process.env.
func (a *analysis) envPattern(pat int32) {
	k := a.k
	for c := a.tree.nodes[pat].first; c >= 0; c = a.tree.nodes[c].next {
		switch a.kind(c) {
		case k.shorthandPropPattern:
			a.envRead(a.text(c), c)
		case k.pairPattern:
			key := a.child(c, k.fKey)
			s, ok := a.fold(key)
			if !ok {
				s = string(a.text(key))
			}
			a.envRead([]byte(s), c)
		default:
			a.emit("env.read.all", c) // ...rest
		}
	}
}

// envRead emits env.read, plus env.read.secret when the name looks like a
// credential.
func (a *analysis) envRead(name []byte, n int32) {
	a.emit("env.read", n)
	if secretName(name) {
		a.emit("env.read.secret", n)
	}
}

// secretName reports whether an environment variable name looks like a
// credential.
func secretName(name []byte) bool {
	u := strings.ToUpper(string(name))
	for _, s := range []string{"TOKEN", "SECRET", "KEY", "PASS", "AWS_", "NPM_", "GITHUB", "CREDENTIAL", "AUTH"} {
		if strings.Contains(u, s) {
			return true
		}
	}
	return u == "CI" || strings.HasPrefix(u, "CI_") || strings.HasSuffix(u, "_CI") || strings.Contains(u, "_CI_")
}

// isProcessEnv reports whether n is the expression process.env.
func (a *analysis) isProcessEnv(n int32) bool {
	k := a.k
	switch a.kind(n) {
	case k.member:
		if string(a.text(a.child(n, k.fProperty))) != "env" {
			return false
		}
	case k.subscript: // process['e'+'nv']
		if s, ok := a.jsFold(a.child(n, k.fIndex)); !ok || s != "env" {
			return false
		}
	default:
		return false
	}
	obj := a.child(n, k.fObject)
	if a.kind(obj) != k.identifier {
		return a.jsName(obj, 1) == "process" // e.g. globalThis.process
	}
	t := a.text(obj)
	if q, ok := a.aliases[string(t)]; ok {
		return q == "process"
	}
	return string(t) == "process"
}

func (a *analysis) jsMember(n int32) {
	k := a.k
	obj := a.child(n, k.fObject)
	if a.isProcessEnv(obj) {
		a.envRead(a.text(a.child(n, k.fProperty)), n)
		return
	}
	if a.isProcessEnv(n) {
		a.envWhole(n)
		return
	}
	a.walk(obj)
}

// envWhole handles process.env used as a whole.
func (a *analysis) envWhole(n int32) {
	k := a.k
	p := a.parent(n)
	switch {
	case a.kind(p) == k.pair && string(a.text(a.child(p, k.fKey))) == "env":
	case a.kind(p) == k.assignExpr && a.child(p, k.fLeft) == n:
	default:
		a.emit("env.read.all", n)
	}
}

func (a *analysis) jsSubscript(n int32) {
	k := a.k
	obj, idx := a.child(n, k.fObject), a.child(n, k.fIndex)
	if a.isProcessEnv(n) {
		a.envWhole(n)
		return
	}
	if a.isProcessEnv(obj) {
		if s, ok := a.jsFold(idx); ok {
			a.envRead([]byte(s), n)
		} else {
			a.emit("env.read", n)
		}
		a.walk(idx)
		return
	}
	if a.kind(obj) == k.identifier && jsGlobalObjects[a.jsName(obj, 1)] {
		if _, ok := a.jsFold(idx); !ok {
			a.emit("import.dynamic", n)
		}
	}
	a.walk(obj)
	a.walk(idx)
}

// jsCall analyses a call: callee and plain arguments first (they run
// first), then the call's own tokens, then function-valued arguments
// (callbacks run later), then the callee's body if it is defined locally.
func (a *analysis) jsCall(n int32) {
	k := a.k
	fn, args := a.child(n, k.fFunction), a.child(n, k.fArguments)
	if spec, isReq := a.jsRequireSpec(fn, n); isReq {
		if spec != "" {
			a.emitImport(spec, n)
		} else if a.first(args) >= 0 {
			a.emit("import.dynamic", n)
		}
		return
	}
	mark := a.mark()
	a.walk(fn)
	a.walkArgs(args, false)
	q := a.jsName(fn, 0)
	last := lastSeg(q)
	toks := lookupCall(jsExact, jsRoots, jsAny, q)
	codeArg := int32(-1) // the argument holding code, for evaluating calls
	if toks == nil && (last == "call" || last == "apply") {
		// f.call(this, …) and f.apply(this, [...]) run f.
		q = strings.TrimSuffix(strings.TrimSuffix(q, ".call"), ".apply")
		toks = lookupCall(jsExact, jsRoots, jsAny, q)
		if last == "call" && a.kind(args) == k.args && a.nth(args, 1) >= 0 {
			codeArg = a.evalCodeArg(q, args)
			if !isFunctionCtor(q) {
				codeArg = a.nth(args, 1)
			}
		}
	} else if a.kind(args) == k.args {
		codeArg = a.evalCodeArg(q, args)
	}
	if has(toks, "eval.call") && isFunctionCtor(q) && a.jsImportShim(args) {
		toks = []string{"import.dynamic"}
	}
	for _, t := range toks {
		a.emit(t, n)
	}
	a.jsCallBehaviour(n, q, toks, args)
	switch {
	case last == "from" && rootSeg(q) == "Buffer":
		if enc, ok := a.fold(a.nth(args, 1)); ok && isBinaryEncoding(enc) {
			a.emit("encoding.call", n)
		}
	case last == "toString" || last == "decode":
		if enc, ok := a.fold(a.nth(args, 0)); ok && isBinaryEncoding(enc) {
			a.emit("encoding.call", n)
		}
	case q == "decodeURIComponent" || q == "decodeURI":
		if arg := a.first(args); arg >= 0 && (a.kind(arg) == k.call || bytes.Count(a.text(arg), []byte("%")) >= 10) {
			a.emit("encoding.call", n)
		}
	case last == "fromCharCode":
		if a.countNumbers(args) >= charcodeMin {
			a.emit("obfuscation.charcodes", n)
		}
	}
	if has(toks, "process.call") && a.hasDetachedOption(args) {
		a.emit("process.detached", n)
	}
	if has(toks, "eval.call") {
		decoded := a.since(mark, "encoding.call", "crypto.call", "obfuscation.charcodes")
		if decoded {
			a.emit("eval.decoded", n)
		}
		a.evalPayload(n, codeArg, decoded)
	}
	a.walkArgs(args, true)
	a.callLocal(fn, args, n)
}

func (a *analysis) jsNew(n int32) {
	k := a.k
	ctor, args := a.child(n, k.fConstructor), a.child(n, k.fArguments)
	mark := a.mark()
	a.walk(ctor)
	a.walkArgs(args, false)
	q := a.jsName(ctor, 0)
	toks := lookupCall(jsExact, jsRoots, jsAny, q)
	if has(toks, "eval.call") && isFunctionCtor(q) && a.jsImportShim(args) {
		toks = []string{"import.dynamic"}
	}
	for _, t := range toks {
		a.emit(t, n)
	}
	if has(toks, "eval.call") {
		decoded := a.since(mark, "encoding.call", "crypto.call", "obfuscation.charcodes")
		if decoded {
			a.emit("eval.decoded", n)
		}
		if args >= 0 && a.kind(args) == k.args {
			a.evalPayload(n, a.evalCodeArg(q, args), decoded)
		}
	}
	a.walkArgs(args, true)
	a.callLocal(ctor, args, n)
}

// walkArgs walks the arguments of a call: the plain ones, or (funcs) only
// the function-valued ones.
func (a *analysis) walkArgs(args int32, funcs bool) {
	if args < 0 {
		return
	}
	if a.kind(args) != a.k.args && a.kind(args) != a.k.argList {
		if !funcs {
			a.walk(args) // tagged template, generator expression
		}
		return
	}
	for c := a.tree.nodes[args].first; c >= 0; c = a.tree.nodes[c].next {
		_, unit := a.unitOf[c]
		if (a.isJSFunc(c) && !unit) == funcs {
			a.walk(c)
		}
	}
}

// callLocal records call sites of locally defined functions: the callee
// itself and functions passed by name as arguments.
func (a *analysis) callLocal(fn, args, n int32) {
	if u, ok := a.localFunc(fn); ok {
		a.callUnit(u, n)
	}
	if args < 0 {
		return
	}
	for c := a.tree.nodes[args].first; c >= 0; c = a.tree.nodes[c].next {
		v := c
		if a.kind(c) == a.k.keywordArg {
			v = a.child(c, a.k.fValue)
		}
		if a.kind(v) == a.k.identifier {
			if u, ok := a.funcs[string(a.text(v))]; ok {
				a.callUnit(u, v)
			}
		}
	}
}

// localFunc resolves a callee expression to a function unit of this file.
func (a *analysis) localFunc(fn int32) (int32, bool) {
	for a.kind(fn) == a.k.paren {
		fn = a.first(fn)
	}
	if fn < 0 {
		return 0, false
	}
	t := a.text(fn)
	if u, ok := a.funcs[string(t)]; ok {
		return u, true
	}
	if a.lang.id == langPython {
		if i := bytes.IndexByte(t, '.'); i > 0 {
			switch string(t[:i]) {
			case "self", "cls":
				u, ok := a.funcs["self"+string(t[i:])]
				return u, ok
			}
		}
	}
	return 0, false
}

func has(toks []string, t string) bool {
	for _, x := range toks {
		if x == t {
			return true
		}
	}
	return false
}

func isBinaryEncoding(enc string) bool {
	switch strings.ToLower(enc) {
	case "base64", "base64url", "hex", "hex_codec", "base64_codec", "rot13", "rot_13", "zlib", "zlib_codec", "uu", "bz2":
		return true
	}
	return false
}

// hasDetachedOption reports whether call arguments carry {detached: true}.
func (a *analysis) hasDetachedOption(args int32) bool {
	if args < 0 {
		return false
	}
	k := a.k
	for c := a.tree.nodes[args].first; c >= 0; c = a.tree.nodes[c].next {
		if a.kind(c) != k.object {
			continue
		}
		for p := a.tree.nodes[c].first; p >= 0; p = a.tree.nodes[p].next {
			if a.kind(p) == k.pair && string(a.text(a.child(p, k.fKey))) == "detached" && a.kind(a.child(p, k.fValue)) == k.trueLit {
				return true
			}
		}
	}
	return false
}
