#!/usr/bin/env python3
"""trojan_npm.py: real benign npm packages with one defanged malicious unit
inserted, for training only.

Real npm compromises rarely ship a package that is all malware: a worm or a
hijacked maintainer account adds thirty lines to a real library (appended to
its main file, in a new module its main file requires, in a file the main
file already requires, or as a new install hook). synth_npm.py writes small
packages; this takes real tarballs of the benign npm corpora
(~/.cache/moat-data/npm and npm-extra) and inserts one unit of synth_npm's
malicious families into each, so the model sees the attack inside large,
ordinary, sometimes minified code.

Only hosts that data.split (the same function, same arguments train.py
uses) puts in the TRAINING split, and in training again under train.py's
--dev-split re-split, are used: the clean copy of a host is never a
validation package while its trojanised copy is trained on. The split is
recomputed here over the names of every corpus run.sh exports (the lists in
MOAT_DATA, npm-extra.tsv and the synthetic lists), as train.py would see them.
Clean copies are not written (they already are in the benign corpora). Each
trojanised copy keeps the host's name and gets the next patch version, like a
malicious release.

  trojan_npm.py --out DIR [--n 300] [--seed 11] [--data MOAT_DATA] [--cache MOAT_DATA_CACHE] [--synth DIR]
writes DIR/malicious/*.tgz and DIR/malicious.tsv (source npm-trojan).
"""
import argparse
import csv
import gzip
import io
import json
import os
import posixpath
import random
import re
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402  (the split train.py uses)
import synth_npm  # noqa: E402  (the malicious families)

MAX_HOST_BYTES = 4 << 20  # tarballs larger than this are not used as hosts


def read_tsv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def corpus_records(data_dir, synth_dir):
    """Pseudo-records (name, label, first_seen, campaign) of every corpus
    run.sh exports, enough for data.split to cluster them as train.py does."""
    recs = []
    lists = [("malicious/pypi-train.tsv", 1), ("malicious/npm-snippets.tsv", None), ("benign/npm-hard-negatives.tsv", 0),
             ("benign/pypi-sdist.tsv", 0), ("benign/pypi-src.tsv", 0), ("benign/pypi-wheels.tsv", 0),
             ("benign/npm.tsv", 0), ("benign/debian-python.tsv", 0)]
    for rel, label in lists:
        p = os.path.join(data_dir, rel)
        if not os.path.exists(p):
            print(f"trojan_npm: warning: {p} missing; the split may differ from train.py's", file=sys.stderr)
            continue
        for r in read_tsv(p):
            lab = label
            if lab is None:
                lab = 0 if (r.get("note") or "").upper().startswith("BENIGN") else 1
            recs.append({"name": r.get("package") or r.get("name") or "", "label": lab,
                         "first_seen": r.get("date_added") or r.get("first_seen") or "",
                         "campaign": r.get("kam193_campaign") or "", "source": rel})
    for r in read_tsv(os.path.join(HERE, "npm-extra.tsv")):
        recs.append({"name": r["package"], "label": 0, "first_seen": "", "campaign": "", "source": "npm-extra"})
    if synth_dir:
        for lab, f in ((1, "malicious.tsv"), (0, "benign.tsv")):
            p = os.path.join(synth_dir, f)
            if os.path.exists(p):
                for r in read_tsv(p):
                    recs.append({"name": r["package"], "label": lab, "first_seen": "", "campaign": "", "source": "npm-synthetic"})
    return recs


def training_names(recs, val_frac, date_quantile):
    """Names whose every record is in training, both in the validation split
    and in --dev-split's re-split of training."""
    data.split(recs, val_frac=val_frac, date_quantile=date_quantile)
    tr = [r for r in recs if r["split"] == "train"]
    data.split(tr, val_frac=val_frac, date_quantile=date_quantile, hash_benign=True, salt="dev:")
    ok, bad = set(), set()
    for r in recs:
        (bad if r["split"] != "train" else ok).add(r["name"])
    return ok - bad


# --- reading and rewriting a host tarball ----------------------------------------

def load_tgz(path):
    with open(path, "rb") as f:
        raw = f.read()
    members = []
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:*") as tf:
        for m in tf.getmembers():
            data_ = tf.extractfile(m).read() if m.isfile() else None
            members.append((m, data_))
    return members


def package_root(members):
    for m, _ in members:
        if m.isfile() and posixpath.basename(m.name) == "package.json" and m.name.count("/") <= 1:
            return posixpath.dirname(m.name)
    return None


def resolve(files, base, spec):
    """A relative module specifier to an existing file path, as Node would."""
    p = posixpath.normpath(posixpath.join(base, spec))
    for cand in (p, p + ".js", p + ".cjs", p + ".mjs", posixpath.join(p, "index.js"), posixpath.join(p, "index.cjs")):
        if cand in files:
            return cand
    return None


def entry_of(pj, files):
    """The package's main module: exports["."] (require/default/node), main,
    or index.js."""
    cands = []
    ex = pj.get("exports")
    if isinstance(ex, dict):
        ex = ex.get(".", ex if not any(k.startswith(".") for k in ex) else None)
    for _ in range(4):
        if isinstance(ex, dict):
            ex = ex.get("require") or ex.get("node") or ex.get("default") or ex.get("import")
    if isinstance(ex, str):
        cands.append(ex)
    if isinstance(pj.get("main"), str):
        cands.append(pj["main"])
    cands.append("index.js")
    for c in cands:
        r = resolve(files, "", c.lstrip("./") if c.startswith("./") else c)
        if r and r.endswith((".js", ".cjs", ".mjs")):
            return r
    return None


REQ_RE = re.compile(r"""require\(\s*['"](\.{1,2}/[^'"]+)['"]\s*\)""")


def is_esm(path, pj, src):
    if path.endswith(".mjs"):
        return True
    if path.endswith(".cjs"):
        return False
    return pj.get("type") == "module" or bool(re.search(r"^\s*(import|export)\s", src[:20000], re.M))


def minified(src):
    lines = src.split("\n")
    return len(src) > 2000 and (len(src) / max(1, len(lines)) > 300 or max(len(l) for l in lines) > 5000)


def bump(v):
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)", v or "")
    if not m:
        return "1.0.1"
    return f"{m.group(1)}.{m.group(2)}.{int(m.group(3)) + 1}"


def trojanise(rng, host_name, members):
    """Inserts one malicious unit; returns (members, family, placement, new version)."""
    root = package_root(members)
    if root is None:
        return None
    pre = root + "/" if root else ""
    files = {m.name[len(pre):]: d for m, d in members if m.isfile() and m.name.startswith(pre)}
    pj = json.loads(files["package.json"].decode("utf-8", "replace"))
    if not isinstance(pj, dict):
        return None
    main = entry_of(pj, files)
    u = synth_npm.malicious_unit(rng, host_name)
    code, trig = u["code"], u["trigger"]
    changed = {}
    scripts = dict(pj.get("scripts") or {})
    for k, v in u["scripts"].items():
        scripts[k] = v + (" && " + scripts[k] if scripts.get(k) else "")
    placement, code_file = "", ""
    if trig == "bin" and code:
        trig = "install" if rng.random() < 0.3 else "import"
    if trig in ("import", "browser") and code and main is None:
        trig = "install"
    if trig == "install" and code:
        hook = rng.choice(["scripts/postinstall.js", "install.js", "lib/setup.js", "bundle.js", "build/check.cjs", "tools/prepare.cjs"])
        if pj.get("type") == "module" and hook.endswith(".js"):
            hook = hook[:-3] + ".cjs"  # the unit is CommonJS
        if hook in files:
            hook = hook.replace(".", "-" + str(rng.randint(2, 99)) + ".", 1)
        changed[hook] = code.encode()
        k = rng.choice(["postinstall", "postinstall", "preinstall", "install"])
        cmd = rng.choice([f"node {hook}", f"node ./{hook} || true", f"node {hook} >/dev/null 2>&1"])
        scripts[k] = cmd + (" && " + scripts[k] if scripts.get(k) else "")
        placement, code_file = f"install hook {k}: {hook}", hook
    elif trig in ("import", "browser") and code:
        src = files[main].decode("utf-8", "replace")
        esm = is_esm(main, pj, src)
        base = posixpath.dirname(main)
        reqs = [r for r in (resolve(files, base, s) for s in REQ_RE.findall(src[:200000])) if r and not r.endswith(".mjs")]
        how = rng.choice(["append", "append", "newfile", "required"] if reqs else ["append", "append", "newfile"])
        if esm and how != "required":
            how = "newfile-esm"
        if how == "append":
            text = synth_npm.minify(code) if minified(src) or rng.random() < 0.25 else code
            if rng.random() < 0.7:
                changed[main] = (src.rstrip("\n") + "\n" + text).encode()
                placement, code_file = f"appended to main {main}", main
            else:
                m = re.match(r"^(#!.*\n)?(\s*['\"]use strict['\"];?\s*\n)?", src)
                cut = m.end() if m else 0
                changed[main] = (src[:cut] + text + src[cut:]).encode()
                placement, code_file = f"prepended to main {main}", main
        elif how == "required":
            tgt = rng.choice(reqs)
            tsrc = files[tgt].decode("utf-8", "replace")
            text = synth_npm.minify(code) if minified(tsrc) else code
            changed[tgt] = (tsrc.rstrip("\n") + "\n" + text).encode()
            placement, code_file = f"appended to {tgt} (required by main {main})", tgt
        else:
            ext = ".cjs" if esm or pj.get("type") == "module" else ".js"
            nm = rng.choice(["polyfill", "compat", "telemetry", "env", "runtime-check", "utils/init", "lib/shim"]) + ext
            new = posixpath.normpath(posixpath.join(base, nm))
            if new in files:
                new = new[: -len(ext)] + "-" + str(rng.randint(2, 99)) + ext
            rel = posixpath.relpath(new, base or ".")
            rel = rel if rel.startswith(".") else "./" + rel
            changed[new] = code.encode()
            if how == "newfile-esm":
                line = f"import '{rel}';\n"
            else:
                line = f"require('{rel[:-3] if rel.endswith('.js') else rel}');\n"
            m = re.match(r"^(#!.*\n)?(\s*['\"]use strict['\"];?\s*\n)?", src)
            cut = m.end() if m else 0
            changed[main] = (src[:cut] + line + src[cut:]).encode()
            code_file = new
            placement = f"new file {new} {'imported' if how == 'newfile-esm' else 'required'} from main {main}"
    else:
        placement = "install script: " + ", ".join(f"{k}={v}" for k, v in u["scripts"].items())
    # The unit's own files: data-file payloads sit beside the code that reads
    # them (it reads path.join(__dirname, ...)); others at the package root,
    # where its install script names them.
    code_dir = posixpath.dirname(code_file) if u["family"] == "datafile" and code_file else ""
    for p, d in u["files"].items():
        changed[posixpath.join(code_dir, p)] = d if isinstance(d, bytes) else d.encode()
    if scripts:
        pj["scripts"] = scripts
    ver = bump(pj.get("version"))
    pj["version"] = ver
    changed["package.json"] = (json.dumps(pj, indent=2) + "\n").encode()
    out = []
    done = set()
    template = next(m for m, _ in members if m.isfile())
    for m, d in members:
        rel = m.name[len(pre):] if m.name.startswith(pre) else None
        if rel in changed:
            d = changed[rel]
            done.add(rel)
        out.append((m, d))
    for rel in sorted(set(changed) - done):
        ti = tarfile.TarInfo(pre + rel)
        ti.mtime, ti.uid, ti.gid = template.mtime, template.uid, template.gid
        ti.mode = 0o755 if changed[rel][:4] == b"\x7fELF" else 0o644
        out.append((ti, changed[rel]))
    return out, u["family"], placement, ver


def write_tgz(path, members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for m, d in members:
            if d is not None:
                m.size = len(d)
                tf.addfile(m, io.BytesIO(d))
            else:
                tf.addfile(m)
    with open(path, "wb") as f:
        f.write(gzip.compress(buf.getvalue(), mtime=0))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--data", default=os.environ.get("MOAT_DATA", os.path.join(HERE, "..", "..", "..", "shared", "data")))
    ap.add_argument("--cache", default=os.environ.get("MOAT_DATA_CACHE", os.path.expanduser("~/.cache/moat-data")))
    ap.add_argument("--synth", default="", help="synth_npm.py's output folder (its names join the split)")
    ap.add_argument("--val-frac", type=float, default=0.2, help="as train.py's --val-frac")
    ap.add_argument("--date-quantile", type=float, default=0.8, help="as train.py's --date-quantile")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    recs = corpus_records(args.data, args.synth)
    train = training_names(recs, args.val_frac, args.date_quantile)
    reserved = synth_npm.reserved_names()
    hosts = []
    for lst in (os.path.join(args.data, "benign", "npm.tsv"), os.path.join(HERE, "npm-extra.tsv")):
        for r in read_tsv(lst):
            p = os.path.join(args.cache, r["relative_path"])
            if r["package"] not in train or r["package"].lower() in reserved or not os.path.exists(p):
                continue
            size = int(r.get("bytes") or os.path.getsize(p))
            if size <= MAX_HOST_BYTES:
                hosts.append((r["package"], r["version"], p, size))
    if not hosts:
        raise SystemExit("trojan_npm: no host packages (fetch the benign npm corpora first)")
    hosts.sort(key=lambda h: h[3])
    # Even spread over host sizes: n picks from n equal slices of the sorted list.
    picks, used = [], set()
    for i in range(args.n):
        lo = len(hosts) * i // args.n
        hi = max(lo + 1, len(hosts) * (i + 1) // args.n)
        for _ in range(8):
            h = hosts[rng.randrange(lo, hi)]
            if h[0] not in used:
                used.add(h[0])
                picks.append(h)
                break
    d = os.path.join(args.out, "malicious")
    os.makedirs(d, exist_ok=True)
    rows, counts = [], {}
    for name, ver, p, size in picks:
        try:
            res = trojanise(rng, name, load_tgz(p))
        except (tarfile.TarError, OSError, ValueError, KeyError, StopIteration, UnicodeError) as e:
            print(f"trojan_npm: skipping {name}@{ver}: {e}", file=sys.stderr)
            continue
        if res is None:
            continue
        members, fam, placement, nv = res
        rel = f"malicious/{name.replace('/', '__')}-{nv}.tgz"
        write_tgz(os.path.join(args.out, rel), members)
        counts[fam] = counts.get(fam, 0) + 1
        rows.append(["npm", name, nv, rel, "npm-trojan",
                     f"MALICIOUS trojanised {name}@{ver} ({size} bytes): {fam}, {placement}"])
    with open(os.path.join(args.out, "malicious.tsv"), "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["ecosystem", "package", "version", "relative_path", "source", "note"])
        w.writerows(rows)
    print(f"trojan_npm: {len(rows)} trojanised packages from {len(hosts)} training-split hosts in {args.out}")
    for fam, c in sorted(counts.items()):
        print(f"  {fam:12} {c}")


if __name__ == "__main__":
    main()
