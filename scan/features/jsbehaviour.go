package features

import (
	"bytes"
	"path"
	"regexp"
	"strings"
)

// Browser-side and publishing behaviours of JavaScript: hooks on network
// and wallet APIs, remote script injection, package publishing, and reads
// of data files that may carry a hidden payload.

// isFunctionLike reports whether obj (resolved name o) is a function, so
// that obj.constructor is the Function constructor (or its async/generator
// variant): a function literal, Function or Function.prototype,
// anything.constructor (whose constructor is Function), or
// Object.getPrototypeOf(function literal).
func (a *analysis) isFunctionLike(obj int32, o string) bool {
	for a.kind(obj) == a.k.paren {
		obj = a.first(obj)
	}
	switch a.kind(obj) {
	case a.k.funcExpr, a.k.arrowFunc, a.k.genFunc, a.k.class:
		return true
	case a.k.call:
		fn := a.child(obj, a.k.fFunction)
		if a.kind(fn) != a.k.member || string(a.text(a.child(fn, a.k.fProperty))) != "getPrototypeOf" {
			return false // (resolving every callee here again would be exponential in chained calls)
		}
		switch stripGlobal(a.jsName(fn, 1)) {
		case "Object.getPrototypeOf", "Reflect.getPrototypeOf":
			arg := a.first(a.child(obj, a.k.fArguments))
			for a.kind(arg) == a.k.paren {
				arg = a.first(arg)
			}
			return a.isJSFunc(arg)
		}
		return false
	}
	switch stripGlobal(o) {
	case "Function", "Function.prototype":
		return true
	}
	return strings.HasSuffix(o, ".constructor")
}

// returnsGlobal reports whether calling fn yields the global object:
// fn is Function('return this') (built through any constructor form).
func (a *analysis) returnsGlobal(fn int32, q string) bool {
	for a.kind(fn) == a.k.paren {
		fn = a.first(fn)
	}
	var callee, args int32
	switch a.kind(fn) {
	case a.k.call:
		callee, args = a.child(fn, a.k.fFunction), a.child(fn, a.k.fArguments)
	case a.k.newExpr:
		callee, args = a.child(fn, a.k.fConstructor), a.child(fn, a.k.fArguments)
	default:
		return false
	}
	if args < 0 || !a.mayNameFunction(callee) || !isFunctionCtor(a.jsName(callee, 1)) {
		return false
	}
	body, ok := a.jsFold(a.evalCodeArg("Function", args))
	return ok && strings.TrimRight(strings.TrimSpace(body), "; ") == "return this"
}

// mayNameFunction is returnsGlobal's cheap syntactic filter: callee is a
// name, or a member whose last part is "Function" or "constructor". jsName
// calls returnsGlobal for every call it resolves, and returnsGlobal resolves
// its callee again: without the filter a chain of calls
// (a.b().c().d()…) took time exponential in its length.
func (a *analysis) mayNameFunction(callee int32) bool {
	for a.kind(callee) == a.k.paren {
		callee = a.first(callee)
	}
	switch a.kind(callee) {
	case a.k.identifier:
		return true
	case a.k.member:
		p := string(a.text(a.child(callee, a.k.fProperty)))
		return p == "Function" || p == "constructor"
	case a.k.subscript:
		p, ok := a.jsFold(a.child(callee, a.k.fIndex))
		return ok && (p == "Function" || p == "constructor")
	}
	return false
}

// hookTarget reports whether a resolved assignment target is a page API
// whose replacement intercepts network traffic or wallet requests.
func hookTarget(q string) bool {
	s := stripGlobal(q)
	global := s != q
	switch s {
	case "fetch":
		return global
	case "XMLHttpRequest.prototype.open", "XMLHttpRequest.prototype.send", "XMLHttpRequest.prototype.setRequestHeader":
		return true
	case "ethereum", "ethereum.request", "ethereum.send", "ethereum.sendAsync", "ethereum.enable", "solana", "phantom":
		return global
	}
	return global && (strings.HasPrefix(s, "solana.") || strings.HasPrefix(s, "phantom."))
}

// hookProps are the last name segments hookTarget accepts.
var hookProps = map[string]bool{"fetch": true, "open": true, "send": true, "setRequestHeader": true, "ethereum": true,
	"request": true, "sendAsync": true, "enable": true, "solana": true, "phantom": true}

// jsAssign handles assignments: API hooks and script sources.
func (a *analysis) jsAssign(n int32) {
	k := a.k
	left, right := a.child(n, k.fLeft), a.child(n, k.fRight)
	if left < 0 || right < 0 || (a.kind(left) != k.member && a.kind(left) != k.subscript) {
		return
	}
	if prop := a.memberProp(left); hookProps[string(prop)] || bytes.Contains(a.text(left), []byte("solana")) ||
		bytes.Contains(a.text(left), []byte("phantom")) || a.kind(left) == k.subscript && prop == nil {
		if q := a.jsName(left, 0); hookTarget(q) && !a.polyfill(n, left, right, lastSeg(q)) {
			a.emit("browser.hook", n)
		}
	}
	if a.kind(left) != k.member {
		return
	}
	switch string(a.text(a.child(left, k.fProperty))) {
	case "src":
		obj := a.child(left, k.fObject)
		if a.kind(obj) == k.identifier && a.scriptVars[string(a.text(obj))] || a.isCreateScript(obj) {
			if s, ok := a.jsFoldLoose(right); ok && isRemoteURL(s) {
				a.emit("script.inject", n)
			}
		}
	case "innerHTML", "outerHTML":
		if s, ok := a.jsFoldLoose(right); ok && scriptTagRE.MatchString(s) {
			a.emit("script.inject", n)
		}
	}
}

// polyfill reports whether an assignment to an API only fills it in where
// it is missing: `x.fetch = x.fetch || impl`, or under a condition that
// tests its absence (`if (!window.fetch)`, `typeof fetch === 'undefined'`,
// `!('fetch' in window)`). Such assignments are not hooks: they do not
// replace an implementation the page already has.
func (a *analysis) polyfill(n, left, right int32, prop string) bool {
	k := a.k
	if a.kind(right) == k.binary {
		l, r := a.child(right, k.fLeft), a.child(right, k.fRight)
		if l >= 0 && r >= 0 {
			if op := a.op(l, r); (op == "||" || op == "??") && stripGlobal(a.jsName(l, 0)) == stripGlobal(a.jsName(left, 0)) {
				return true
			}
		}
	}
	for p, i := a.parent(n), 0; p >= 0 && i < 6; p, i = a.parent(p), i+1 {
		switch a.kind(p) {
		case jx.ifStmt:
			return absenceTest(string(a.text(a.child(p, jx.fCondition))), prop)
		case k.funcDecl, k.funcExpr, k.arrowFunc, k.methodDef:
			return false
		}
	}
	return false
}

// absenceTest reports whether condition text tests that prop is missing.
func absenceTest(cond, prop string) bool {
	if prop == "" || !strings.Contains(cond, prop) {
		return false
	}
	if strings.Contains(cond, "undefined") {
		return true
	}
	for i := 0; ; {
		j := strings.Index(cond[i:], prop)
		if j < 0 {
			return false
		}
		j += i
		// Walk back over the operand's prefix (window., quotes, parens).
		b := j - 1
		for b >= 0 && strings.IndexByte(" \t.()'\"$_", cond[b]) >= 0 || b >= 0 && isASCIIIdentByte(cond[b]) {
			b--
		}
		if b >= 0 && cond[b] == '!' && (b+1 >= len(cond) || cond[b+1] != '=') {
			return true
		}
		i = j + len(prop)
	}
}

func isASCIIIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$'
}

var scriptTagRE = regexp.MustCompile(`(?i)<script[^>]*\ssrc\s*=\s*["']?\s*(?:https?:)?//`)

// isRemoteURL reports whether s is an absolute http(s) or
// protocol-relative URL.
func isRemoteURL(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "//")
}

// jsObject handles object literals: the body of a registry publish
// request (a package document with _attachments and dist-tags/versions).
func (a *analysis) jsObject(n int32) {
	k := a.k
	var attach, meta bool
	for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
		if a.kind(c) != k.pair {
			continue
		}
		switch key := bytes.Trim(a.text(a.child(c, k.fKey)), `"'`); string(key) {
		case "_attachments":
			attach = true
		case "dist-tags", "versions":
			meta = true
		}
	}
	if attach && meta {
		a.emit("publish.self", n)
	}
}

// nonSourceExt are data-file extensions: code read from such a file is a
// payload hidden in an asset.
var nonSourceExt = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true, ".ico": true,
	".webp": true, ".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true, ".mp3": true,
	".mp4": true, ".wav": true, ".dat": true, ".bin": true}

// jsCallBehaviour adds the behaviour tokens a call earns beyond its callee
// table: browser hooks, script injection, data-file reads, publishing.
func (a *analysis) jsCallBehaviour(n int32, q string, toks []string, args int32) {
	if args < 0 || a.kind(args) != a.k.args {
		return
	}
	sq := stripGlobal(q)
	switch {
	case sq == "navigator.clipboard.writeText":
		// Clipboard access is spy.call, as in Python: copy buttons use it
		// every day, so it is no page hook.
		a.emit("spy.call", n)
	case sq == "addEventListener" || sq == "document.addEventListener":
		if ev, ok := a.jsFold(a.first(args)); ok && ev == "copy" {
			a.emit("spy.call", n)
		}
	case sq == "Object.defineProperty" || sq == "Reflect.defineProperty":
		target := a.jsName(a.first(args), 0)
		if prop, ok := a.jsFold(a.nth(args, 1)); ok && target != "" && hookTarget(target+"."+prop) && !a.polyfill(n, -1, -1, prop) {
			a.emit("browser.hook", n)
		}
	case sq == "document.write" || sq == "document.writeln":
		if s, ok := a.jsFoldLoose(a.first(args)); ok && scriptTagRE.MatchString(s) {
			a.emit("script.inject", n)
		}
	case lastSeg(sq) == "insertAdjacentHTML":
		if s, ok := a.jsFoldLoose(a.nth(args, 1)); ok && scriptTagRE.MatchString(s) {
			a.emit("script.inject", n)
		}
	case lastSeg(sq) == "setAttribute":
		if a.scriptVars[rootSeg(q)] {
			if attr, ok := a.jsFold(a.first(args)); ok && strings.EqualFold(attr, "src") {
				if s, ok := a.jsFoldLoose(a.nth(args, 1)); ok && isRemoteURL(s) {
					a.emit("script.inject", n)
				}
			}
		}
	case sq == "Object.assign":
		if a.isCreateScript(a.first(args)) {
			if obj := a.nth(args, 1); a.kind(obj) == a.k.object {
				for c := a.tree.nodes[obj].first; c >= 0; c = a.tree.nodes[c].next {
					if a.kind(c) == a.k.pair && strings.Trim(string(a.text(a.child(c, a.k.fKey))), `"'`) == "src" {
						if s, ok := a.jsFoldLoose(a.child(c, a.k.fValue)); ok && isRemoteURL(s) {
							a.emit("script.inject", n)
						}
					}
				}
			}
		}
	}
	if has(toks, "fs.read") {
		if p, ok := a.jsFoldLoose(a.first(args)); ok && nonSourceExt[strings.ToLower(path.Ext(strings.TrimSpace(p)))] {
			a.emit("fs.read.nonsource", n)
		}
	}
	if has(toks, "process.call") && a.publishArgs(args) {
		a.emit("publish.self", n)
	}
	if has(toks, "process.call") && a.jsDownloadExec(args) {
		a.emit("process.download_exec", n)
	}
}

// jsDownloadExec reports whether the command a process call starts (its
// first argument folded, plus the folded elements of an argument array:
// exec('curl … | sh'), spawn('sh', ['-c', 'wget … && ./x'])) downloads a
// script or program and runs it.
func (a *analysis) jsDownloadExec(args int32) bool {
	line, _ := a.jsFoldLoose(a.first(args))
	if list := a.nth(args, 1); list >= 0 && a.kind(list) == a.k.array {
		i := 0
		for c := a.tree.nodes[list].first; c >= 0 && i < 16; c = a.tree.nodes[c].next {
			if s, ok := a.jsFoldLoose(c); ok {
				line += " " + s
			}
			i++
		}
	}
	return isDownloadExec(line)
}

// publishArgs reports whether process-call arguments run a package
// manager's publish or token command as a program plus argument list:
// spawn('npm', ['publish']), execa('gh', ['auth', 'token']).
func (a *analysis) publishArgs(args int32) bool {
	prog, ok := a.jsFold(a.first(args))
	if !ok {
		return false
	}
	prog = strings.ToLower(path.Base(strings.ReplaceAll(prog, `\`, "/")))
	prog = strings.TrimSuffix(strings.TrimSuffix(prog, ".cmd"), ".exe")
	list := a.nth(args, 1)
	if a.kind(list) != a.k.array {
		return false
	}
	var words []string
	for c := a.tree.nodes[list].first; c >= 0 && len(words) < 3; c = a.tree.nodes[c].next {
		s, ok := a.jsFold(c)
		if !ok {
			break
		}
		words = append(words, s)
	}
	switch prog {
	case "npm", "yarn", "pnpm", "npx":
		for _, w := range words {
			if w == "publish" || w == "token" {
				return true
			}
		}
	case "gh":
		return len(words) >= 2 && words[0] == "auth" && words[1] == "token"
	case "twine":
		return len(words) >= 1 && words[0] == "upload"
	}
	return false
}
