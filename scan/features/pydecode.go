package features

import (
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/ascii85"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Calls the Python evaluator folds: builtins, str/bytes methods and the
// standard decoders.

// pyArgs are a call's argument nodes, evaluated on demand.
type pyArgs struct {
	pos []int32
	kw  []int32 // keyword_argument nodes
}

func (a *analysis) pyCallArgs(args int32) (pyArgs, bool) {
	var out pyArgs
	if args < 0 {
		return out, true
	}
	k, x := a.k, pyExtra()
	if a.kind(args) == k.generatorExpr { // f(x for x in y)
		out.pos = append(out.pos, args)
		return out, true
	}
	for c := a.tree.nodes[args].first; c >= 0; c = a.tree.nodes[c].next {
		switch a.kind(c) {
		case k.comment:
		case k.keywordArg:
			out.kw = append(out.kw, c)
		case x.listSplat:
			return out, false
		default:
			if len(out.kw) > 0 || a.pyIsDictSplat(c) {
				return out, false
			}
			out.pos = append(out.pos, c)
		}
	}
	return out, true
}

func (a *analysis) pyIsDictSplat(c int32) bool { return bytes.HasPrefix(a.text(c), []byte("**")) }

// arg returns the i-th positional argument or the keyword argument name.
func (a *analysis) pyArg(p pyArgs, i int, name string) int32 {
	if i >= 0 && i < len(p.pos) {
		return p.pos[i]
	}
	for _, c := range p.kw {
		if string(a.text(a.child(c, a.k.fName))) == name {
			return a.child(c, a.k.fValue)
		}
	}
	return -1
}

// pyArgStr evaluates an optional str argument ("" when absent).
func (a *analysis) pyArgStr(p pyArgs, i int, name string, env *pyEnv) (string, bool) {
	n := a.pyArg(p, i, name)
	if n < 0 {
		return "", true
	}
	v, ok := a.pyEval(n, env)
	if !ok || v.k != pvStr {
		return "", false
	}
	return string(v.b), true
}

// pyDecoders are the module functions folded by name, on str or bytes.
var pyDecoders = map[string]func([]byte) ([]byte, bool){
	"base64.b64decode":          b64Std,
	"base64.standard_b64decode": b64Std,
	"base64.decodebytes":        b64Std,
	"base64.decodestring":       b64Std,
	"binascii.a2b_base64":       b64Std,
	"base64.urlsafe_b64decode":  b64URL,
	"base64.b32decode":          b32,
	"base64.b16decode":          unhex,
	"base64.b85decode":          b85,
	"base64.a85decode":          a85,
	"bytes.fromhex":             unhex,
	"bytearray.fromhex":         unhex,
	"binascii.unhexlify":        unhex,
	"binascii.a2b_hex":          unhex,
	"gzip.decompress":           gunzip,
	"bz2.decompress":            bunzip2,
}

// pyBuiltinNames are the builtins the evaluator knows; a file that defines
// a function of the same name is not folded.
var pyBuiltinNames = map[string]bool{"chr": true, "ord": true, "bytes": true, "bytearray": true, "str": true,
	"list": true, "tuple": true, "map": true, "reversed": true, "int": true}

func (a *analysis) pyEvalCall(n int32, env *pyEnv) (pyVal, bool) {
	k := a.k
	fn := a.child(n, k.fFunction)
	q := a.pyName(fn, 0)
	var recv pyVal
	switch {
	case pyDecoders[q] != nil, q == "zlib.decompress", q == "codecs.decode", q == "codecs.encode":
	case a.kind(fn) == k.attribute:
		// A method: only a constant receiver can fold; try it first.
		var ok bool
		if recv, ok = a.pyEval(a.child(fn, k.fObject), env); !ok || (recv.k != pvStr && recv.k != pvBytes) {
			return pyVal{}, false
		}
	case a.kind(fn) != k.identifier || !pyBuiltinNames[q]:
		return pyVal{}, false
	}
	p, ok := a.pyCallArgs(a.child(n, k.fArguments))
	if !ok {
		return pyVal{}, false
	}
	switch {
	case pyDecoders[q] != nil:
		v, ok := a.pyEval(a.pyArg(p, 0, "s"), env)
		if !ok || (v.k != pvStr && v.k != pvBytes) {
			return pyVal{}, false
		}
		out, ok := pyDecoders[q](v.b)
		return pyBytesVal(out, true), ok
	case q == "zlib.decompress":
		v, ok := a.pyEval(a.pyArg(p, 0, "data"), env)
		if !ok || v.k != pvBytes {
			return pyVal{}, false
		}
		wbits := int64(15)
		if w := a.pyArg(p, 1, "wbits"); w >= 0 {
			wv, ok := a.pyEval(w, env)
			if !ok || wv.k != pvInt {
				return pyVal{}, false
			}
			wbits = wv.i
		}
		out, ok := inflate(v.b, wbits)
		return pyBytesVal(out, true), ok
	case q == "codecs.decode" || q == "codecs.encode":
		v, ok := a.pyEval(a.pyArg(p, 0, "obj"), env)
		if !ok {
			return pyVal{}, false
		}
		enc, ok := a.pyArgStr(p, 1, "encoding", env)
		if !ok {
			return pyVal{}, false
		}
		return pyCodec(v, enc, q == "codecs.encode")
	}
	if a.kind(fn) == k.attribute {
		return a.pyMethod(fn, recv, p, env)
	}
	if _, local := a.funcs[q]; local {
		return pyVal{}, false
	}
	return a.pyBuiltin(q, p, env)
}

func (a *analysis) pyBuiltin(name string, p pyArgs, env *pyEnv) (pyVal, bool) {
	arg0 := func() (pyVal, bool) { return a.pyEval(a.pyArg(p, 0, ""), env) }
	switch name {
	case "chr":
		v, ok := arg0()
		if !ok || v.k != pvInt || v.i < 0 || v.i > utf8.MaxRune {
			return pyVal{}, false
		}
		return pyString(utf8.AppendRune(nil, rune(v.i)), true), true
	case "ord":
		v, ok := arg0()
		if !ok {
			return pyVal{}, false
		}
		if v.k == pvBytes && len(v.b) == 1 {
			return pyInt(int64(v.b[0]), v.dec), true
		}
		if r, size := utf8.DecodeRune(v.b); v.k == pvStr && size == len(v.b) && size > 0 {
			return pyInt(int64(r), v.dec), true
		}
	case "bytes", "bytearray":
		v, ok := arg0()
		if !ok {
			return pyVal{}, false
		}
		switch v.k {
		case pvBytes:
			return v, true
		case pvStr:
			enc, ok := a.pyArgStr(p, 1, "encoding", env)
			if !ok || enc == "" {
				return pyVal{}, false
			}
			return pyCodec(v, enc, true)
		case pvList:
			out := make([]byte, len(v.l))
			for i, e := range v.l {
				if e.k != pvInt || e.i < 0 || e.i > 255 {
					return pyVal{}, false
				}
				out[i] = byte(e.i)
			}
			return pyBytesVal(out, true), true
		}
	case "str":
		v, ok := arg0()
		if !ok {
			return pyVal{}, false
		}
		if v.k == pvBytes {
			enc, ok := a.pyArgStr(p, 1, "encoding", env)
			if !ok || enc == "" {
				return pyVal{}, false
			}
			return pyCodec(v, enc, false)
		}
		b, ok := pyToStr(v)
		return pyString(b, v.dec), ok
	case "list", "tuple", "reversed":
		v, ok := arg0()
		if !ok {
			return pyVal{}, false
		}
		elems, ok := pyIter(v)
		if !ok {
			return pyVal{}, false
		}
		if name == "reversed" {
			r := make([]pyVal, len(elems))
			for i, e := range elems {
				r[len(elems)-1-i] = e
			}
			return pyVal{k: pvList, l: r, dec: true}, true
		}
		return pyVal{k: pvList, l: elems, dec: v.dec}, true
	case "int":
		v, ok := arg0()
		if !ok {
			return pyVal{}, false
		}
		if v.k == pvInt {
			return v, true
		}
		base := int64(10)
		if b := a.pyArg(p, 1, "base"); b >= 0 {
			bv, ok := a.pyEval(b, env)
			if !ok || bv.k != pvInt {
				return pyVal{}, false
			}
			base = bv.i
		}
		if v.k != pvStr || base < 2 || base > 36 {
			return pyVal{}, false
		}
		s := strings.ToLower(strings.TrimSpace(string(v.b)))
		if base == 16 {
			s = strings.TrimPrefix(s, "0x")
		}
		i, err := strconv.ParseInt(s, int(base), 64)
		return pyInt(i, v.dec), err == nil
	case "map":
		return a.pyMap(p, env)
	}
	return pyVal{}, false
}

// pyMap folds map(f, iterable) for f a known builtin or a one-parameter
// lambda.
func (a *analysis) pyMap(p pyArgs, env *pyEnv) (pyVal, bool) {
	if len(p.pos) != 2 {
		return pyVal{}, false
	}
	k, x := a.k, pyExtra()
	f := p.pos[0]
	it, ok := a.pyEval(p.pos[1], env)
	if !ok {
		return pyVal{}, false
	}
	elems, ok := pyIter(it)
	if !ok {
		return pyVal{}, false
	}
	out := pyVal{k: pvList, l: make([]pyVal, 0, len(elems)), dec: true}
	st := a.pyS()
	switch a.kind(f) {
	case k.identifier:
		name := string(a.text(f))
		if !pyBuiltinNames[name] || name == "map" {
			return pyVal{}, false
		}
		if _, local := a.funcs[name]; local {
			return pyVal{}, false
		}
		for _, e := range elems {
			st.steps--
			if st.steps <= 0 {
				return pyVal{}, false
			}
			v, ok := pyApply1(name, e)
			if !ok {
				return pyVal{}, false
			}
			out.l = append(out.l, v)
		}
		return out, true
	case x.lambda:
		params, body := a.child(f, x.fParameters), a.child(f, x.fBody)
		param := a.first(params)
		if a.kind(param) != k.identifier || a.nth(params, 1) >= 0 {
			return pyVal{}, false
		}
		name := string(a.text(param))
		for _, e := range elems {
			v, ok := a.pyEval(body, &pyEnv{name: name, v: e, up: env})
			if !ok {
				return pyVal{}, false
			}
			out.l = append(out.l, v)
		}
		return out, true
	}
	return pyVal{}, false
}

// pyApply1 applies a one-argument builtin to a value (for map).
func pyApply1(name string, v pyVal) (pyVal, bool) {
	switch name {
	case "chr":
		if v.k == pvInt && v.i >= 0 && v.i <= utf8.MaxRune {
			return pyString(utf8.AppendRune(nil, rune(v.i)), true), true
		}
	case "ord":
		if r, size := utf8.DecodeRune(v.b); v.k == pvStr && size == len(v.b) && size > 0 {
			return pyInt(int64(r), v.dec), true
		}
	case "str":
		b, ok := pyToStr(v)
		return pyString(b, v.dec), ok
	case "int":
		if v.k == pvInt {
			return v, true
		}
		if v.k == pvStr {
			i, err := strconv.ParseInt(strings.TrimSpace(string(v.b)), 10, 64)
			return pyInt(i, v.dec), err == nil
		}
	}
	return pyVal{}, false
}

// pyMethod folds str/bytes method calls on a constant receiver.
func (a *analysis) pyMethod(fn int32, recv pyVal, p pyArgs, env *pyEnv) (pyVal, bool) {
	k := a.k
	dec := recv.dec
	switch string(a.text(a.child(fn, k.fAttribute))) {
	case "join":
		v, ok := a.pyEval(a.pyArg(p, 0, ""), env)
		if !ok {
			return pyVal{}, false
		}
		elems, ok := pyIter(v)
		if !ok {
			return pyVal{}, false
		}
		var out []byte
		dec := v.dec // joining is no decoding: ''.join(map(chr, …)) is, through chr
		for i, e := range elems {
			if e.k != recv.k || len(out)+len(e.b)+len(recv.b) > maxPyValue {
				return pyVal{}, false
			}
			if i > 0 {
				out = append(out, recv.b...)
			}
			out = append(out, e.b...)
			dec = dec || e.dec
		}
		return pyVal{k: recv.k, b: out, dec: dec}, true
	case "decode", "encode":
		enc, ok := a.pyArgStr(p, 0, "encoding", env)
		if !ok {
			return pyVal{}, false
		}
		return pyCodec(recv, enc, string(a.text(a.child(fn, k.fAttribute))) == "encode")
	case "replace":
		o, ok1 := a.pyEval(a.pyArg(p, 0, ""), env)
		w, ok2 := a.pyEval(a.pyArg(p, 1, ""), env)
		if !ok1 || !ok2 || o.k != recv.k || w.k != recv.k || len(o.b) == 0 || len(p.pos) > 2 {
			return pyVal{}, false
		}
		if bytes.Count(recv.b, o.b)*len(w.b)+len(recv.b) > maxPyValue {
			return pyVal{}, false
		}
		return pyVal{k: recv.k, b: bytes.ReplaceAll(recv.b, o.b, w.b), dec: true}, true
	case "lower":
		return pyVal{k: recv.k, b: bytes.ToLower(recv.b), dec: dec}, len(p.pos) == 0
	case "upper":
		return pyVal{k: recv.k, b: bytes.ToUpper(recv.b), dec: dec}, len(p.pos) == 0
	case "strip", "lstrip", "rstrip":
		cut := " \t\n\r\v\f"
		if len(p.pos) > 0 {
			c, ok := a.pyEval(p.pos[0], env)
			if !ok || c.k != recv.k {
				return pyVal{}, false
			}
			cut = string(c.b)
		}
		b := recv.b
		switch string(a.text(a.child(fn, k.fAttribute))) {
		case "strip":
			b = bytes.Trim(b, cut)
		case "lstrip":
			b = bytes.TrimLeft(b, cut)
		default:
			b = bytes.TrimRight(b, cut)
		}
		return pyVal{k: recv.k, b: b, dec: dec}, true
	case "split":
		if len(p.pos) != 1 {
			return pyVal{}, false
		}
		sep, ok := a.pyEval(p.pos[0], env)
		if !ok || sep.k != recv.k || len(sep.b) == 0 {
			return pyVal{}, false
		}
		parts := bytes.Split(recv.b, sep.b)
		if len(parts) > maxPyList {
			return pyVal{}, false
		}
		out := pyVal{k: pvList, l: make([]pyVal, len(parts)), dec: dec}
		for i, s := range parts {
			out.l[i] = pyVal{k: recv.k, b: s, dec: dec}
		}
		return out, true
	case "format":
		if recv.k != pvStr {
			return pyVal{}, false
		}
		pos := make([]pyVal, len(p.pos))
		for i, c := range p.pos {
			v, ok := a.pyEval(c, env)
			if !ok {
				return pyVal{}, false
			}
			pos[i] = v
		}
		kw := map[string]pyVal{}
		for _, c := range p.kw {
			v, ok := a.pyEval(a.child(c, k.fValue), env)
			if !ok {
				return pyVal{}, false
			}
			kw[string(a.text(a.child(c, k.fName)))] = v
		}
		return pyFormat(recv, pos, kw)
	}
	return pyVal{}, false
}

// pyCodec applies a codecs encoding by name: text encodings convert
// between str and bytes; rot13, hex, base64, zlib and unicode_escape
// transform.
func pyCodec(v pyVal, enc string, encode bool) (pyVal, bool) {
	if v.k != pvStr && v.k != pvBytes {
		return pyVal{}, false
	}
	e := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(enc)), "-", "_")
	switch e {
	case "", "utf_8", "utf8", "ascii", "us_ascii", "latin_1", "latin1", "iso_8859_1", "iso8859_1", "cp1252":
		latin := e != "" && e != "utf_8" && e != "utf8" && e != "ascii" && e != "us_ascii"
		switch {
		case encode && v.k == pvStr:
			if latin {
				var out []byte
				for _, r := range string(v.b) {
					if r > 0xff {
						return pyVal{}, false
					}
					out = append(out, byte(r))
				}
				return pyBytesVal(out, v.dec), true
			}
			return pyBytesVal(v.b, v.dec), true
		case !encode && v.k == pvBytes:
			if latin {
				var out []byte
				for _, c := range v.b {
					out = utf8.AppendRune(out, rune(c))
				}
				return pyString(out, v.dec), true
			}
			if !utf8.Valid(v.b) {
				return pyVal{}, false
			}
			return pyString(v.b, v.dec), true
		}
		return pyVal{}, false
	case "rot13", "rot_13":
		out := make([]byte, len(v.b))
		for i, c := range v.b {
			switch {
			case c >= 'a' && c <= 'z':
				c = 'a' + (c-'a'+13)%26
			case c >= 'A' && c <= 'Z':
				c = 'A' + (c-'A'+13)%26
			}
			out[i] = c
		}
		return pyVal{k: v.k, b: out, dec: true}, true
	case "unicode_escape", "string_escape", "raw_unicode_escape":
		if encode {
			return pyVal{}, false
		}
		out, ok := pyUnescape(nil, v.b, false)
		return pyString(out, true), ok
	}
	var f func([]byte) ([]byte, bool)
	switch e {
	case "hex", "hex_codec":
		f = unhex
		if encode {
			f = func(b []byte) ([]byte, bool) { return []byte(hex.EncodeToString(b)), true }
		}
	case "base64", "base_64", "base64_codec":
		f = b64Std
		if encode {
			f = func(b []byte) ([]byte, bool) { return []byte(base64.StdEncoding.EncodeToString(b)), true }
		}
	case "zlib", "zip", "zlib_codec":
		if encode {
			return pyVal{}, false
		}
		f = func(b []byte) ([]byte, bool) { return inflate(b, 15) }
	case "bz2", "bz2_codec":
		if encode {
			return pyVal{}, false
		}
		f = bunzip2
	default:
		return pyVal{}, false
	}
	out, ok := f(v.b)
	if !ok || len(out) > maxPyValue {
		return pyVal{}, false
	}
	// Python 3's bytes-to-bytes codecs return bytes; Python 2's
	// "...".decode('base64') returned a str of the same bytes.
	return pyBytesVal(out, true), true
}

// Decoders. Each is lenient the way Python's default (non-validating)
// decoders are about characters outside the alphabet and bounded in output.

func b64Std(s []byte) ([]byte, bool) { return b64(s, base64.RawStdEncoding, '+', '/') }
func b64URL(s []byte) ([]byte, bool) { return b64(s, base64.RawURLEncoding, '-', '_') }

func b64(s []byte, enc *base64.Encoding, c62, c63 byte) ([]byte, bool) {
	clean := make([]byte, 0, len(s))
	for _, c := range s {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == c62 || c == c63 {
			clean = append(clean, c)
		} else if c == '=' {
			break
		}
	}
	if len(clean)%4 == 1 {
		return nil, false
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(out, clean)
	return out[:n], err == nil
}

func b32(s []byte) ([]byte, bool) {
	clean := bytes.TrimRight(bytes.TrimSpace(s), "=")
	out, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(clean))
	return out, err == nil
}

func unhex(s []byte) ([]byte, bool) {
	clean := make([]byte, 0, len(s))
	for _, c := range s {
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			clean = append(clean, c)
		}
	}
	out := make([]byte, len(clean)/2)
	_, err := hex.Decode(out, clean)
	return out, err == nil && len(clean)%2 == 0
}

func a85(s []byte) ([]byte, bool) {
	s = bytes.TrimSpace(s)
	s = bytes.TrimPrefix(bytes.TrimSuffix(s, []byte("~>")), []byte("<~"))
	out := make([]byte, 4*len(s)/5+8+4*bytes.Count(s, []byte("z")))
	n, _, err := ascii85.Decode(out, s, true)
	return out[:n], err == nil
}

const b85Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"

var b85Index = func() (t [256]int16) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(b85Alphabet) {
		t[b85Alphabet[i]] = int16(i)
	}
	return t
}()

// b85 decodes base64.b85decode's RFC 1924 alphabet: 5 characters per 4
// bytes, a short last group padded with the highest digit.
func b85(s []byte) ([]byte, bool) {
	out := make([]byte, 0, len(s)*4/5+4)
	for i := 0; i < len(s); i += 5 {
		var acc uint64
		n := min(5, len(s)-i)
		if n == 1 {
			return nil, false
		}
		for j := range 5 {
			d := int16(84)
			if j < n {
				if d = b85Index[s[i+j]]; d < 0 {
					return nil, false
				}
			}
			acc = acc*85 + uint64(d)
		}
		if acc > 0xffffffff {
			return nil, false
		}
		w := []byte{byte(acc >> 24), byte(acc >> 16), byte(acc >> 8), byte(acc)}
		out = append(out, w[:n-1]...)
	}
	return out, true
}

// inflate is zlib.decompress with Python's wbits conventions: 9..15 zlib,
// -15..-9 raw deflate, 25..31 gzip, 40..47 zlib or gzip by header.
func inflate(b []byte, wbits int64) ([]byte, bool) {
	var r io.Reader
	var err error
	switch {
	case wbits < 0:
		r = flate.NewReader(bytes.NewReader(b))
	case wbits >= 25 && wbits <= 31, wbits >= 40 && len(b) > 1 && b[0] == 0x1f && b[1] == 0x8b:
		r, err = gzip.NewReader(bytes.NewReader(b))
	default:
		r, err = zlib.NewReader(bytes.NewReader(b))
	}
	if err != nil {
		return nil, false
	}
	return readBounded(r)
}

func gunzip(b []byte) ([]byte, bool) { return inflate(b, 31) }

func bunzip2(b []byte) ([]byte, bool) { return readBounded(bzip2.NewReader(bytes.NewReader(b))) }

// readBounded reads r to the end, failing past maxPyValue bytes.
func readBounded(r io.Reader) ([]byte, bool) {
	out, err := io.ReadAll(io.LimitReader(r, maxPyValue+1))
	if err != nil || len(out) > maxPyValue {
		return nil, false
	}
	return out, true
}
