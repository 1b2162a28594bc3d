package features

import (
	"bytes"
	"strings"
)

// knownPy are the name roots worth tracking through aliases.
var knownPy = func() map[string]bool {
	m := map[string]bool{"builtins": true, "importlib": true, "sys": true, "setuptools": true, "distutils": true}
	for k := range pyExact {
		m[rootSeg(k)] = true
	}
	for k := range pyRoots {
		m[k] = true
	}
	for k := range pyImportTokens {
		m[k] = true
	}
	return m
}()

// pyDeclare is the pre-pass: function units and aliases, in source order.
func (a *analysis) pyDeclare() {
	k := a.k
	nodes := a.tree.nodes
	for i := range nodes {
		n := int32(i)
		switch nodes[i].kind {
		case k.funcDef:
			name := string(a.text(a.child(n, k.fName)))
			if cls := a.enclosingClass(n); cls >= 0 {
				u := a.defineFunc("self."+name, n)
				cname := string(a.text(a.child(cls, k.fName)))
				if _, dup := a.funcs[cname+"."+name]; !dup {
					a.funcs[cname+"."+name] = u
				}
				if name == "__init__" {
					if _, dup := a.funcs[cname]; !dup {
						a.funcs[cname] = u
					}
				}
			} else {
				a.defineFunc(name, n)
			}
		case k.pyImport:
			for c := nodes[n].first; c >= 0; c = nodes[c].next {
				if a.kind(c) == k.aliasedImport {
					a.aliases[string(a.text(a.child(c, k.fAlias)))] = string(a.text(a.child(c, k.fName)))
				}
			}
		case k.importFrom:
			mod := a.pyModuleName(a.child(n, k.fModuleName))
			for c := nodes[n].first; c >= 0; c = nodes[c].next {
				if nodes[c].field != k.fName {
					continue
				}
				switch a.kind(c) {
				case k.dottedName:
					name := string(a.text(c))
					a.aliases[name] = joinName(mod, name)
				case k.aliasedImport:
					name := string(a.text(a.child(c, k.fName)))
					a.aliases[string(a.text(a.child(c, k.fAlias)))] = joinName(mod, name)
				}
			}
		case k.assignment:
			left, right := a.child(n, k.fLeft), a.child(n, k.fRight)
			if a.kind(left) == k.identifier && right >= 0 {
				q := a.pyName(right, 0)
				if id := string(a.text(left)); q != "" && q != id && knownPy[rootSeg(q)] {
					a.aliases[id] = q
				}
			}
		}
	}
}

func joinName(mod, name string) string {
	if strings.HasSuffix(mod, ".") {
		return mod + name
	}
	return mod + "." + name
}

// pyModuleName returns the module text of an import-from: "os.path",
// ".", "..pkg".
func (a *analysis) pyModuleName(n int32) string {
	var b []byte
	for _, c := range a.text(n) {
		if c != ' ' && c != '\t' && c != '\\' && c != '\n' && c != '\r' {
			b = append(b, c)
		}
	}
	return string(b)
}

// enclosingClass returns the class whose body directly holds def n, or -1.
func (a *analysis) enclosingClass(n int32) int32 {
	p := a.parent(n)
	if a.kind(p) == a.k.decoratedDef {
		p = a.parent(p)
	}
	if a.kind(p) != a.k.block {
		return -1
	}
	if c := a.parent(p); a.kind(c) == a.k.classDef {
		return c
	}
	return -1
}

// pyName resolves an expression to a dotted name through aliases
// ("subprocess.Popen", "os.environ", "builtins.exec", "socket" for the
// value a module call returns), or "".
func (a *analysis) pyName(n int32, depth int) string {
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
		if string(t) == "__builtins__" {
			return "builtins"
		}
		return string(t)
	case k.attribute:
		o := a.pyName(a.child(n, k.fObject), depth+1)
		if o == "" {
			o = "?"
		}
		return pyBuiltinsNorm(o + "." + string(a.text(a.child(n, k.fAttribute))))
	case k.pySubscript:
		o := a.pyName(a.child(n, k.fValue), depth+1)
		s, ok := a.pyStr(a.child(n, k.fSubscript))
		if !ok || s == "" || len(s) > 64 {
			return ""
		}
		if o == "sys.modules" {
			return s
		}
		if o == "" {
			o = "?"
		}
		return pyBuiltinsNorm(o + "." + s)
	case k.call:
		fn, args := a.child(n, k.fFunction), a.child(n, k.fArguments)
		q := a.pyName(fn, depth+1)
		switch q {
		case "__import__", "builtins.__import__", "importlib.import_module", "importlib.__import__":
			s, _ := a.pyStr(a.first(args))
			return s
		case "getattr", "builtins.getattr":
			o := a.pyName(a.nth(args, 0), depth+1)
			if s, ok := a.pyStr(a.nth(args, 1)); ok && o != "" && len(s) <= 64 {
				return pyBuiltinsNorm(o + "." + s)
			}
			return ""
		case "globals", "locals", "vars", "builtins.globals", "builtins.vars", "builtins.locals":
			return "builtins"
		}
		if r := rootSeg(q); knownPy[r] && r != "builtins" {
			return r
		}
		return ""
	case k.paren, k.await:
		return a.pyName(a.first(n), depth+1)
	}
	return ""
}

// pyVisit analyses node n.
func (a *analysis) pyVisit(n int32) {
	k := a.k
	nd := &a.tree.nodes[n]
	switch nd.kind {
	case k.comment, k.number:
	case k.funcDef:
		a.walkUnit(a.unitOf[n], a.child(n, k.fBody))
	case k.classDef:
		a.pyClass(n)
	case k.call:
		a.pyCall(n)
	case k.attribute:
		a.pyAttribute(n)
	case k.pySubscript:
		a.pySubscriptVisit(n)
	case k.str:
		raw := a.text(n)
		s, _ := a.strContent(n)
		if s == nil {
			s = raw
		}
		a.literal(s, raw, n)
		for c := nd.first; c >= 0; c = a.tree.nodes[c].next {
			if a.kind(c) == k.interpolation {
				a.walkChildren(c)
			}
		}
	case k.identifier:
		a.countIdent(n, a.text(n))
		if q := a.pyName(n, 0); q == "os.environ" {
			a.pyBareEnviron(n)
		}
	case k.pyImport:
		for c := nd.first; c >= 0; c = a.tree.nodes[c].next {
			switch a.kind(c) {
			case k.dottedName:
				a.emitImport(a.pyModuleName(c), n)
			case k.aliasedImport:
				a.emitImport(a.pyModuleName(a.child(c, k.fName)), n)
			}
		}
	case k.importFrom:
		mod := a.pyModuleName(a.child(n, k.fModuleName))
		if strings.Trim(mod, ".") == "" {
			// from . import x: each name is (usually) a sibling module.
			for c := nd.first; c >= 0; c = a.tree.nodes[c].next {
				switch {
				case c == a.child(n, k.fModuleName):
				case a.kind(c) == k.dottedName:
					a.emitImport(mod+a.pyModuleName(c), n)
				case a.kind(c) == k.aliasedImport:
					a.emitImport(mod+a.pyModuleName(a.child(c, k.fName)), n)
				}
			}
			return
		}
		a.emitImport(mod, n)
	case k.execStmt:
		mark := a.mark()
		a.walkChildren(n)
		a.emit("eval.call", n)
		if a.since(mark, "encoding.call", "crypto.call", "obfuscation.charcodes") {
			a.emit("eval.decoded", n)
		}
	case k.list, k.tuple, k.set:
		a.charcodeArray(n)
		a.walkChildren(n)
	case k.binary:
		a.charcodeChain(n)
		a.walkChildren(n)
	default:
		a.walkChildren(n)
	}
}

// pyClass emits setup.install_class for setuptools command subclasses
// with a run method, whose body then counts as install-time code here.
func (a *analysis) pyClass(n int32) {
	k := a.k
	body := a.child(n, k.fBody)
	install := false
	if sc := a.child(n, k.fSuperclasses); sc >= 0 {
		for c := a.tree.nodes[sc].first; c >= 0; c = a.tree.nodes[c].next {
			if setupCommands[lastSeg(a.pyName(c, 0))] {
				install = true
			}
		}
		a.walk(sc)
	}
	if install {
		if u, ok := a.funcs[string(a.text(a.child(n, k.fName)))+".run"]; ok && a.tree.nodes[a.units[u].node].start > a.tree.nodes[n].start {
			a.emit("setup.install_class", n)
			a.callUnit(u, n)
		}
	}
	a.walk(body)
}

func (a *analysis) pyCall(n int32) {
	k := a.k
	fn, args := a.child(n, k.fFunction), a.child(n, k.fArguments)
	mark := a.mark()
	q := a.pyName(fn, 0)
	root, last := rootSeg(q), lastSeg(q)
	toks := lookupCall(pyExact, pyRoots, pyAny, q)
	if root == "builtins" && (last == "eval" || last == "exec" || last == "compile" || last == "execfile") {
		toks = tEval
	}
	if root == "getattr" || q == "builtins.getattr" {
		// getattr(__builtins__, name) with a computed name.
		if a.pyName(a.first(args), 0) == "builtins" {
			if _, ok := a.pyStr(a.nth(args, 1)); !ok {
				toks = tEval
			}
		}
	}
	isEval := has(toks, "eval.call")
	a.walk(fn)
	if isEval {
		a.pyS().execArg++
	}
	a.walkArgs(args, false)
	if isEval {
		a.pyS().execArg--
	}
	switch q {
	case "__import__", "builtins.__import__", "importlib.import_module", "importlib.__import__":
		if s, ok := a.pyStr(a.first(args)); ok {
			a.emitImport(s, n)
		} else {
			a.emit("import.dynamic", n)
		}
	case "open", "io.open", "codecs.open", "builtins.open", "os.open":
		a.pyOpen(args, n)
	case "os.getenv", "os.environ.get", "os.environ.pop", "os.getenvb":
		if s, ok := a.pyStr(a.first(args)); ok {
			a.envRead([]byte(s), n)
		} else {
			a.emit("env.read", n)
		}
	case "setup", "setuptools.setup", "distutils.core.setup":
		a.pyCmdclass(args, n)
	}
	for _, t := range toks {
		a.emit(t, n)
	}
	if has(toks, "process.call") {
		if a.pyDetached(args) {
			a.emit("process.detached", n)
		}
		a.pyPublishArgs(args, n, mark)
		if a.pyDownloadExec(args) {
			a.emit("process.download_exec", n)
		}
	}
	if isEval {
		// A constant argument is source text: expand it here. Decoding
		// seen in the argument's events or in its folding makes it a
		// decoded payload.
		v, ok := a.pyEvalTop(a.pyFirstPositional(args))
		payload := ok && (v.k == pvStr || v.k == pvBytes)
		if a.since(mark, "encoding.call", "crypto.call", "obfuscation.charcodes") || (payload && v.dec) {
			a.emit("eval.decoded", n)
		}
		if payload && v.dec && looksLikePython(v.b) {
			a.emit("eval.payload", n)
		}
		if payload {
			a.pyExpandPayload(v.b, n)
		}
	}
	if (last == "decode" || last == "encode") && root != "codecs" {
		// "…".decode('base64'), .decode('rot13'), .decode('hex') (Python 2 idioms).
		if enc, ok := a.pyStr(a.first(args)); ok && isBinaryEncoding(enc) {
			a.emit("encoding.call", n)
		}
	}
	if strings.HasPrefix(q, "twine.commands.upload") {
		a.emit("publish.self", n)
	}
	a.pyDataRead(q, fn, args, n)
	a.pyClassifyDecoded(q, n)
	if q == "bytes" || q == "bytearray" {
		if a.countNumbers(a.first(args)) >= charcodeMin {
			a.emit("obfuscation.charcodes", n)
		}
	}
	a.callLocal(fn, args, n)
}

// pyOpen emits fs.read or fs.write from open()'s mode argument.
func (a *analysis) pyOpen(args, n int32) {
	mode := ""
	if m := a.nth(args, 1); m >= 0 && a.kind(m) != a.k.keywordArg {
		mode, _ = a.pyStr(m)
	}
	for c := a.tree.nodes[max(args, 0)].first; args >= 0 && c >= 0; c = a.tree.nodes[c].next {
		if a.kind(c) == a.k.keywordArg && string(a.text(a.child(c, a.k.fName))) == "mode" {
			mode, _ = a.pyStr(a.child(c, a.k.fValue))
		}
	}
	if strings.ContainsAny(mode, "wax+") {
		a.emit("fs.write", n)
	} else {
		a.emit("fs.read", n)
		if a.pyDataPath(a.first(args), 0) {
			a.emit("fs.read.nonsource", n)
		}
	}
}

// pyDetached reports start_new_session=True or a detaching creationflags.
func (a *analysis) pyDetached(args int32) bool {
	if args < 0 {
		return false
	}
	for c := a.tree.nodes[args].first; c >= 0; c = a.tree.nodes[c].next {
		if a.kind(c) != a.k.keywordArg {
			continue
		}
		v := a.child(c, a.k.fValue)
		switch string(a.text(a.child(c, a.k.fName))) {
		case "start_new_session", "preexec_fn":
			if a.kind(v) == a.k.trueLit || bytes.Contains(a.text(v), []byte("setsid")) {
				return true
			}
		case "creationflags":
			t := a.text(v)
			if bytes.Contains(t, []byte("DETACHED_PROCESS")) || bytes.Contains(t, []byte("CREATE_NO_WINDOW")) ||
				bytes.Contains(t, []byte("CREATE_NEW_PROCESS_GROUP")) || bytes.Contains(t, []byte("0x08")) {
				return true
			}
		}
	}
	return false
}

// pyCmdclass emits setup.cmdclass for setup(cmdclass=…) overriding an
// install-time command (any cmdclass that is not a literal dict counts).
func (a *analysis) pyCmdclass(args, n int32) {
	if args < 0 {
		return
	}
	k := a.k
	for c := a.tree.nodes[args].first; c >= 0; c = a.tree.nodes[c].next {
		if a.kind(c) != k.keywordArg || string(a.text(a.child(c, k.fName))) != "cmdclass" {
			continue
		}
		v := a.child(c, k.fValue)
		if a.kind(v) != k.dictionary {
			a.emit("setup.cmdclass", n)
			return
		}
		for p := a.tree.nodes[v].first; p >= 0; p = a.tree.nodes[p].next {
			key, _ := a.pyStr(a.child(p, k.fKey))
			if setupCommands[key] || strings.HasPrefix(key, "build") || strings.HasPrefix(key, "bdist") {
				a.emit("setup.cmdclass", n)
				return
			}
		}
	}
}

func (a *analysis) pyAttribute(n int32) {
	k := a.k
	obj := a.child(n, k.fObject)
	attr := a.text(a.child(n, k.fAttribute))
	if string(attr) == "environ" && a.pyName(n, 0) == "os.environ" {
		a.pyBareEnviron(n)
		return
	}
	if a.pyIsEnviron(obj) {
		switch string(attr) {
		case "copy", "items", "keys", "values", "__dict__", "_data":
			a.emit("env.read.all", n)
		}
		return
	}
	a.walk(obj)
}

func (a *analysis) pyIsEnviron(n int32) bool {
	switch a.kind(n) {
	case a.k.attribute, a.k.identifier:
		return a.pyName(n, 0) == "os.environ"
	}
	return false
}

// pyBareEnviron handles os.environ used as a whole.
func (a *analysis) pyBareEnviron(n int32) {
	p := a.parent(n)
	k := a.k
	switch {
	case a.kind(p) == k.attribute && a.child(p, k.fObject) == n:
	case a.kind(p) == k.pySubscript && a.child(p, k.fValue) == n:
	case a.kind(p) == k.keywordArg && a.child(p, k.fValue) == n: // env=os.environ
	case a.kind(p) == k.assignment && a.child(p, k.fLeft) == n:
	default:
		a.emit("env.read.all", n)
	}
}

func (a *analysis) pySubscriptVisit(n int32) {
	k := a.k
	val, sub := a.child(n, k.fValue), a.child(n, k.fSubscript)
	if a.pyIsEnviron(val) {
		p := a.parent(n)
		if !(a.kind(p) == k.assignment && a.child(p, k.fLeft) == n) {
			if s, ok := a.pyStr(sub); ok {
				a.envRead([]byte(s), n)
			} else {
				a.emit("env.read", n)
			}
		}
		a.walk(sub)
		return
	}
	if q := a.pyName(val, 0); q == "builtins" || q == "builtins.__dict__" {
		if _, ok := a.pyStr(sub); !ok {
			a.emit("eval.call", n) // __builtins__[computed]
		}
	}
	a.walk(val)
	a.walk(sub)
}

// pyBuiltinsNorm maps the spellings of the builtins namespace
// (__builtins__ via globals(), builtins.__dict__) to "builtins".
func pyBuiltinsNorm(q string) string {
	for _, p := range []string{"builtins.__builtins__", "builtins.__dict__", "builtins.builtins"} {
		if q == p || strings.HasPrefix(q, p+".") {
			return pyBuiltinsNorm("builtins" + q[len(p):])
		}
	}
	return q
}

// pyFirstPositional returns a call's first positional argument node.
func (a *analysis) pyFirstPositional(args int32) int32 {
	if a.kind(args) == a.k.generatorExpr {
		return args
	}
	c := a.first(args)
	if a.kind(c) == a.k.keywordArg {
		return a.pyArg(pyArgs{kw: []int32{c}}, -1, "source")
	}
	return c
}
