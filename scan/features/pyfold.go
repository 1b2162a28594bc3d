package features

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	ts "github.com/tree-sitter/go-tree-sitter"
	tspy "github.com/tree-sitter/tree-sitter-python/bindings/go"
)

// Python constant evaluation.
//
// pyEval evaluates the side-effect-free subset of Python that cheap
// obfuscation is written in: str/bytes/int literals (escapes decoded,
// f-strings with constant parts), + * % and the bitwise operators, list and
// tuple displays, comprehensions over constant iterables (so a per-byte XOR
// with a constant key folds), slicing and indexing, the str/bytes methods
// join/decode/encode/replace/format/..., chr/ord/bytes/map/reversed, the
// base64/binascii/codecs/zlib decoders, and names bound exactly once in the
// file to a foldable value. Anything else fails, and the caller treats the
// expression as unknown. Work is bounded per file (steps, bytes produced,
// value sizes) and results are cached per node.

// Limits of the evaluator.
const (
	maxPyValue     = 1 << 20 // longest str/bytes value built
	maxPyList      = 1 << 16 // most elements of a list value
	pyStepBudget   = 1 << 19 // evaluation steps per file
	pyByteBudget   = 8 << 20 // bytes of values built per file
	maxPyEvalDepth = 64      // nesting of one evaluation
)

type pyKind uint8

const (
	pvNone pyKind = iota
	pvStr         // b holds UTF-8 text
	pvBytes
	pvInt
	pvList // list or tuple
)

// pyVal is a constant Python value. dec reports that a decoding or
// obfuscating transform produced it (base64, hex, zlib, rot13, chr, XOR,
// reversal, ...), as opposed to literals, concatenation and formatting.
// Values are immutable once built: operations copy.
type pyVal struct {
	k   pyKind
	dec bool
	i   int64
	b   []byte
	l   []pyVal
}

func pyString(s []byte, dec bool) pyVal { return pyVal{k: pvStr, b: s, dec: dec} }
func pyBytesVal(s []byte, dec bool) pyVal {
	return pyVal{k: pvBytes, b: s, dec: dec}
}
func pyInt(i int64, dec bool) pyVal { return pyVal{k: pvInt, i: i, dec: dec} }

// pyEnv binds comprehension and lambda variables during an evaluation.
type pyEnv struct {
	name string
	v    pyVal
	up   *pyEnv
}

func (e *pyEnv) lookup(name string) (pyVal, bool) {
	for ; e != nil; e = e.up {
		if e.name == name {
			return e.v, true
		}
	}
	return pyVal{}, false
}

type pyResult struct {
	v  pyVal
	ok bool
}

// pyState is the per-file state of the Python evaluator and of decoded
// payload expansion. It is created on first use.
type pyState struct {
	bindingsReady bool
	bindings      map[string]int32 // name → the value node of its only binding; -1: bound otherwise or repeatedly
	cache         map[int32]pyResult
	active        map[int32]bool // binding values being evaluated (cycles)
	steps, bytes  int
	depth         int // current evaluation nesting
	execArg       int // > 0 while walking the arguments of an eval/exec call
	payload       *payloadBudget
	payloadDepth  int // nesting of decoded payloads (0: the file itself)
}

func (a *analysis) pyS() *pyState {
	if a.py == nil {
		a.py = &pyState{
			bindings: map[string]int32{},
			cache:    map[int32]pyResult{},
			active:   map[int32]bool{},
			steps:    pyStepBudget,
			bytes:    pyByteBudget,
		}
	}
	return a.py
}

// pyExtraKinds are the Python node kinds and fields only the evaluator and
// the binding scan need.
type pyExtraKinds struct {
	unary, slice, forIn, ifClause, lambda, lambdaParams, formatSpec, typeConv, exprList, augAssign, forStmt,
	namedExpr, params, defaultParam, typedParam, typedDefaultParam, listSplatPat, dictSplatPat, asPatternTarget,
	exceptClause, globalStmt, nonlocalStmt, listSplat, conditional, none uint16
	fExpression, fParameters, fAlias, fLeft, fName, fBody, fArgument uint16
}

var pyExtra = sync.OnceValue(func() pyExtraKinds {
	l := ts.NewLanguage(tspy.Language())
	kind := func(name string) uint16 {
		if k := l.IdForNodeKind(name, true); k != 0 {
			return k
		}
		return noKind
	}
	return pyExtraKinds{
		unary: kind("unary_operator"), slice: kind("slice"), forIn: kind("for_in_clause"), ifClause: kind("if_clause"),
		lambda: kind("lambda"), lambdaParams: kind("lambda_parameters"), formatSpec: kind("format_specifier"),
		typeConv: kind("type_conversion"), exprList: kind("expression_list"), augAssign: kind("augmented_assignment"),
		forStmt: kind("for_statement"), namedExpr: kind("named_expression"), params: kind("parameters"),
		defaultParam: kind("default_parameter"), typedParam: kind("typed_parameter"),
		typedDefaultParam: kind("typed_default_parameter"), listSplatPat: kind("list_splat_pattern"),
		dictSplatPat: kind("dictionary_splat_pattern"), asPatternTarget: kind("as_pattern_target"),
		exceptClause: kind("except_clause"), globalStmt: kind("global_statement"),
		nonlocalStmt: kind("nonlocal_statement"), listSplat: kind("list_splat"),
		conditional: kind("conditional_expression"), none: kind("none"),
		fExpression: l.FieldIdForName("expression"), fParameters: l.FieldIdForName("parameters"),
		fAlias: l.FieldIdForName("alias"), fLeft: l.FieldIdForName("left"), fName: l.FieldIdForName("name"),
		fBody: l.FieldIdForName("body"), fArgument: l.FieldIdForName("argument"),
	}
})

// pyStr folds n to a str constant.
func (a *analysis) pyStr(n int32) (string, bool) {
	v, ok := a.pyEvalTop(n)
	if !ok || v.k != pvStr {
		return "", false
	}
	return string(v.b), true
}

// pyEvalTop evaluates n with no local variables, through the cache.
func (a *analysis) pyEvalTop(n int32) (pyVal, bool) {
	if n < 0 {
		return pyVal{}, false
	}
	return a.pyEval(n, nil)
}

// cacheable reports whether evaluating a node of kind k is worth caching:
// calls and subscripts may decode large values.
func (a *analysis) cacheable(k uint16) bool {
	return k == a.k.call || k == a.k.pySubscript || k == a.k.binary
}

func (a *analysis) pyEval(n int32, env *pyEnv) (pyVal, bool) {
	if n < 0 {
		return pyVal{}, false
	}
	st := a.pyS()
	if st.steps <= 0 || st.depth >= maxPyEvalDepth {
		return pyVal{}, false
	}
	st.steps--
	kind := a.kind(n)
	useCache := env == nil && a.cacheable(kind)
	if useCache {
		if r, ok := st.cache[n]; ok {
			return r.v, r.ok
		}
	}
	st.depth++
	v, ok := a.pyEvalNode(n, kind, env)
	st.depth--
	if ok && (v.k == pvStr || v.k == pvBytes) {
		if len(v.b) > maxPyValue || st.bytes < len(v.b) {
			v, ok = pyVal{}, false
		} else {
			st.bytes -= len(v.b)
		}
	}
	if ok && v.k == pvList && len(v.l) > maxPyList {
		v, ok = pyVal{}, false
	}
	if useCache {
		st.cache[n] = pyResult{v, ok}
	}
	return v, ok
}

func (a *analysis) pyEvalNode(n int32, kind uint16, env *pyEnv) (pyVal, bool) {
	k, x := a.k, pyExtra()
	switch kind {
	case k.str:
		return a.pyStrLit(n, env)
	case k.concatString:
		var out pyVal
		for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
			if a.kind(c) == k.comment {
				continue
			}
			v, ok := a.pyEval(c, env)
			if !ok {
				return pyVal{}, false
			}
			if out.k == pvNone {
				out = v
				continue
			}
			if out, ok = pyAdd(out, v); !ok {
				return pyVal{}, false
			}
		}
		return out, out.k != pvNone
	case k.integer:
		return pyIntLit(a.text(n))
	case k.paren:
		return a.pyEval(a.first(n), env)
	case k.list, k.tuple:
		return a.pyEvalList(n, env)
	case k.listComp, k.generatorExpr:
		return a.pyComprehension(n, env)
	case k.identifier:
		return a.pyLookup(n, env)
	case k.binary:
		return a.pyBinary(n, env)
	case k.call:
		return a.pyEvalCall(n, env)
	case k.pySubscript:
		return a.pySubscriptEval(n, env)
	case k.attribute:
		v, ok := pyModuleConsts[a.pyName(n, 0)]
		return v, ok
	case x.unary:
		arg := a.child(n, x.fArgument)
		if arg < 0 {
			arg = a.first(n)
		}
		v, ok := a.pyEval(arg, env)
		if !ok || v.k != pvInt {
			return pyVal{}, false
		}
		switch string(bytes.TrimSpace(a.src[a.tree.nodes[n].start:a.tree.nodes[arg].start])) {
		case "-":
			v.i = -v.i
		case "~":
			v.i = ^v.i
		case "+":
		default:
			return pyVal{}, false
		}
		return v, true
	}
	return pyVal{}, false
}

// pyModuleConsts are standard-library constants obfuscators build from.
var pyModuleConsts = map[string]pyVal{
	"zlib.MAX_WBITS":         pyInt(15, false),
	"string.ascii_lowercase": pyString([]byte("abcdefghijklmnopqrstuvwxyz"), false),
	"string.ascii_uppercase": pyString([]byte("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), false),
	"string.ascii_letters":   pyString([]byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), false),
	"string.digits":          pyString([]byte("0123456789"), false),
	"string.hexdigits":       pyString([]byte("0123456789abcdefABCDEF"), false),
	"string.octdigits":       pyString([]byte("01234567"), false),
	"string.punctuation":     pyString([]byte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), false),
}

// pyLookup resolves a name: comprehension variables first, then a name
// bound exactly once in the file.
func (a *analysis) pyLookup(n int32, env *pyEnv) (pyVal, bool) {
	name := a.srcString(n)
	if v, ok := env.lookup(name); ok {
		return v, true
	}
	if _, ok := a.aliases[name]; ok {
		return pyVal{}, false
	}
	st := a.pyS()
	if !st.bindingsReady {
		a.pyCollectBindings()
	}
	rhs, ok := st.bindings[name]
	if !ok || rhs < 0 || st.active[rhs] {
		return pyVal{}, false
	}
	if r, ok := st.cache[rhs]; ok {
		return r.v, r.ok
	}
	st.active[rhs] = true
	v, ok := a.pyEval(rhs, nil)
	delete(st.active, rhs)
	st.cache[rhs] = pyResult{v, ok}
	return v, ok
}

// pyCollectBindings records, for every name, the value node of its single
// plain assignment (name = value), or -1 when the name is bound more than
// once or in any other way (parameters, loop targets, augmented assignment,
// unpacking, with/except targets, walrus, def/class).
func (a *analysis) pyCollectBindings() {
	st := a.pyS()
	st.bindingsReady = true
	k, x := a.k, pyExtra()
	nodes := a.tree.nodes
	bind := func(name string, rhs int32) {
		if _, seen := st.bindings[name]; seen {
			st.bindings[name] = -1
			return
		}
		st.bindings[name] = rhs
	}
	for i := range nodes {
		n := int32(i)
		switch nodes[i].kind {
		case k.assignment:
			left, right := a.child(n, k.fLeft), a.child(n, k.fRight)
			for a.kind(right) == k.assignment { // a = b = value
				right = a.child(right, k.fRight)
			}
			if a.kind(left) == k.identifier {
				bind(a.srcString(left), right)
			} else if a.kind(left) != k.attribute && a.kind(left) != k.pySubscript {
				a.pyTaint(left, bind)
			}
		case x.augAssign, x.forStmt, x.forIn:
			left := a.child(n, x.fLeft)
			if a.kind(left) == k.identifier {
				bind(a.srcString(left), -1)
			} else if a.kind(left) != k.attribute && a.kind(left) != k.pySubscript {
				a.pyTaint(left, bind)
			}
		case x.namedExpr:
			a.pyTaint(a.child(n, x.fName), bind)
		case x.params, x.lambdaParams, x.asPatternTarget:
			a.pyTaint(n, bind)
		case x.exceptClause:
			a.pyTaint(a.child(n, x.fAlias), bind)
		case k.funcDef, k.classDef:
			bind(a.srcString(a.child(n, k.fName)), -1)
		}
	}
}

// pyTaint marks every identifier under n as not constant. Default values of
// parameters are skipped: they are expressions, not bindings.
func (a *analysis) pyTaint(n int32, bind func(string, int32)) {
	if n < 0 {
		return
	}
	k, x := a.k, pyExtra()
	switch a.kind(n) {
	case k.identifier:
		bind(a.srcString(n), -1)
		return
	case x.defaultParam, x.typedDefaultParam:
		a.pyTaint(a.child(n, x.fName), bind)
		return
	case x.typedParam:
		a.pyTaint(a.first(n), bind)
		return
	case k.attribute, k.pySubscript:
		return
	}
	for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
		a.pyTaint(c, bind)
	}
}

// pyStrLit evaluates a string literal, decoding escapes and folding
// f-string interpolations whose expressions are constant.
func (a *analysis) pyStrLit(n int32, env *pyEnv) (pyVal, bool) {
	k, x := a.k, pyExtra()
	nodes := a.tree.nodes
	var raw, isBytes, isF bool
	start, end := nodes[n].start, nodes[n].end
	var interps []int32
	for c := nodes[n].first; c >= 0; c = nodes[c].next {
		switch a.kind(c) {
		case k.stringStart:
			start = nodes[c].end
			for _, ch := range a.text(c) {
				switch ch {
				case 'r', 'R':
					raw = true
				case 'b', 'B':
					isBytes = true
				case 'f', 'F':
					isF = true
				}
			}
		case k.stringEnd:
			end = nodes[c].start
		case k.interpolation:
			interps = append(interps, c)
		}
	}
	if end < start {
		return pyVal{}, false
	}
	if body := a.src[start:end:end]; len(interps) == 0 && (raw || bytes.IndexByte(body, '\\') < 0) &&
		(!isF || bytes.IndexAny(body, "{}") < 0) {
		// No escapes to decode: the value is the source text itself.
		if isBytes {
			return pyBytesVal(body, false), true
		}
		return pyString(body, false), true
	}
	var out []byte
	seg := func(from, to uint32) bool {
		s := a.src[from:to]
		if isF {
			s = unbrace(s)
		}
		if raw {
			out = append(out, s...)
			return true
		}
		var ok bool
		out, ok = pyUnescape(out, s, isBytes)
		return ok
	}
	pos := start
	for _, c := range interps {
		if !seg(pos, nodes[c].start) {
			return pyVal{}, false
		}
		if a.child(c, x.fExpression) < 0 {
			return pyVal{}, false
		}
		for d := nodes[c].first; d >= 0; d = nodes[d].next {
			if dk := a.kind(d); dk == x.formatSpec || (dk == x.typeConv && string(a.text(d)) != "!s") {
				return pyVal{}, false
			}
		}
		v, ok := a.pyEval(a.child(c, x.fExpression), env)
		if !ok {
			return pyVal{}, false
		}
		s, ok := pyToStr(v)
		if !ok {
			return pyVal{}, false
		}
		out = append(out, s...)
		pos = nodes[c].end
	}
	if !seg(pos, end) {
		return pyVal{}, false
	}
	if isBytes {
		return pyBytesVal(out, false), true
	}
	return pyString(out, false), true
}

// unbrace turns the {{ and }} of an f-string's literal parts into braces.
func unbrace(s []byte) []byte {
	if !bytes.Contains(s, []byte("{{")) && !bytes.Contains(s, []byte("}}")) {
		return s
	}
	s = bytes.ReplaceAll(s, []byte("{{"), []byte("{"))
	return bytes.ReplaceAll(s, []byte("}}"), []byte("}"))
}

// pyUnescape appends the value of a non-raw literal body to dst. In str
// literals \x, \u, \U and octal escapes name code points (UTF-8 encoded);
// in bytes literals \x and octal escapes are bytes. \N{...} fails.
func pyUnescape(dst, s []byte, isBytes bool) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			dst = append(dst, c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '\n':
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case '\\', '\'', '"':
			dst = append(dst, e)
		case 'a':
			dst = append(dst, 7)
		case 'b':
			dst = append(dst, 8)
		case 'f':
			dst = append(dst, 12)
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'v':
			dst = append(dst, 11)
		case 'x', 'u', 'U':
			if isBytes && e != 'x' {
				dst = append(dst, '\\', e)
				continue
			}
			w := 2
			if e == 'u' {
				w = 4
			} else if e == 'U' {
				w = 8
			}
			if i+w >= len(s) {
				return dst, false
			}
			v, err := strconv.ParseUint(string(s[i+1:i+1+w]), 16, 32)
			if err != nil {
				return dst, false
			}
			i += w
			if isBytes {
				dst = append(dst, byte(v))
			} else {
				if v > utf8.MaxRune {
					return dst, false
				}
				dst = utf8.AppendRune(dst, rune(v))
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, j := 0, i
			for ; j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7'; j++ {
				v = v*8 + int(s[j]-'0')
			}
			i = j - 1
			if isBytes {
				dst = append(dst, byte(v))
			} else {
				dst = utf8.AppendRune(dst, rune(v))
			}
		case 'N':
			if isBytes {
				dst = append(dst, '\\', e)
				continue
			}
			return dst, false
		default:
			dst = append(dst, '\\', e)
		}
	}
	return dst, true
}

// pyIntLit parses an integer literal (decimal, 0x, 0o, 0b, underscores).
func pyIntLit(t []byte) (pyVal, bool) {
	s := strings.ReplaceAll(strings.ToLower(string(t)), "_", "")
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"):
		base, s = 16, s[2:]
	case strings.HasPrefix(s, "0o"):
		base, s = 8, s[2:]
	case strings.HasPrefix(s, "0b"):
		base, s = 2, s[2:]
	}
	s = strings.TrimSuffix(s, "l") // Python 2 long
	i, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return pyVal{}, false
	}
	return pyInt(i, false), true
}

func (a *analysis) pyEvalList(n int32, env *pyEnv) (pyVal, bool) {
	out := pyVal{k: pvList}
	for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
		if a.kind(c) == a.k.comment {
			continue
		}
		if len(out.l) >= maxPyList {
			return pyVal{}, false
		}
		v, ok := a.pyEval(c, env)
		if !ok {
			return pyVal{}, false
		}
		out.dec = out.dec || v.dec
		out.l = append(out.l, v)
	}
	return out, true
}

// pyComprehension evaluates [body for x in iterable if cond ...] with one
// or more for clauses over constant iterables.
func (a *analysis) pyComprehension(n int32, env *pyEnv) (pyVal, bool) {
	k, x := a.k, pyExtra()
	body := a.child(n, k.fBody)
	var clauses []int32
	for c := a.tree.nodes[n].first; c >= 0; c = a.tree.nodes[c].next {
		if ck := a.kind(c); ck == x.forIn || ck == x.ifClause {
			clauses = append(clauses, c)
		}
	}
	if body < 0 || len(clauses) == 0 || a.kind(clauses[0]) != x.forIn {
		return pyVal{}, false
	}
	out := pyVal{k: pvList}
	st := a.pyS()
	var run func(i int, env *pyEnv) bool
	run = func(i int, env *pyEnv) bool {
		if st.steps <= 0 {
			return false
		}
		if i == len(clauses) {
			v, ok := a.pyEval(body, env)
			if !ok || len(out.l) >= maxPyList {
				return false
			}
			out.dec = out.dec || v.dec
			out.l = append(out.l, v)
			return true
		}
		c := clauses[i]
		if a.kind(c) == x.ifClause {
			v, ok := a.pyEval(a.first(c), env)
			if !ok {
				return false
			}
			t, ok := pyTruth(v)
			if !ok {
				return false
			}
			return !t || run(i+1, env)
		}
		left, right := a.child(c, x.fLeft), a.child(c, k.fRight)
		if a.kind(left) != k.identifier {
			return false
		}
		it, ok := a.pyEval(right, env)
		if !ok {
			return false
		}
		elems, ok := pyIter(it)
		if !ok {
			return false
		}
		name := string(a.text(left))
		for _, e := range elems {
			if !run(i+1, &pyEnv{name: name, v: e, up: env}) {
				return false
			}
		}
		return true
	}
	if !run(0, env) {
		return pyVal{}, false
	}
	return out, true
}

func pyTruth(v pyVal) (bool, bool) {
	switch v.k {
	case pvInt:
		return v.i != 0, true
	case pvStr, pvBytes:
		return len(v.b) > 0, true
	case pvList:
		return len(v.l) > 0, true
	}
	return false, false
}

// pyIter returns the elements iterating v yields: characters of a str,
// ints of bytes, items of a list.
func pyIter(v pyVal) ([]pyVal, bool) {
	switch v.k {
	case pvList:
		return v.l, true
	case pvBytes:
		if len(v.b) > maxPyList {
			return nil, false
		}
		out := make([]pyVal, len(v.b))
		for i, c := range v.b {
			out[i] = pyInt(int64(c), v.dec)
		}
		return out, true
	case pvStr:
		if len(v.b) > maxPyList {
			return nil, false
		}
		out := make([]pyVal, 0, len(v.b))
		for i := 0; i < len(v.b); {
			_, size := utf8.DecodeRune(v.b[i:])
			out = append(out, pyString(v.b[i:i+size:i+size], v.dec))
			i += size
		}
		return out, true
	}
	return nil, false
}

// pyToStr is str(v) for str and int values.
func pyToStr(v pyVal) ([]byte, bool) {
	switch v.k {
	case pvStr:
		return v.b, true
	case pvInt:
		return strconv.AppendInt(nil, v.i, 10), true
	}
	return nil, false
}

func pyAdd(l, r pyVal) (pyVal, bool) {
	dec := l.dec || r.dec
	switch {
	case l.k == pvInt && r.k == pvInt:
		return pyInt(l.i+r.i, dec), true
	case l.k == r.k && (l.k == pvStr || l.k == pvBytes):
		if len(l.b)+len(r.b) > maxPyValue {
			return pyVal{}, false
		}
		b := make([]byte, 0, len(l.b)+len(r.b))
		b = append(append(b, l.b...), r.b...)
		return pyVal{k: l.k, b: b, dec: dec}, true
	case l.k == pvList && r.k == pvList:
		if len(l.l)+len(r.l) > maxPyList {
			return pyVal{}, false
		}
		out := make([]pyVal, 0, len(l.l)+len(r.l))
		out = append(append(out, l.l...), r.l...)
		return pyVal{k: pvList, l: out, dec: dec}, true
	}
	return pyVal{}, false
}

func (a *analysis) pyBinary(n int32, env *pyEnv) (pyVal, bool) {
	k := a.k
	ln, rn := a.child(n, k.fLeft), a.child(n, k.fRight)
	if ln < 0 || rn < 0 {
		return pyVal{}, false
	}
	op := string(bytes.TrimSpace(a.src[a.tree.nodes[ln].end:a.tree.nodes[rn].start]))
	l, ok := a.pyEval(ln, env)
	if !ok {
		return pyVal{}, false
	}
	r, ok := a.pyEval(rn, env)
	if !ok {
		return pyVal{}, false
	}
	dec := l.dec || r.dec
	if op == "+" {
		return pyAdd(l, r)
	}
	if op == "%" && l.k == pvStr {
		return pyPercent(l, r)
	}
	if op == "*" {
		seq, cnt := l, r
		if l.k == pvInt {
			seq, cnt = r, l
		}
		if cnt.k == pvInt && (seq.k == pvStr || seq.k == pvBytes) {
			if cnt.i <= 0 {
				return pyVal{k: seq.k, dec: dec}, true
			}
			if int64(len(seq.b))*cnt.i > maxPyValue {
				return pyVal{}, false
			}
			return pyVal{k: seq.k, b: bytes.Repeat(seq.b, int(cnt.i)), dec: dec}, true
		}
	}
	if l.k != pvInt || r.k != pvInt {
		return pyVal{}, false
	}
	x, y := l.i, r.i
	var v int64
	switch op {
	case "^":
		v, dec = x^y, true
	case "&":
		v = x & y
	case "|":
		v = x | y
	case "-":
		v = x - y
	case "*":
		if x != 0 && (y > 1<<31 || y < -(1<<31) || x > 1<<31 || x < -(1<<31)) {
			return pyVal{}, false
		}
		v = x * y
	case "%", "//":
		if y == 0 {
			return pyVal{}, false
		}
		q, m := x/y, x%y
		if m != 0 && (m < 0) != (y < 0) { // Python floors
			q--
			m += y
		}
		if op == "%" {
			v = m
		} else {
			v = q
		}
	case "<<":
		if y < 0 || y > 62 {
			return pyVal{}, false
		}
		v = x << y
	case ">>":
		if y < 0 {
			return pyVal{}, false
		}
		v = x >> min(y, 63)
	default:
		return pyVal{}, false
	}
	return pyInt(v, dec), true
}

// pyPercent is str % args for the conversions %s %d %i %c %x %X %o %%.
func pyPercent(f, args pyVal) (pyVal, bool) {
	list := []pyVal{args}
	if args.k == pvList {
		list = args.l
	}
	dec := f.dec || args.dec
	var out []byte
	s := f.b
	ai := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			out = append(out, s[i])
			continue
		}
		if i+1 >= len(s) {
			return pyVal{}, false
		}
		i++
		conv := s[i]
		if conv == '%' {
			out = append(out, '%')
			continue
		}
		if ai >= len(list) {
			return pyVal{}, false
		}
		v := list[ai]
		ai++
		dec = dec || v.dec
		switch conv {
		case 's':
			b, ok := pyToStr(v)
			if !ok {
				return pyVal{}, false
			}
			out = append(out, b...)
		case 'd', 'i':
			if v.k != pvInt {
				return pyVal{}, false
			}
			out = strconv.AppendInt(out, v.i, 10)
		case 'x', 'X', 'o':
			if v.k != pvInt {
				return pyVal{}, false
			}
			base := 16
			if conv == 'o' {
				base = 8
			}
			t := strconv.FormatInt(v.i, base)
			if conv == 'X' {
				t = strings.ToUpper(t)
			}
			out = append(out, t...)
		case 'c':
			switch {
			case v.k == pvInt && v.i >= 0 && v.i <= utf8.MaxRune:
				out = utf8.AppendRune(out, rune(v.i))
			case v.k == pvStr:
				out = append(out, v.b...)
			default:
				return pyVal{}, false
			}
		default:
			return pyVal{}, false
		}
		if len(out) > maxPyValue {
			return pyVal{}, false
		}
	}
	if ai != len(list) {
		return pyVal{}, false
	}
	return pyString(out, dec), true
}

// pyFormat is str.format with {} {0} {name} fields and {{ }} escapes.
func pyFormat(f pyVal, pos []pyVal, kw map[string]pyVal) (pyVal, bool) {
	s := f.b
	dec := f.dec
	var out []byte
	auto := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '}' {
			if i+1 < len(s) && s[i+1] == '}' {
				i++
			}
			out = append(out, '}')
			continue
		}
		if c != '{' {
			out = append(out, c)
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			out = append(out, '{')
			i++
			continue
		}
		j := bytes.IndexByte(s[i:], '}')
		if j < 0 {
			return pyVal{}, false
		}
		field := string(s[i+1 : i+j])
		i += j
		field = strings.TrimSuffix(field, "!s")
		if strings.ContainsAny(field, ":![.") {
			return pyVal{}, false
		}
		var v pyVal
		switch {
		case field == "":
			if auto >= len(pos) {
				return pyVal{}, false
			}
			v = pos[auto]
			auto++
		case field[0] >= '0' && field[0] <= '9':
			idx, err := strconv.Atoi(field)
			if err != nil || idx >= len(pos) {
				return pyVal{}, false
			}
			v = pos[idx]
		default:
			var ok bool
			if v, ok = kw[field]; !ok {
				return pyVal{}, false
			}
		}
		b, ok := pyToStr(v)
		if !ok {
			return pyVal{}, false
		}
		dec = dec || v.dec
		out = append(out, b...)
		if len(out) > maxPyValue {
			return pyVal{}, false
		}
	}
	return pyString(out, dec), true
}

// pySubscriptEval evaluates v[i] and v[a:b:c] on str, bytes and lists.
func (a *analysis) pySubscriptEval(n int32, env *pyEnv) (pyVal, bool) {
	k, x := a.k, pyExtra()
	val, sub := a.child(n, k.fValue), a.child(n, k.fSubscript)
	if sub < 0 || a.tree.nodes[sub].next >= 0 && a.tree.nodes[a.tree.nodes[sub].next].field == k.fSubscript {
		return pyVal{}, false // v[a, b]
	}
	v, ok := a.pyEval(val, env)
	if !ok || v.k == pvInt || v.k == pvNone {
		return pyVal{}, false
	}
	// Strings index by character.
	var chars []pyVal
	length := len(v.b)
	if v.k == pvList {
		length = len(v.l)
	} else if v.k == pvStr && !isASCII(v.b) {
		if chars, ok = pyIter(v); !ok {
			return pyVal{}, false
		}
		length = len(chars)
	}
	if a.kind(sub) != x.slice {
		iv, ok := a.pyEval(sub, env)
		if !ok || iv.k != pvInt {
			return pyVal{}, false
		}
		i := iv.i
		if i < 0 {
			i += int64(length)
		}
		if i < 0 || i >= int64(length) {
			return pyVal{}, false
		}
		switch {
		case v.k == pvList:
			return v.l[i], true
		case v.k == pvBytes:
			return pyInt(int64(v.b[i]), v.dec), true
		case chars != nil:
			return chars[i], true
		default:
			return pyString(v.b[i:i+1:i+1], v.dec), true
		}
	}
	// Slice: named children are the present parts; the colons before each
	// tell which part it is.
	var parts [3]*int64
	from := a.tree.nodes[sub].start
	colons := 0
	for c := a.tree.nodes[sub].first; c >= 0; c = a.tree.nodes[c].next {
		colons += bytes.Count(a.src[from:a.tree.nodes[c].start], []byte(":"))
		from = a.tree.nodes[c].end
		if colons > 2 {
			return pyVal{}, false
		}
		pv, ok := a.pyEval(c, env)
		if !ok || pv.k != pvInt {
			if a.kind(c) == x.none {
				continue
			}
			return pyVal{}, false
		}
		iv := pv.i
		parts[colons] = &iv
	}
	idx, ok := pySliceIndices(length, parts[0], parts[1], parts[2])
	if !ok {
		return pyVal{}, false
	}
	step := int64(1)
	if parts[2] != nil {
		step = *parts[2]
	}
	dec := v.dec || step != 1
	switch {
	case v.k == pvList:
		out := make([]pyVal, len(idx))
		for j, i := range idx {
			out[j] = v.l[i]
		}
		return pyVal{k: pvList, l: out, dec: dec}, true
	case chars != nil:
		var out []byte
		for _, i := range idx {
			out = append(out, chars[i].b...)
		}
		return pyString(out, dec), true
	default:
		out := make([]byte, len(idx))
		for j, i := range idx {
			out[j] = v.b[i]
		}
		return pyVal{k: v.k, b: out, dec: dec}, true
	}
}

// pySliceIndices lists the indices seq[start:stop:step] selects, with
// Python's defaults, negative-index and clamping rules.
func pySliceIndices(length int, start, stop, step *int64) ([]int, bool) {
	st := int64(1)
	if step != nil {
		st = *step
	}
	if st == 0 {
		return nil, false
	}
	n := int64(length)
	norm := func(p *int64, def, lo, hi int64) int64 {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += n
		}
		return max(lo, min(hi, v))
	}
	var b, e int64
	if st > 0 {
		b, e = norm(start, 0, 0, n), norm(stop, n, 0, n)
	} else {
		b, e = norm(start, n-1, -1, n-1), norm(stop, -1, -1, n-1)
	}
	var out []int
	for i := b; (st > 0 && i < e) || (st < 0 && i > e); i += st {
		out = append(out, int(i))
	}
	return out, true
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// srcString is the source text of n as a string sharing the source's
// memory: for map keys that live no longer than the analysis (the source is
// not modified while it runs).
func (a *analysis) srcString(n int32) string {
	t := a.text(n)
	if len(t) == 0 {
		return ""
	}
	return unsafe.String(&t[0], len(t))
}
