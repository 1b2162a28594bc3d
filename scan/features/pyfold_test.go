package features

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/ascii85"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/moatproject/moat/scan/sequence"
)

// Helpers that build obfuscated forms of a defanged snippet.

func b64s(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func zlibB64(s string) string {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write([]byte(s))
	w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func rot13(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = 'a' + (c-'a'+13)%26
		case c >= 'A' && c <= 'Z':
			b[i] = 'A' + (c-'A'+13)%26
		}
	}
	return string(b)
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

func intList(s string, key byte) string {
	parts := make([]string, len(s))
	for i := range len(s) {
		parts[i] = itoa(int(s[i] ^ key))
	}
	return strings.Join(parts, ", ")
}

// pyQuote writes s as a single-quoted Python literal body (the payloads
// below contain only printable ASCII, newlines and quotes).
func pyQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

// payload is the defanged code the obfuscated exec cases hide: it runs a
// harmless command through subprocess.
const payload = "import subprocess\nsubprocess.call(['true'])\n"

// TestPythonFoldEquivalence checks that each obfuscated form yields the
// behaviour tokens of its plain form.
func TestPythonFoldEquivalence(t *testing.T) {
	cases := []struct {
		name, plain, obf string
		want             []string
	}{
		{"getattr builtins map chr", `eval(s)`,
			"import builtins\ngetattr(builtins, ''.join(map(chr, [101, 118, 97, 108])))(s)", []string{"eval.call"}},
		{"getattr __builtins__ chr chain", `exec(s)`,
			"getattr(__builtins__, chr(101) + chr(120) + chr(101) + chr(99))(s)", []string{"eval.call"}},
		{"globals builtins", `eval(s)`,
			"getattr(globals()['__builtins__'], 'ev' + 'al')(s)", []string{"eval.call"}},
		{"globals subscript", `eval(s)`, "globals()['ev' + 'al'](s)", []string{"eval.call"}},
		{"vars builtins", `exec(s)`, "import builtins\nvars(builtins)['ex' 'ec'](s)", []string{"eval.call"}},
		{"builtins open", `open('/tmp/x').read()`, "import builtins\ngetattr(builtins, 'op' + 'en')('/tmp/x').read()",
			[]string{"fs.read"}},
		{"__import__ concat", "import os\nos.system('true')", "__import__('o' + 's').system('true')",
			[]string{"os.import", "process.call"}},
		{"__import__ b64 name", "import subprocess\nsubprocess.call(['true'])",
			"import base64\n__import__(base64.b64decode('" + b64s("subprocess") + "').decode()).call(['true'])",
			[]string{"process.import", "process.call"}},
		{"import_module reversed", "import subprocess\nsubprocess.Popen(['true'])",
			"import importlib\nimportlib.import_module('ssecorpbus'[::-1]).Popen(['true'])",
			[]string{"process.import", "process.call"}},
		{"__import__ alias later call", "import os\nos.system('true')",
			"m = __import__(''.join(['o', 's']))\nm.system('true')", []string{"os.import", "process.call"}},
		{"sys.modules", "import os\nos.system('true')", "import sys\nsys.modules['o' + 's'].system('true')",
			[]string{"process.call"}},
		{"percent format", "import os\nos.system('true')", "import os\ngetattr(os, '%s%s' % ('sys', 'tem'))('true')",
			[]string{"process.call"}},
		{"str.format", "import os\nos.system('true')", "import os\ngetattr(os, '{}{}'.format('sys', 'tem'))('true')",
			[]string{"process.call"}},
		{"f-string and bound name", "import os\nos.system('true')", "import os\np = 'sys'\ngetattr(os, f'{p}tem')('true')",
			[]string{"process.call"}},
		{"hex escapes", "import os\nos.system('true')", "import os\ngetattr(os, '\\x73\\x79\\x73\\x74\\x65\\x6d')('true')",
			[]string{"process.call"}},
		{"bytes fromhex", "import os\nos.system('true')",
			"import os\ngetattr(os, bytes.fromhex('" + hex.EncodeToString([]byte("system")) + "').decode())('true')",
			[]string{"process.call"}},
		{"codecs rot13", "import os\nos.system('true')", "import os, codecs\ngetattr(os, codecs.decode('flfgrz', 'rot13'))('true')",
			[]string{"process.call"}},
		{"string constants", "import os\nos.system('true')",
			"import os, string\ngetattr(os, string.ascii_lowercase[18] + 'ys' + string.ascii_letters[19:20] + 'em')('true')",
			[]string{"process.call"}},
		{"bound once env name", "import os\nos.environ['GITHUB_TOKEN']",
			"import os\nk = 'GITHUB_' + 'TOKEN'\nos.environ[k]", []string{"env.read.secret"}},
		{"exec b64", payload, "import base64\nexec(base64.b64decode('" + b64s(payload) + "'))",
			[]string{"process.import", "process.call"}},
		{"exec zlib b64", payload, "import zlib, base64\nexec(zlib.decompress(base64.b64decode('" + zlibB64(payload) + "')))",
			[]string{"process.import", "process.call"}},
		{"exec rot13", payload, "import codecs\nexec(codecs.decode(" + pyQuote(rot13(payload)) + ", 'rot_13'))",
			[]string{"process.import", "process.call"}},
		{"exec reversed", payload, "exec(" + pyQuote(reverse(payload)) + "[::-1])", []string{"process.import", "process.call"}},
		{"exec hex", payload, "import binascii\nexec(binascii.unhexlify('" + hex.EncodeToString([]byte(payload)) + "'))",
			[]string{"process.import", "process.call"}},
		{"exec codecs hex", payload, "import codecs\nexec(codecs.decode('" + hex.EncodeToString([]byte(payload)) + "', 'hex'))",
			[]string{"process.import", "process.call"}},
		{"exec xor comprehension", payload,
			"key = 0x2a\ndata = [" + intList(payload, 0x2a) + "]\nexec(bytes([c ^ key for c in data]).decode())",
			[]string{"process.import", "process.call"}},
		{"exec chr generator", payload,
			"exec(''.join(chr(c) for c in [" + intList(payload, 0) + "]))", []string{"process.import", "process.call"}},
		{"exec bytes list", payload, "exec(bytes([" + intList(payload, 0) + "]).decode('utf-8'))",
			[]string{"process.import", "process.call"}},
		{"exec urlsafe b64 of bound name", payload,
			"import base64\nblob = '" + base64.URLEncoding.EncodeToString([]byte(payload)) + "'\nexec(base64.urlsafe_b64decode(blob))",
			[]string{"process.import", "process.call"}},
		{"exec b85", payload, "import base64\nexec(base64.b85decode(" + pyQuote(b85enc(payload)) + "))",
			[]string{"process.import", "process.call"}},
		{"exec a85", payload, "import base64\nexec(base64.a85decode(" + pyQuote(a85enc(payload)) + ").decode())",
			[]string{"process.import", "process.call"}},
		{"exec codecs base64", payload, "import codecs\nexec(codecs.decode(b'" + b64s(payload) + "', 'base64'))",
			[]string{"process.import", "process.call"}},
		{"exec py2 str.decode", payload, "exec('" + hex.EncodeToString([]byte(payload)) + "'.decode('hex'))",
			[]string{"process.import", "process.call"}},
		{"exec gzip wbits", payload, "import zlib, base64\nexec(zlib.decompress(base64.b64decode('" + gzipB64(payload) + "'), 16 + zlib.MAX_WBITS))",
			[]string{"process.import", "process.call"}},
		{"compile b32", payload, "import base64\ncode = compile(base64.b32decode('" + b32enc(payload) + "'), '<s>', 'exec')",
			[]string{"process.import", "process.call"}},
		{"exec plain literal", payload, "exec(" + pyQuote(payload) + ")", []string{"process.import", "process.call"}},
		{"exec replace", "import os\nos.system('true')", "exec('imXport os;os.sysXtem(\"true\")'.replace('X', ''))",
			[]string{"os.import", "process.call"}},
		{"decoded url", "import requests\nrequests.get('https://webhook.site/defanged')",
			"import base64, requests\nrequests.get(base64.b64decode('" + b64s("https://webhook.site/defanged") + "').decode())",
			[]string{"net.call", "url", "url.webhook"}},
	}
	e := newTestExtractor(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plain := extract(t, e, "pkg/plain.py", tc.plain)
			obf := extract(t, e, "pkg/obf.py", tc.obf)
			checkWellFormed(t, obf, "pkg/obf.py")
			for _, tok := range tc.want {
				if !slices.Contains(tokens(plain), tok) {
					t.Errorf("plain form lacks %s:\n%s", tok, dump(plain))
				}
				if !slices.Contains(tokens(obf), tok) {
					t.Errorf("obfuscated form lacks %s:\n%s", tok, dump(obf))
				}
			}
		})
	}
}

// TestPythonDecodedPayload checks where a decoded payload's events land:
// at the exec line, after eval.call, eval.decoded and eval.payload.
func TestPythonDecodedPayload(t *testing.T) {
	e := newTestExtractor(t)
	src := "import base64\n\n\ndef go():\n    exec(base64.b64decode('" + b64s(payload) + "'))\n\ngo()\n"
	fe := extract(t, e, "pkg/mod.py", src)
	want := []string{"encoding.import", "string.base64", "encoding.call", "eval.call", "eval.decoded", "eval.payload", "process.import", "process.call"}
	if got := tokens(fe); !slices.Equal(got, want) {
		t.Fatalf("tokens = %v, want %v:\n%s", got, want, dump(fe))
	}
	for _, ev := range fe.Events[1:] {
		if ev.Line != 5 || !strings.HasPrefix(ev.Snippet, "exec(base64.b64decode(") {
			t.Errorf("%s at line %d %q, want the exec line 5", ev.Token, ev.Line, ev.Snippet)
		}
	}
	if !slices.Contains(fe.Imports, "subprocess") {
		t.Errorf("imports %v lack the payload's subprocess", fe.Imports)
	}

	// A payload that imports a module the file already imported adds no
	// second import token.
	fe = extract(t, e, "pkg/mod.py", "import subprocess, base64\nexec(base64.b64decode('"+b64s(payload)+"'))\n")
	if n := count(tokens(fe), "process.import"); n != 1 {
		t.Errorf("process.import ×%d, want 1:\n%s", n, dump(fe))
	}

	// Nested payloads expand to a bounded depth.
	inner := payload
	for range 4 {
		inner = "import base64\nexec(base64.b64decode('" + b64s(inner) + "'))\n"
	}
	fe = extract(t, e, "pkg/mod.py", inner)
	if slices.Contains(tokens(fe), "process.call") {
		t.Errorf("payload 4 levels deep was expanded:\n%s", dump(fe))
	}
	if n := count(tokens(fe), "eval.decoded"); n != 1+maxPayloadDepth {
		t.Errorf("eval.decoded ×%d, want %d:\n%s", n, 1+maxPayloadDepth, dump(fe))
	}
}

// TestPythonFoldBenign checks look-alikes that must stay neutral.
func TestPythonFoldBenign(t *testing.T) {
	cases := []struct {
		name, src string
		not       []string
	}{
		{"getattr on an object", "value = getattr(obj, 'name')\nhandler = getattr(self, 'on_' + kind)", []string{"eval.call", "process.call"}},
		{"name bound twice", "import os\nn = 'system'\nn = 'getcwd'\ngetattr(os, n)()", []string{"process.call"}},
		{"loop variable", "import os\nfor n in ['system']:\n    getattr(os, n)('true')", []string{"process.call"}},
		{"parameter shadows", "import os\nn = 'system'\ndef f(n):\n    getattr(os, n)('true')", []string{"process.call"}},
		{"b64 of data", "import base64\nraw = base64.b64decode('" + b64s("hello, world: just some data") + "')",
			[]string{"eval.decoded", "eval.call", "process.call", "url"}},
		{"b64 of binary", "import base64\nraw = base64.b64decode('AAECAwQFBgcICQoLDA0ODw==')", []string{"eval.decoded", "string.base64"}},
		{"exec of unknown", "exec(compile(source, path, 'exec'))", []string{"eval.decoded", "process.call"}},
		{"exec of text that is not code", "exec('hello world, not code')", []string{"eval.decoded"}},
		{"readme", "open('README.md').read()\nopen('data.json', 'rb').read()", []string{"fs.read.nonsource"}},
		{"write png", "open('out.png', 'wb').write(b)", []string{"fs.read.nonsource"}},
		{"publish in prose", "HELP = 'publishing is done by the release workflow'", []string{"publish.self"}},
		{"sha1 hex", "REV = '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12'\nZERO = '0x0000000000000000000000000000000000000000'",
			[]string{"wallet.address"}},
		{"base64 token", "T = '1Zx9Kq2Lm4Np6Rt8Vw0Yb3Dc5Fg7Hj9'\nU = '3JgXsYvQk7fWbP2rT9LmN4cD6hZ8aE1u'", []string{"wallet.address"}},
	}
	e := newTestExtractor(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := extract(t, e, "pkg/mod.py", tc.src)
			for _, tok := range tc.not {
				if slices.Contains(tokens(fe), tok) {
					t.Errorf("unexpected %s:\n%s", tok, dump(fe))
				}
			}
		})
	}
	fe := extract(t, e, "pkg/mod.py", "import base64\nraw = base64.b64decode('"+b64s("hello, world: just some data")+"')")
	if want := []string{"encoding.import", "string.base64", "encoding.call"}; !slices.Equal(tokens(fe), want) {
		t.Errorf("b64 of data: tokens %v, want %v", tokens(fe), want)
	}
}

func TestPythonNewTokens(t *testing.T) {
	cases := []struct {
		token, name, src string
		line             int
	}{
		{"publish.self", "twine argv", "import subprocess\nsubprocess.run(['twine', 'upload', 'dist/*'])", 2},
		{"publish.self", "python -m twine", "import os\nos.system('python -m twine upload --skip-existing dist/*')", 2},
		{"publish.self", "npm publish argv", "import subprocess\nargs = ['npm', 'publish', '--access', 'public']\nsubprocess.check_call(args)", 3},
		{"publish.self", "twine api", "from twine.commands import upload\nupload.main(['dist/*'])", 2},
		{"publish.self", "decoded", "import base64, os\nos.system(base64.b64decode('" + b64s("twine upload dist/*") + "').decode())", 2},
		{"fs.read.nonsource", "open png", "data = open('assets/logo.png', 'rb').read()", 1},
		{"fs.read.nonsource", "join dat", "import os\nwith open(os.path.join(os.path.dirname(__file__), 'blob.DAT'), 'rb') as f:\n    f.read()", 2},
		{"fs.read.nonsource", "path read_bytes", "from pathlib import Path\nb = (Path(__file__).parent / 'fonts' / 'x.woff2').read_bytes()", 2},
		{"fs.read.nonsource", "bound path", "from pathlib import Path\np = Path(here, 'img.jpg')\nraw = p.read_bytes()", 3},
		{"fs.read.nonsource", "pkgutil", "import pkgutil\nblob = pkgutil.get_data(__name__, 'payload.bin')", 2},
		{"fs.read.nonsource", "resources files", "from importlib.resources import files\nb = files('pkg').joinpath('a.ttf').read_bytes()", 2},
		{"fs.read.nonsource", "importlib.resources", "import importlib.resources\nb = importlib.resources.read_binary('pkg', 'sound.wav')", 2},
		{"wallet.address", "eth", "ADDR = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'", 1},
		{"wallet.address", "bech32", "ADDR = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'", 1},
		{"wallet.address", "base58 p2pkh", "addrs = {\n    'btc': '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa',\n}", 2},
		{"wallet.address", "base58 p2sh", "A = \"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy\"", 1},
	}
	e := newTestExtractor(t)
	for _, tc := range cases {
		t.Run(tc.token+"/"+tc.name, func(t *testing.T) {
			fe := extract(t, e, "pkg/mod.py", tc.src)
			checkWellFormed(t, fe, "pkg/mod.py")
			i := slices.IndexFunc(fe.Events, func(ev sequence.Event) bool { return ev.Token == tc.token })
			if i < 0 {
				t.Fatalf("no %s:\n%s", tc.token, dump(fe))
			}
			if ev := fe.Events[i]; ev.Line != tc.line || ev.Snippet == "" {
				t.Errorf("%s at line %d %q, want line %d", tc.token, ev.Line, ev.Snippet, tc.line)
			}
		})
	}
}

func TestIsWalletAddress(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", true},
		{"0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae", true},
		{"0x0000000000000000000000000000000000000000", false},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", false},
		{"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12", false},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", true},
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", true},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", false},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", true},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", true},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", false},
		{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", true},
		{"1Zx9Kq2Lm4Np6Rt8Vw0Yb3Dc5Fg7Hj9", false},
		{"aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Q=", false},
		{"", false},
	} {
		if got := walletAddress([]byte(tc.s)); got != tc.want {
			t.Errorf("walletAddress(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func FuzzIsWalletAddress(f *testing.F) {
	for _, s := range []string{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
		"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bc1", "1", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { walletAddress([]byte(s)) })
}

// TestPythonFoldBounds feeds the evaluator inputs that would be costly
// without its limits; each must finish quickly and stay well-formed.
func TestPythonFoldBounds(t *testing.T) {
	e := newTestExtractor(t)
	for _, src := range []string{
		"a = b\nb = a\ngetattr(os, a)()",
		"s = 'x' * 100000000\nexec(s * 100000000)",
		"exec(''.join(chr(c) for c in range(10**9)))",
		"x = [" + strings.Repeat("1, ", 3000) + "1]\nexec(bytes([c ^ 1 for c in x for d in x]))",
		"import zlib\nexec(zlib.decompress(b'x\\x9c' + b'\\x00' * 10))",
		"exec('a'[::0])",
		"exec(1 << 100)",
		"exec('%s' % ())",
		"exec('{0}'.format())",
		"exec(f'{x!r:>{w}}')",
	} {
		fe := extract(t, e, "pkg/mod.py", src)
		checkWellFormed(t, fe, "pkg/mod.py")
	}
}

func b85enc(s string) string {
	const alpha = b85Alphabet
	b := []byte(s)
	pad := (4 - len(b)%4) % 4
	b = append(b, make([]byte, pad)...)
	var out []byte
	for i := 0; i < len(b); i += 4 {
		v := uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		var g [5]byte
		for j := 4; j >= 0; j-- {
			g[j] = alpha[v%85]
			v /= 85
		}
		out = append(out, g[:]...)
	}
	return string(out[:len(out)-pad])
}

func a85enc(s string) string {
	out := make([]byte, ascii85.MaxEncodedLen(len(s)))
	return string(out[:ascii85.Encode(out, []byte(s))])
}

func gzipB64(s string) string {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write([]byte(s))
	w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func b32enc(s string) string {
	return base32.StdEncoding.EncodeToString([]byte(s))
}

// FuzzPyDecoders checks that the evaluator's decoders never panic and
// respect the output bound on arbitrary input.
func FuzzPyDecoders(f *testing.F) {
	for _, s := range []string{b64s(payload), zlibB64(payload), b85enc(payload), a85enc(payload), b32enc(payload),
		hex.EncodeToString([]byte(payload)), `\x41\u0042\U00000043\101\N{DASH}\`, "x\x9c\x03\x00", "<~z~>", "~~~~~"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		for _, dec := range []func([]byte) ([]byte, bool){b64Std, b64URL, b32, b85, a85, unhex, gunzip, bunzip2,
			func(b []byte) ([]byte, bool) { return inflate(b, 15) }, func(b []byte) ([]byte, bool) { return inflate(b, -15) }} {
			if out, ok := dec(s); ok && len(out) > maxPyValue {
				t.Fatalf("decoded %d bytes, over the bound", len(out))
			}
		}
		pyUnescape(nil, s, false)
		pyUnescape(nil, s, true)
		for _, enc := range []string{"rot13", "hex", "base64", "zlib", "unicode_escape", "latin-1", "utf-8"} {
			pyCodec(pyString(s, false), enc, false)
			pyCodec(pyBytesVal(s, false), enc, true)
		}
		pyPercent(pyString(s, false), pyVal{k: pvList, l: []pyVal{pyInt(65, false), pyString([]byte("x"), false)}})
		pyFormat(pyString(s, false), []pyVal{pyInt(1, false)}, map[string]pyVal{"a": pyString([]byte("b"), false)})
	})
}

// TestJoinIsNotDecoding: str.join of plain strings builds code, it decodes
// nothing (QuTiP compiles "_ode.set_f_params(" + ",".join(names) + ")");
// join over chr() output still is a decoding.
func TestJoinIsNotDecoding(t *testing.T) {
	e := newTestExtractor(t)
	plain := "def f(_ode):\n    names = []\n    names.append('a')\n    s = ','.join(names)\n" +
		"    code = compile('_ode.set_f_params(' + s + ')', '<string>', 'exec')\n    exec(code, locals())\n"
	fe := extract(t, e, "pkg/br.py", plain)
	for _, tok := range []string{"eval.decoded", "eval.payload"} {
		if count(tokens(fe), tok) != 0 {
			t.Errorf("plain join: %s in %v", tok, tokens(fe))
		}
	}
	chrs := "exec(''.join(map(chr, [105, 109, 112, 111, 114, 116, 32, 111, 115])))\n"
	fe = extract(t, e, "pkg/x.py", chrs)
	if count(tokens(fe), "eval.payload") == 0 {
		t.Errorf("join of chr(): no eval.payload in %v", tokens(fe))
	}
}
