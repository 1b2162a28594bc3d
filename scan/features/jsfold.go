package features

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	ts "github.com/tree-sitter/go-tree-sitter"
	tsjs "github.com/tree-sitter/tree-sitter-javascript/bindings/go"
)

// JavaScript constant evaluation.
//
// jsFold evaluates the expressions cheap obfuscation builds names and
// payloads from: literals (escapes decoded), + and template strings, numeric
// and bitwise arithmetic, String.fromCharCode (also through .apply/.call),
// atob, Buffer.from(…).toString(…), decodeURIComponent/unescape, parseInt,
// the usual string and array methods (split, reverse, join, map with a
// one-expression callback, slice, replace, charCodeAt, …), identifiers
// bound once to such an expression and, for code reaching eval, strings
// built by a counting loop (r += String.fromCharCode(a[i] ^ k)). Evaluation is bounded in steps, nesting
// and result size, so hostile input costs little.

// jsKinds are JavaScript node kinds and fields that only the JavaScript
// analyses of this package use (kinds holds those shared with Python).
type jsKinds struct {
	lexicalDecl, varDecl, ifStmt, returnStmt, unary, update, augAssign, ternary, stmtBlock, exprStmt, formalParams,
	regexFlags, escapeSeq, stringFragment, templateSubst, funcExpr, arrowFunc, array, object, pair, callExpr, member,
	subscript, identifier, str, templateString, newExpr, elseClause uint16

	forStmt uint16

	fParameter, fParameters, fCondition, fArgument, fConsequence, fFlags, fPattern, fInitializer, fIncrement uint16
}

var jx = func() jsKinds {
	l := ts.NewLanguage(tsjs.Language())
	kind := func(name string) uint16 {
		if k := l.IdForNodeKind(name, true); k != 0 {
			return k
		}
		return noKind
	}
	field := func(name string) uint16 { return l.FieldIdForName(name) }
	return jsKinds{
		lexicalDecl: kind("lexical_declaration"), varDecl: kind("variable_declaration"), ifStmt: kind("if_statement"),
		returnStmt: kind("return_statement"), unary: kind("unary_expression"), update: kind("update_expression"),
		augAssign: kind("augmented_assignment_expression"), ternary: kind("ternary_expression"),
		stmtBlock: kind("statement_block"), exprStmt: kind("expression_statement"), formalParams: kind("formal_parameters"),
		regexFlags: kind("regex_flags"), escapeSeq: kind("escape_sequence"), stringFragment: kind("string_fragment"),
		templateSubst: kind("template_substitution"), funcExpr: kind("function_expression"), arrowFunc: kind("arrow_function"),
		array: kind("array"), object: kind("object"), pair: kind("pair"), callExpr: kind("call_expression"),
		member: kind("member_expression"), subscript: kind("subscript_expression"), identifier: kind("identifier"),
		str: kind("string"), templateString: kind("template_string"), newExpr: kind("new_expression"),
		elseClause: kind("else_clause"), forStmt: kind("for_statement"),
		fInitializer: field("initializer"), fIncrement: field("increment"),
		fParameter: field("parameter"), fParameters: field("parameters"), fCondition: field("condition"),
		fArgument: field("argument"), fConsequence: field("consequence"), fFlags: field("flags"), fPattern: field("pattern"),
	}
}()

// Bounds of one evaluation.
const (
	foldSteps    = 4096     // evaluation steps for a name or path
	payloadSteps = 1 << 18  // evaluation steps for code reaching eval
	maxPayload   = 64 << 10 // longest string a payload evaluation may build
	maxFoldDepth = 48       // expression nesting followed
	maxFoldArray = 1 << 14  // longest array built
)

type jsValKind uint8

const (
	jvNone jsValKind = iota
	jvStr
	jvNum
	jvArr
	jvBuf // a Buffer: s holds its bytes
)

// jsVal is a constant JavaScript value.
type jsVal struct {
	k   jsValKind
	s   string
	n   float64
	arr []jsVal
}

func strVal(s string) jsVal  { return jsVal{k: jvStr, s: s} }
func numVal(n float64) jsVal { return jsVal{k: jvNum, n: n} }

// jsState is the JavaScript-only per-file state (reset by jsReset).
type jsState struct {
	consts     map[string]int32 // identifier bound exactly once → value node
	constVals  map[string]constVal
	constDepth int
	scriptVars map[string]bool // identifiers bound to document.createElement('script')
	rotated    bool            // the file rotates an array (x.push(x.shift()))
	obfIdents  int             // _0x… identifiers in the file
	nest       int             // nesting of decoded-payload analyses
	decodes    int             // payloads analysed in this file
	pools      int             // string pools examined in this file
	accums     int             // accumulation loops examined in this file
}

func (s *jsState) jsReset() {
	clear(s.consts)
	clear(s.constVals)
	clear(s.scriptVars)
	s.constDepth = 0
	s.rotated, s.obfIdents, s.nest, s.decodes, s.pools, s.accums = false, 0, 0, 0, 0, 0
}

// jsCollect is the first pre-pass over a JavaScript file: identifiers bound
// once and never reassigned (their values fold), script elements, array
// rotation and the _0x identifier count.
func (a *analysis) jsCollect() {
	if a.consts == nil {
		a.consts = map[string]int32{}
		a.constVals = map[string]constVal{}
		a.scriptVars = map[string]bool{}
	}
	k := a.k
	nodes := a.tree.nodes
	// Declarations first (assignments may come before a hoisted var), then
	// whatever is written again loses its constant value (-1).
	for i := range nodes {
		n := int32(i)
		switch nodes[i].kind {
		case k.varDeclarator:
			name, value := a.child(n, k.fName), a.child(n, k.fValue)
			if a.kind(name) != k.identifier {
				continue
			}
			t := a.text(name)
			if _, dup := a.consts[string(t)]; dup {
				a.consts[string(t)] = -1
				continue
			}
			if value < 0 || !a.mayFold(value) {
				continue // never folds (flow-insensitive: a later declaration may still register)
			}
			id := string(t)
			a.consts[id] = value
			if a.isCreateScript(value) {
				a.scriptVars[id] = true
			}
		case k.identifier:
			if t := a.text(n); len(t) >= 5 && t[0] == '_' && t[1] == '0' && (t[2] == 'x' || t[2] == 'X') && isHexString(t[3:]) {
				a.obfIdents++
			}
		case k.call:
			if !a.rotated && a.isMethod(a.child(n, k.fFunction), "push") {
				if arg := a.first(a.child(n, k.fArguments)); a.kind(arg) == k.call && a.isMethod(a.child(arg, k.fFunction), "shift") {
					a.rotated = true
				}
			}
		}
	}
	unset := func(n int32) {
		if a.kind(n) == k.identifier {
			if _, ok := a.consts[string(a.text(n))]; ok {
				a.consts[string(a.text(n))] = -1
			}
		}
	}
	for i := range nodes {
		n := int32(i)
		switch nodes[i].kind {
		case k.varDeclarator:
			if a.child(n, k.fValue) < 0 {
				unset(a.child(n, k.fName))
			}
		case k.assignExpr:
			left := a.child(n, k.fLeft)
			unset(left)
			if a.kind(left) == k.identifier && a.isCreateScript(a.child(n, k.fRight)) {
				a.scriptVars[string(a.text(left))] = true
			}
		case jx.augAssign:
			unset(a.child(n, k.fLeft))
		case jx.update:
			unset(a.child(n, jx.fArgument))
		}
	}
}

// mayFold is a cheap syntactic filter for values worth remembering as
// constants: literals, operators, arrays, member reads and calls with a
// literal first argument (or none).
func (a *analysis) mayFold(v int32) bool {
	k := a.k
	switch a.kind(v) {
	case k.str, k.templateString, k.number, k.binary, k.array, k.paren, k.subscript, k.identifier, jx.unary, k.member:
		return true
	case k.call, k.newExpr:
		args := a.child(v, k.fArguments)
		switch a.kind(a.first(args)) {
		case k.str, k.templateString, k.number, k.binary, k.array, k.call, k.identifier, k.spread, 0xFFFE:
			return true
		}
	}
	return false
}

// memberProp returns the property text of a member expression, or the raw
// content of a subscript's string-literal index (escapes not decoded).
func (a *analysis) memberProp(n int32) []byte {
	switch a.kind(n) {
	case a.k.member:
		return a.text(a.child(n, a.k.fProperty))
	case a.k.subscript:
		if idx := a.child(n, a.k.fIndex); a.kind(idx) == a.k.str {
			if t := a.text(idx); len(t) >= 2 {
				return t[1 : len(t)-1]
			}
		}
	}
	return nil
}

// isMethod reports whether a member or constant-subscript callee names
// method m, without allocating for member callees.
func (a *analysis) isMethod(fn int32, m string) bool {
	if a.kind(fn) == a.k.member {
		return string(a.text(a.child(fn, a.k.fProperty))) == m
	}
	return a.methodName(fn) == m
}

// methodName is the property a member or constant subscript callee names.
func (a *analysis) methodName(fn int32) string {
	switch a.kind(fn) {
	case a.k.member:
		return string(a.text(a.child(fn, a.k.fProperty)))
	case a.k.subscript:
		if idx := a.child(fn, a.k.fIndex); a.kind(idx) == a.k.str {
			if s, ok := a.jsString(idx); ok {
				return s
			}
		}
	}
	return ""
}

// isCreateScript reports whether n is document.createElement('script').
func (a *analysis) isCreateScript(n int32) bool {
	if a.kind(n) != a.k.call {
		return false
	}
	fn := a.child(n, a.k.fFunction)
	if !a.isMethod(fn, "createElement") {
		return false
	}
	s, ok := a.jsFold(a.first(a.child(n, a.k.fArguments)))
	return ok && strings.EqualFold(s, "script")
}

// jsFold evaluates n to a constant string (small bound, for names and
// module specifiers).
func (a *analysis) jsFold(n int32) (string, bool) {
	if n < 0 {
		return "", false
	}
	switch a.kind(n) {
	case a.k.identifier:
		if v, ok := a.consts[string(a.text(n))]; !ok || v < 0 {
			return "", false // the common case: a plain variable
		}
	case a.k.number, a.k.this:
		return "", false
	}
	f := jsFolder{a: a, maxSteps: foldSteps, maxLen: maxFold}
	v, ok := f.eval(n, 0)
	if !ok {
		return "", false
	}
	return v.str()
}

// jsFoldLoose folds n like jsFold, but reads unknown parts of a
// concatenation or template as empty strings and path.join/resolve calls as
// their arguments joined with "/": enough to see the literal prefix and
// suffix of a computed URL or path.
func (a *analysis) jsFoldLoose(n int32) (string, bool) {
	if n < 0 {
		return "", false
	}
	f := jsFolder{a: a, maxSteps: foldSteps, maxLen: maxFold * 4, loose: true}
	v, ok := f.eval(n, 0)
	if !ok {
		return "", false
	}
	return v.str()
}

// str converts a string or buffer value to its string.
func (v jsVal) str() (string, bool) {
	switch v.k {
	case jvStr, jvBuf:
		return v.s, true
	}
	return "", false
}

// jsFolder is one constant evaluation.
type jsFolder struct {
	a        *analysis
	steps    int
	maxSteps int
	maxLen   int
	loose    bool // unknown parts of concatenations read as ""
	payload  bool // evaluating code for eval: larger bounds, no memoised constants
	decoded  bool // a decoding step (base64, char codes, reversal, XOR, …) took part
	env      []jsBinding
}

type jsBinding struct {
	name string
	v    jsVal
}

func (f *jsFolder) eval(n int32, depth int) (jsVal, bool) {
	if n < 0 || depth > maxFoldDepth {
		return jsVal{}, false
	}
	f.steps++
	if f.steps > f.maxSteps {
		return jsVal{}, false
	}
	a := f.a
	k := a.k
	switch a.kind(n) {
	case k.str:
		s, ok := a.jsString(n)
		if !ok || len(s) > f.maxLen {
			return jsVal{}, false
		}
		return strVal(s), true
	case k.templateString:
		return f.template(n, depth)
	case k.number:
		v, ok := jsNumber(string(a.text(n)))
		return numVal(v), ok
	case k.paren:
		return f.eval(a.first(n), depth+1)
	case k.sequenceExpr:
		last := int32(-1)
		for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
			last = c
		}
		return f.eval(last, depth+1)
	case k.binary:
		return f.binary(n, depth)
	case jx.unary:
		return f.unary(n, depth)
	case k.identifier:
		name := a.text(n)
		for i := len(f.env) - 1; i >= 0; i-- {
			if f.env[i].name == string(name) {
				return f.env[i].v, true
			}
		}
		if v, ok := a.consts[string(name)]; ok && v >= 0 {
			if f.payload {
				return f.eval(v, depth+1)
			}
			c := a.constValue(string(name), v)
			f.decoded = f.decoded || c.decoded
			if !c.ok && f.loose {
				return strVal(""), true
			}
			return c.v, c.ok
		}
		if f.payload {
			if v, ok := f.accumulate(name, depth); ok {
				return v, true
			}
		}
	case k.array:
		var out []jsVal
		for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
			if a.kind(c) == k.comment {
				continue
			}
			if len(out) >= maxFoldArray {
				return jsVal{}, false
			}
			if a.kind(c) == k.spread {
				v, ok := f.eval(a.first(c), depth+1)
				if !ok || v.k != jvArr {
					return jsVal{}, false
				}
				out = append(out, v.arr...)
				continue
			}
			v, ok := f.eval(c, depth+1)
			if !ok {
				return jsVal{}, false
			}
			out = append(out, v)
		}
		return jsVal{k: jvArr, arr: out}, true
	case k.member:
		if string(a.text(a.child(n, k.fProperty))) != "length" {
			break
		}
		v, ok := f.eval(a.child(n, k.fObject), depth+1)
		if !ok {
			break
		}
		switch v.k {
		case jvStr:
			return numVal(float64(utf16Len(v.s))), true
		case jvBuf:
			return numVal(float64(len(v.s))), true
		case jvArr:
			return numVal(float64(len(v.arr))), true
		}
	case k.subscript:
		return f.index(n, depth)
	case k.call:
		return f.call(n, depth)
	case k.newExpr:
		if f.calleeName(a.child(n, k.fConstructor), depth) == "Buffer" {
			return f.bufferFrom(a.child(n, k.fArguments), depth)
		}
	}
	if f.loose {
		return strVal(""), true
	}
	return jsVal{}, false
}

// maxAccums bounds the accumulation loops examined per file (each costs a
// scan of the file's nodes).
const maxAccums = 8

// accumulate evaluates a string built by the decoding-loop idiom
//
//	let r = ''; for (let i = 0; i < a.length; i++) r += f(a[i], i);
//
// name must be declared once, changed only by that one += inside a for loop
// with a counting header (i = n; i < m or i <= m; i++), and the loop's
// bounds and appended expression must fold.
func (f *jsFolder) accumulate(name []byte, depth int) (jsVal, bool) {
	a := f.a
	k := a.k
	if a.accums >= maxAccums {
		return jsVal{}, false
	}
	a.accums++
	is := func(n int32) bool { return a.kind(n) == k.identifier && string(a.text(n)) == string(name) }
	decl, aug := int32(-1), int32(-1)
	for i := range a.tree.nodes {
		n := int32(i)
		switch a.tree.nodes[i].kind {
		case k.varDeclarator:
			if is(a.child(n, k.fName)) {
				if decl >= 0 {
					return jsVal{}, false
				}
				decl = n
			}
		case k.assignExpr:
			if is(a.child(n, k.fLeft)) {
				return jsVal{}, false
			}
		case jx.update:
			if is(a.child(n, jx.fArgument)) {
				return jsVal{}, false
			}
		case jx.augAssign:
			if is(a.child(n, k.fLeft)) {
				if aug >= 0 {
					return jsVal{}, false
				}
				aug = n
			}
		}
	}
	if decl < 0 || aug < 0 || a.tree.nodes[aug].start < a.tree.nodes[decl].end {
		return jsVal{}, false
	}
	left, right := a.child(aug, k.fLeft), a.child(aug, k.fRight)
	if right < 0 || a.op(left, right) != "+=" {
		return jsVal{}, false
	}
	init, ok := f.eval(a.child(decl, k.fValue), depth+1)
	if !ok || init.k != jvStr {
		return jsVal{}, false
	}
	loop := a.parent(aug)
	for loop >= 0 && a.kind(loop) != jx.forStmt {
		switch a.kind(loop) {
		case k.funcDecl, k.funcExpr, k.arrowFunc, k.methodDef, k.program:
			return jsVal{}, false
		}
		loop = a.parent(loop)
	}
	if loop < 0 {
		return jsVal{}, false
	}
	counter, from, to, ok := f.countingLoop(loop, depth)
	if !ok || to-from > maxFoldArray {
		return jsVal{}, false
	}
	var b strings.Builder
	b.WriteString(init.s)
	saved := len(f.env)
	defer func() { f.env = f.env[:saved] }()
	for i := from; i < to; i++ {
		f.env = append(f.env[:saved], jsBinding{counter, numVal(float64(i))})
		v, ok := f.eval(right, depth+1)
		if !ok {
			return jsVal{}, false
		}
		s, ok := v.toString()
		if !ok || b.Len()+len(s) > f.maxLen {
			return jsVal{}, false
		}
		b.WriteString(s)
	}
	f.decoded = true
	return strVal(b.String()), true
}

// countingLoop reads a for header `i = from; i < to (or <=); i++ (or ++i,
// i += 1)` and returns the counter and the half-open range it covers.
func (f *jsFolder) countingLoop(loop int32, depth int) (string, int, int, bool) {
	a := f.a
	k := a.k
	init := a.child(loop, jx.fInitializer)
	if a.kind(init) != jx.lexicalDecl && a.kind(init) != jx.varDecl {
		return "", 0, 0, false
	}
	d := a.first(init)
	if a.kind(d) != k.varDeclarator || a.nth(init, 1) >= 0 || a.kind(a.child(d, k.fName)) != k.identifier {
		return "", 0, 0, false
	}
	counter := string(a.text(a.child(d, k.fName)))
	start, ok := f.eval(a.child(d, k.fValue), depth+1)
	if !ok || start.k != jvNum {
		return "", 0, 0, false
	}
	cond := a.child(loop, jx.fCondition)
	if a.kind(cond) != k.binary || string(a.text(a.child(cond, k.fLeft))) != counter {
		return "", 0, 0, false
	}
	op := a.op(a.child(cond, k.fLeft), a.child(cond, k.fRight))
	end, ok := f.eval(a.child(cond, k.fRight), depth+1)
	if !ok || end.k != jvNum || (op != "<" && op != "<=") {
		return "", 0, 0, false
	}
	inc := strings.ReplaceAll(string(a.text(a.child(loop, jx.fIncrement))), " ", "")
	if inc != counter+"++" && inc != "++"+counter && inc != counter+"+=1" {
		return "", 0, 0, false
	}
	from, to := int(start.n), int(end.n)
	if op == "<=" {
		to++
	}
	if from < 0 || to < from {
		return "", 0, 0, false
	}
	return counter, from, to, true
}

// constVal is the memoised value of a constant identifier.
type constVal struct {
	v       jsVal
	ok      bool
	decoded bool
}

// maxConstChain bounds constants defined through other constants.
const maxConstChain = 64

// constValue evaluates the value node of constant id once per file (with
// the name-folding bounds): names built from a large constant array or a
// long chain of constants then cost their size once, not at every use.
func (a *analysis) constValue(id string, value int32) constVal {
	if c, ok := a.constVals[id]; ok {
		return c
	}
	if a.constDepth >= maxConstChain {
		return constVal{}
	}
	a.constVals[id] = constVal{} // a self-reference fails
	a.constDepth++
	f := jsFolder{a: a, maxSteps: foldSteps, maxLen: maxFold}
	v, ok := f.eval(value, 0)
	a.constDepth--
	c := constVal{v, ok, f.decoded}
	a.constVals[id] = c
	return c
}

// index evaluates obj[i] on strings and arrays. Arrays of a file that
// rotates an array at run time are not indexed: the literal order is not
// the order at use.
func (f *jsFolder) index(n int32, depth int) (jsVal, bool) {
	a := f.a
	obj, ok := f.eval(a.child(n, a.k.fObject), depth+1)
	if !ok {
		return jsVal{}, false
	}
	iv, ok := f.eval(a.child(n, a.k.fIndex), depth+1)
	if !ok || iv.k != jvNum || iv.n < 0 || iv.n != math.Trunc(iv.n) {
		return jsVal{}, false
	}
	i := int(iv.n)
	switch obj.k {
	case jvArr:
		if a.rotated || i >= len(obj.arr) {
			return jsVal{}, false
		}
		return obj.arr[i], true
	case jvStr:
		u := []rune(obj.s)
		if i >= len(u) {
			return jsVal{}, false
		}
		return strVal(string(u[i])), true
	}
	return jsVal{}, false
}

func (f *jsFolder) template(n int32, depth int) (jsVal, bool) {
	a := f.a
	nd := &a.tree.nodes[n]
	var b strings.Builder
	pos := nd.start + 1
	for c := nd.first; c >= 0; c = a.tree.nodes[c].next {
		cn := &a.tree.nodes[c]
		if cn.start < pos {
			continue
		}
		b.Write(a.src[pos:cn.start])
		switch cn.kind {
		case jx.templateSubst:
			v, ok := f.eval(a.first(c), depth+1)
			if !ok {
				if !f.loose {
					return jsVal{}, false
				}
				v = strVal("")
			}
			s, ok := v.toString()
			if !ok {
				return jsVal{}, false
			}
			b.WriteString(s)
		case jx.escapeSeq:
			b.WriteString(jsUnescape(string(a.text(c))))
		default:
			b.Write(a.text(c))
		}
		pos = cn.end
		if b.Len() > f.maxLen {
			return jsVal{}, false
		}
	}
	if nd.end > pos {
		b.Write(a.src[pos : nd.end-1])
	}
	if b.Len() > f.maxLen {
		return jsVal{}, false
	}
	return strVal(b.String()), true
}

// op returns the operator text between two child nodes.
func (a *analysis) op(l, r int32) string {
	return strings.TrimSpace(string(a.src[a.tree.nodes[l].end:a.tree.nodes[r].start]))
}

func (f *jsFolder) binary(n int32, depth int) (jsVal, bool) {
	a := f.a
	l, r := a.child(n, a.k.fLeft), a.child(n, a.k.fRight)
	if l < 0 || r < 0 {
		return jsVal{}, false
	}
	op := a.op(l, r)
	lv, lok := f.eval(l, depth+1)
	rv, rok := f.eval(r, depth+1)
	if op == "+" && f.loose {
		if !lok {
			lv, lok = strVal(""), true
		}
		if !rok {
			rv, rok = strVal(""), true
		}
	}
	if !lok || !rok {
		return jsVal{}, false
	}
	if op == "+" {
		if lv.k == jvNum && rv.k == jvNum {
			return numVal(lv.n + rv.n), true
		}
		ls, ok1 := lv.toString()
		rs, ok2 := rv.toString()
		if !ok1 || !ok2 || len(ls)+len(rs) > f.maxLen {
			return jsVal{}, false
		}
		return strVal(ls + rs), true
	}
	x, ok1 := lv.toNumber()
	y, ok2 := rv.toNumber()
	if !ok1 || !ok2 {
		return jsVal{}, false
	}
	switch op {
	case "-":
		return numVal(x - y), true
	case "*":
		return numVal(x * y), true
	case "/":
		return numVal(x / y), true
	case "%":
		if y == 0 {
			return jsVal{}, false
		}
		return numVal(math.Mod(x, y)), true
	case "^":
		f.decoded = true
		return numVal(float64(toInt32(x) ^ toInt32(y))), true
	case "&":
		return numVal(float64(toInt32(x) & toInt32(y))), true
	case "|":
		return numVal(float64(toInt32(x) | toInt32(y))), true
	case "<<":
		return numVal(float64(toInt32(x) << (uint32(toInt32(y)) & 31))), true
	case ">>":
		return numVal(float64(toInt32(x) >> (uint32(toInt32(y)) & 31))), true
	case ">>>":
		return numVal(float64(uint32(toInt32(x)) >> (uint32(toInt32(y)) & 31))), true
	}
	return jsVal{}, false
}

func (f *jsFolder) unary(n int32, depth int) (jsVal, bool) {
	a := f.a
	arg := a.child(n, jx.fArgument)
	if arg < 0 {
		return jsVal{}, false
	}
	op := strings.TrimSpace(string(a.src[a.tree.nodes[n].start:a.tree.nodes[arg].start]))
	v, ok := f.eval(arg, depth+1)
	if !ok {
		return jsVal{}, false
	}
	x, ok := v.toNumber()
	if !ok {
		return jsVal{}, false
	}
	switch op {
	case "-":
		return numVal(-x), true
	case "+":
		return numVal(x), true
	case "~":
		return numVal(float64(^toInt32(x))), true
	}
	return jsVal{}, false
}

// calleeName resolves a callee to a dotted name (through aliases) when it is
// an identifier or a chain of constant member accesses; "" otherwise.
func (f *jsFolder) calleeName(n int32, depth int) string {
	a := f.a
	if depth > maxFoldDepth {
		return ""
	}
	switch a.kind(n) {
	case a.k.identifier:
		t := a.text(n)
		if q, ok := a.aliases[string(t)]; ok {
			return q
		}
		return string(t)
	case a.k.member:
		o := f.calleeName(a.child(n, a.k.fObject), depth+1)
		if o == "" {
			return ""
		}
		return o + "." + string(a.text(a.child(n, a.k.fProperty)))
	case a.k.subscript:
		o := f.calleeName(a.child(n, a.k.fObject), depth+1)
		if o == "" {
			return ""
		}
		v, ok := f.eval(a.child(n, a.k.fIndex), depth+1)
		if !ok || v.k != jvStr {
			return ""
		}
		return o + "." + v.s
	case a.k.paren:
		return f.calleeName(a.first(n), depth+1)
	}
	return ""
}

// args evaluates call arguments (spread arrays expanded).
func (f *jsFolder) args(args int32, depth int) ([]jsVal, bool) {
	a := f.a
	if args < 0 || a.kind(args) != a.k.args {
		return nil, false
	}
	var out []jsVal
	for c := a.tree.nodes[args].first; c >= 0; c = a.tree.nodes[c].next {
		switch a.kind(c) {
		case a.k.comment:
			continue
		case a.k.spread:
			v, ok := f.eval(a.first(c), depth+1)
			if !ok || v.k != jvArr {
				return nil, false
			}
			out = append(out, v.arr...)
		default:
			// An unknown argument (null, a variable) is kept as such: the
			// function may not need it (fromCharCode.apply(null, …)).
			v, _ := f.eval(c, depth+1)
			out = append(out, v)
		}
		if f.steps > f.maxSteps || len(out) > maxFoldArray {
			return nil, false
		}
	}
	return out, true
}

// globalPrefixes are the names of the global object a call may go through.
var globalPrefixes = []string{"globalThis.", "window.", "global.", "self."}

func stripGlobal(q string) string {
	for _, p := range globalPrefixes {
		if strings.HasPrefix(q, p) {
			return q[len(p):]
		}
	}
	return q
}

func (f *jsFolder) call(n int32, depth int) (jsVal, bool) {
	a := f.a
	k := a.k
	fn, argsNode := a.child(n, k.fFunction), a.child(n, k.fArguments)
	for a.kind(fn) == k.paren {
		fn = a.first(fn)
	}
	name := stripGlobal(f.calleeName(fn, depth+1))
	// f.apply(this, array) and f.call(this, ...args) of a known function.
	spread := ""
	if base, ok := strings.CutSuffix(name, ".apply"); ok {
		name, spread = base, "apply"
	} else if base, ok := strings.CutSuffix(name, ".call"); ok {
		name, spread = base, "call"
	}
	if fv, ok := jsGlobalFuncs[name]; ok {
		args, ok := f.args(argsNode, depth)
		if !ok {
			return jsVal{}, false
		}
		switch spread {
		case "apply":
			if len(args) < 2 || args[1].k != jvArr {
				return jsVal{}, false
			}
			args = args[1].arr
		case "call":
			if len(args) == 0 {
				return jsVal{}, false
			}
			args = args[1:]
		}
		return fv(f, args)
	}
	if f.loose && (name == "path.join" || name == "path.resolve" || name == "join" || name == "resolve") {
		args, ok := f.args(argsNode, depth)
		if !ok {
			return strVal(""), true
		}
		parts := make([]string, 0, len(args))
		for _, v := range args {
			if s, ok := v.toString(); ok {
				parts = append(parts, s)
			}
		}
		return strVal(strings.Join(parts, "/")), true
	}
	// Methods of a constant receiver.
	var recv int32
	var method string
	switch a.kind(fn) {
	case k.member:
		recv, method = a.child(fn, k.fObject), string(a.text(a.child(fn, k.fProperty)))
	case k.subscript:
		mv, ok := f.eval(a.child(fn, k.fIndex), depth+1)
		if !ok || mv.k != jvStr {
			return jsVal{}, false
		}
		recv, method = a.child(fn, k.fObject), mv.s
	default:
		return jsVal{}, false
	}
	rv, ok := f.eval(recv, depth+1)
	if !ok {
		return jsVal{}, false
	}
	if method == "map" && rv.k == jvArr {
		return f.mapArray(rv.arr, a.first(argsNode), depth)
	}
	args, ok := f.args(argsNode, depth)
	if !ok {
		return jsVal{}, false
	}
	var v jsVal
	switch rv.k {
	case jvStr:
		v, ok = f.strMethod(rv.s, method, args)
	case jvArr:
		v, ok = f.arrMethod(rv.arr, method, args)
	case jvBuf:
		v, ok = bufMethod(rv.s, method, args)
	case jvNum:
		v, ok = numMethod(rv.n, method, args)
	default:
		return jsVal{}, false
	}
	if ok && (v.k == jvStr || v.k == jvBuf) && len(v.s) > f.maxLen {
		return jsVal{}, false
	}
	return v, ok
}

// mapArray applies a callback with one returned expression to each element.
func (f *jsFolder) mapArray(arr []jsVal, cb int32, depth int) (jsVal, bool) {
	a := f.a
	params, body, ok := a.simpleFunc(cb)
	if !ok {
		return jsVal{}, false
	}
	out := make([]jsVal, len(arr))
	saved := len(f.env)
	defer func() { f.env = f.env[:saved] }()
	for i, el := range arr {
		f.env = f.env[:saved]
		if len(params) > 0 {
			f.env = append(f.env, jsBinding{params[0], el})
		}
		if len(params) > 1 {
			f.env = append(f.env, jsBinding{params[1], numVal(float64(i))})
		}
		v, ok := f.eval(body, depth+1)
		if !ok {
			return jsVal{}, false
		}
		out[i] = v
	}
	return jsVal{k: jvArr, arr: out}, true
}

// simpleFunc reads an arrow function or function expression whose parameters
// are plain identifiers and whose body is one expression (or one return
// statement): its parameter names and the returned expression.
func (a *analysis) simpleFunc(n int32) ([]string, int32, bool) {
	switch a.kind(n) {
	case jx.arrowFunc, jx.funcExpr:
	default:
		return nil, -1, false
	}
	var params []string
	if p := a.child(n, jx.fParameter); p >= 0 {
		params = append(params, string(a.text(p)))
	} else if ps := a.child(n, jx.fParameters); ps >= 0 {
		for c := a.tree.nodes[ps].first; c >= 0; c = a.tree.nodes[c].next {
			if a.kind(c) != a.k.identifier {
				return nil, -1, false
			}
			params = append(params, string(a.text(c)))
		}
	}
	body := a.child(n, a.k.fBody)
	if a.kind(body) == jx.stmtBlock {
		st := a.first(body)
		if a.kind(st) != jx.returnStmt || a.nth(body, 1) >= 0 {
			return nil, -1, false
		}
		body = a.first(st)
	}
	if body < 0 {
		return nil, -1, false
	}
	return params, body, true
}

// jsGlobalFuncs are the global functions the folder evaluates.
var jsGlobalFuncs = map[string]func(*jsFolder, []jsVal) (jsVal, bool){
	"String.fromCharCode":  fromCharCode,
	"String.fromCodePoint": fromCharCode,
	"fromCharCode":         fromCharCode,
	"atob": func(f *jsFolder, args []jsVal) (jsVal, bool) {
		if len(args) == 0 {
			return jsVal{}, false
		}
		s, ok := args[0].toString()
		if !ok {
			return jsVal{}, false
		}
		b, ok := decodeBase64(s)
		if !ok {
			return jsVal{}, false
		}
		f.decoded = true
		return strVal(latin1(b)), true
	},
	"decodeURIComponent": uriDecode,
	"decodeURI":          uriDecode,
	"unescape":           uriDecode,
	"Buffer.from": func(f *jsFolder, args []jsVal) (jsVal, bool) {
		return f.bufferFromVals(args)
	},
	"parseInt": func(f *jsFolder, args []jsVal) (jsVal, bool) {
		if len(args) == 0 {
			return jsVal{}, false
		}
		s, ok := args[0].toString()
		if !ok {
			return jsVal{}, false
		}
		base := 10
		if len(args) > 1 && args[1].k == jvNum {
			base = int(args[1].n)
		}
		s = strings.TrimSpace(s)
		if base == 16 || base == 0 {
			if t, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
				s, base = t, 16
			}
		}
		if base == 0 {
			base = 10
		}
		end := 0
		for end < len(s) && digitVal(s[end]) < base {
			end++
		}
		v, err := strconv.ParseInt(s[:end], base, 64)
		if err != nil {
			return jsVal{}, false
		}
		return numVal(float64(v)), true
	},
	"String": func(f *jsFolder, args []jsVal) (jsVal, bool) {
		if len(args) == 0 {
			return strVal(""), true
		}
		s, ok := args[0].toString()
		return strVal(s), ok
	},
}

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

func fromCharCode(f *jsFolder, args []jsVal) (jsVal, bool) {
	var b strings.Builder
	for _, v := range args {
		x, ok := v.toNumber()
		if !ok || x < 0 || x > utf8.MaxRune {
			return jsVal{}, false
		}
		b.WriteRune(rune(x))
		if b.Len() > f.maxLen {
			return jsVal{}, false
		}
	}
	f.decoded = true
	return strVal(b.String()), true
}

func uriDecode(f *jsFolder, args []jsVal) (jsVal, bool) {
	if len(args) == 0 {
		return jsVal{}, false
	}
	s, ok := args[0].toString()
	if !ok {
		return jsVal{}, false
	}
	if strings.Contains(s, "%") {
		f.decoded = true
	}
	return strVal(percentDecode(s)), true
}

// percentDecode decodes %XX escapes (bytes, read as UTF-8 where valid) and
// unescape's %uXXXX; malformed escapes stay as written.
func percentDecode(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') && isHexString([]byte(s[i+2:i+6])) {
				r, _ := strconv.ParseUint(s[i+2:i+6], 16, 32)
				out = utf8.AppendRune(out, rune(r))
				i += 5
				continue
			}
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
				out = append(out, byte(v))
				i += 2
				continue
			}
		}
		out = append(out, s[i])
	}
	return string(out)
}

func (f *jsFolder) bufferFrom(argsNode int32, depth int) (jsVal, bool) {
	args, ok := f.args(argsNode, depth)
	if !ok {
		return jsVal{}, false
	}
	return f.bufferFromVals(args)
}

func (f *jsFolder) bufferFromVals(args []jsVal) (jsVal, bool) {
	if len(args) == 0 {
		return jsVal{}, false
	}
	switch args[0].k {
	case jvArr:
		b := make([]byte, len(args[0].arr))
		for i, v := range args[0].arr {
			x, ok := v.toNumber()
			if !ok {
				return jsVal{}, false
			}
			b[i] = byte(toInt32(x))
		}
		f.decoded = true
		return jsVal{k: jvBuf, s: string(b)}, true
	case jvBuf:
		return args[0], true
	case jvStr:
	default:
		return jsVal{}, false
	}
	enc := "utf8"
	if len(args) > 1 {
		e, ok := args[1].toString()
		if !ok {
			return jsVal{}, false
		}
		enc = strings.ToLower(e)
	}
	s := args[0].s
	switch enc {
	case "utf8", "utf-8":
		return jsVal{k: jvBuf, s: s}, true
	case "latin1", "binary", "ascii":
		b := make([]byte, 0, len(s))
		for _, r := range s {
			b = append(b, byte(r))
		}
		return jsVal{k: jvBuf, s: string(b)}, true
	case "base64", "base64url":
		b, ok := decodeBase64(s)
		if !ok {
			return jsVal{}, false
		}
		f.decoded = true
		return jsVal{k: jvBuf, s: string(b)}, true
	case "hex":
		b, err := hex.DecodeString(s)
		if err != nil {
			return jsVal{}, false
		}
		f.decoded = true
		return jsVal{k: jvBuf, s: string(b)}, true
	}
	return jsVal{}, false
}

// decodeBase64 decodes standard or URL-safe base64, padded or not,
// ignoring whitespace.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\n', '\r', '\t':
			return -1
		case '-':
			return '+'
		case '_':
			return '/'
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	return b, true
}

// latin1 maps bytes to the characters of the same code (atob's result).
func latin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func (f *jsFolder) strMethod(s, m string, args []jsVal) (jsVal, bool) {
	num := func(i int, def float64) (float64, bool) {
		if i >= len(args) {
			return def, true
		}
		return args[i].toNumber()
	}
	switch m {
	case "toString", "valueOf", "trim", "toLowerCase", "toUpperCase", "trimStart", "trimEnd":
		switch m {
		case "trim":
			s = strings.TrimSpace(s)
		case "trimStart":
			s = strings.TrimLeft(s, " \t\r\n")
		case "trimEnd":
			s = strings.TrimRight(s, " \t\r\n")
		case "toLowerCase":
			s = strings.ToLower(s)
		case "toUpperCase":
			s = strings.ToUpper(s)
		}
		return strVal(s), true
	case "split":
		if len(args) == 0 {
			return jsVal{k: jvArr, arr: []jsVal{strVal(s)}}, true
		}
		sep, ok := args[0].toString()
		if !ok || args[0].k != jvStr {
			return jsVal{}, false
		}
		var parts []string
		if sep == "" {
			for _, r := range s {
				parts = append(parts, string(r))
			}
		} else {
			parts = strings.Split(s, sep)
		}
		if len(parts) > maxFoldArray {
			return jsVal{}, false
		}
		out := make([]jsVal, len(parts))
		for i, p := range parts {
			out[i] = strVal(p)
		}
		return jsVal{k: jvArr, arr: out}, true
	case "concat":
		var b strings.Builder
		b.WriteString(s)
		for _, v := range args {
			t, ok := v.toString()
			if !ok {
				return jsVal{}, false
			}
			b.WriteString(t)
		}
		return strVal(b.String()), true
	case "charAt", "charCodeAt", "codePointAt", "at":
		i, ok := num(0, 0)
		u := []rune(s)
		if !ok || i < 0 || int(i) >= len(u) {
			return jsVal{}, false
		}
		if m == "charAt" || m == "at" {
			return strVal(string(u[int(i)])), true
		}
		return numVal(float64(u[int(i)])), true
	case "slice", "substring", "substr":
		u := []rune(s)
		start, ok1 := num(0, 0)
		end, ok2 := num(1, float64(len(u)))
		if !ok1 || !ok2 {
			return jsVal{}, false
		}
		st, en := int(start), int(end)
		switch m {
		case "slice":
			if st < 0 {
				st += len(u)
			}
			if en < 0 {
				en += len(u)
			}
		case "substring":
			if st > en {
				st, en = en, st
			}
		case "substr":
			if st < 0 {
				st += len(u)
			}
			en = st + en
		}
		st, en = max(0, min(st, len(u))), max(0, min(en, len(u)))
		if st > en {
			return strVal(""), true
		}
		return strVal(string(u[st:en])), true
	case "replace", "replaceAll":
		if len(args) < 2 {
			return jsVal{}, false
		}
		old, ok1 := args[0].toString()
		repl, ok2 := args[1].toString()
		if !ok1 || !ok2 || args[0].k != jvStr || args[1].k != jvStr {
			return jsVal{}, false
		}
		f.decoded = true
		if m == "replaceAll" {
			return strVal(strings.ReplaceAll(s, old, repl)), true
		}
		return strVal(strings.Replace(s, old, repl, 1)), true
	case "repeat":
		c, ok := num(0, 0)
		if !ok || c < 0 || float64(len(s))*c > float64(f.maxLen) {
			return jsVal{}, false
		}
		return strVal(strings.Repeat(s, int(c))), true
	}
	return jsVal{}, false
}

func (f *jsFolder) arrMethod(arr []jsVal, m string, args []jsVal) (jsVal, bool) {
	switch m {
	case "join", "toString":
		sep := ","
		if m == "join" && len(args) > 0 {
			s, ok := args[0].toString()
			if !ok {
				return jsVal{}, false
			}
			sep = s
		}
		var b strings.Builder
		for i, v := range arr {
			if i > 0 {
				b.WriteString(sep)
			}
			s, ok := v.toString()
			if !ok {
				return jsVal{}, false
			}
			b.WriteString(s)
			if b.Len() > f.maxLen {
				return jsVal{}, false
			}
		}
		return strVal(b.String()), true
	case "reverse":
		out := make([]jsVal, len(arr))
		for i, v := range arr {
			out[len(arr)-1-i] = v
		}
		f.decoded = true
		return jsVal{k: jvArr, arr: out}, true
	case "concat":
		out := append([]jsVal(nil), arr...)
		for _, v := range args {
			if v.k == jvArr {
				out = append(out, v.arr...)
			} else {
				out = append(out, v)
			}
			if len(out) > maxFoldArray {
				return jsVal{}, false
			}
		}
		return jsVal{k: jvArr, arr: out}, true
	case "slice":
		st, en := 0, len(arr)
		if len(args) > 0 && args[0].k == jvNum {
			st = int(args[0].n)
		}
		if len(args) > 1 && args[1].k == jvNum {
			en = int(args[1].n)
		}
		if st < 0 {
			st += len(arr)
		}
		if en < 0 {
			en += len(arr)
		}
		st, en = max(0, min(st, len(arr))), max(0, min(en, len(arr)))
		if st > en {
			st = en
		}
		return jsVal{k: jvArr, arr: arr[st:en]}, true
	}
	return jsVal{}, false
}

func bufMethod(b, m string, args []jsVal) (jsVal, bool) {
	if m != "toString" {
		return jsVal{}, false
	}
	enc := "utf8"
	if len(args) > 0 {
		e, ok := args[0].toString()
		if !ok {
			return jsVal{}, false
		}
		enc = strings.ToLower(e)
	}
	switch enc {
	case "utf8", "utf-8", "ascii":
		return strVal(b), true
	case "latin1", "binary":
		return strVal(latin1([]byte(b))), true
	case "hex":
		return strVal(hex.EncodeToString([]byte(b))), true
	case "base64":
		return strVal(base64.StdEncoding.EncodeToString([]byte(b))), true
	}
	return jsVal{}, false
}

func numMethod(x float64, m string, args []jsVal) (jsVal, bool) {
	if m != "toString" {
		return jsVal{}, false
	}
	radix := 10
	if len(args) > 0 && args[0].k == jvNum {
		radix = int(args[0].n)
	}
	if radix < 2 || radix > 36 {
		return jsVal{}, false
	}
	if radix == 10 {
		return strVal(jsNumString(x)), true
	}
	if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
		return jsVal{}, false
	}
	return strVal(strconv.FormatInt(int64(x), radix)), true
}

func (v jsVal) toString() (string, bool) {
	switch v.k {
	case jvStr, jvBuf:
		return v.s, true
	case jvNum:
		return jsNumString(v.n), true
	case jvArr:
		parts := make([]string, len(v.arr))
		for i, e := range v.arr {
			s, ok := e.toString()
			if !ok {
				return "", false
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}

func (v jsVal) toNumber() (float64, bool) {
	switch v.k {
	case jvNum:
		return v.n, true
	case jvStr:
		s := strings.TrimSpace(v.s)
		if s == "" {
			return 0, true
		}
		return jsNumber(s)
	}
	return 0, false
}

func jsNumString(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e21 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// jsNumber parses a JavaScript numeric literal (not BigInt).
func jsNumber(t string) (float64, bool) {
	t = strings.ReplaceAll(t, "_", "")
	if len(t) > 2 && t[0] == '0' {
		base := 0
		switch t[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			v, err := strconv.ParseUint(t[2:], base, 64)
			return float64(v), err == nil
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	return v, err == nil
}

func toInt32(x float64) int32 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return int32(uint32(int64(math.Mod(math.Trunc(x), 1<<32))))
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// jsString returns the value of a string literal, escapes decoded.
func (a *analysis) jsString(n int32) (string, bool) {
	raw := a.text(n)
	if len(raw) < 2 {
		return "", false
	}
	return jsUnescape(string(raw[1 : len(raw)-1])), true
}

// jsUnescape decodes the escape sequences of a JavaScript string body.
func jsUnescape(s string) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'v':
			b = append(b, '\v')
		case '0':
			b = append(b, 0)
		case '\n':
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case 'x':
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
				b = utf8.AppendRune(b, rune(v))
				i += 2
			} else {
				b = append(b, e)
			}
		case 'u':
			if i+1 < len(s) && s[i+1] == '{' {
				if j := strings.IndexByte(s[i+1:], '}'); j > 1 && j <= 7 {
					if v, err := strconv.ParseUint(s[i+2:i+1+j], 16, 32); err == nil && v <= utf8.MaxRune {
						b = utf8.AppendRune(b, rune(v))
						i += 1 + j
						continue
					}
				}
			} else if i+4 < len(s) && isHexString([]byte(s[i+1:i+5])) {
				v, _ := strconv.ParseUint(s[i+1:i+5], 16, 32)
				b = utf8.AppendRune(b, rune(v))
				i += 4
				continue
			}
			b = append(b, e)
		default:
			b = append(b, e)
		}
	}
	return string(b)
}
