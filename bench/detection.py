#!/usr/bin/env python3
"""detection.py - scan moat's detection corpora with a moat binary and summarise.

Used by bench/detection.sh (see there and bench/README.md). Standard library only.

  detection.py scan    --moat BIN --out DIR [--only SOURCE] [--jobs N] ...
  detection.py summary --out DIR

`scan` writes DIR/<source>.tsv, one row per package: every archive goes
through `moat scan --json` (so any moat build can be measured). Archives
inside the corpus .tar files (real malware among them) are read in memory
and handed to moat through named pipes: nothing is unpacked to disk.
Debian .debs are repacked in memory the way `moat dataset` does (the files
under usr/lib/python3*/dist-packages/). Names in the reserved-for-evaluation
list are dropped before scanning. `summary` prints (and writes
DIR/summary.txt) n, flagged, FPR / recall with Wilson 95% intervals per
source and per ecosystem, for all rows and for the rows models/training-set.tsv
puts in the validation split, recall on the latest six months of malicious
PyPI samples, the npm snippets apart, and scan duration percentiles.
"""

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

COLUMNS = ["source", "name", "version", "split", "label", "first_seen", "ecosystem", "score",
           "threshold", "verdict", "error_kind", "duration_ms", "top_findings", "path", "decided_by", "package_score", "unit_max"]

# Corpora: source name (as models/training-set.tsv spells it), ecosystem,
# label ("note": from the list's note column), list, input (relative to the
# data folder "data:", the download cache "cache:" or the repository "repo:").
CORPORA = [
    ("pypi-malregistry", "pypi", "malicious", "data:malicious/pypi-train.tsv", "data:malicious/pypi-train.tar"),
    ("guarddog-npm-snippets", "npm", "note", "data:malicious/npm-snippets.tsv", "data:malicious/npm-snippets.tar"),
    ("npm-hard-negatives", "npm", "benign", "data:benign/npm-hard-negatives.tsv", "data:benign/npm-hard-negatives.tar"),
    ("pypi-sdist", "pypi", "benign", "data:benign/pypi-sdist.tsv", "data:benign/pypi-sdist.tar"),
    ("pypi-src", "pypi", "benign", "data:benign/pypi-src.tsv", "data:benign/pypi-src.tar"),
    ("pypi-wheels", "pypi", "benign", "data:benign/pypi-wheels.tsv", "data:benign/pypi-wheels.tar"),
    ("npm-registry", "npm", "benign", "data:benign/npm.tsv", "cache:npm"),
    ("npm-registry-extra", "npm", "benign", "repo:models/train/npm-extra.tsv", "cache:npm-extra"),
    ("debian-python", "pypi", "benign", "data:benign/debian-python.tsv", "cache:deb"),
    # Held out: picked for measuring the false-positive rate only, never read
    # by training (models/train/npm_extra.py and deb_extra.py say how).
    ("npm-registry-holdout", "npm", "benign", "repo:models/train/npm-holdout.tsv", "cache:npm-holdout"),
    ("debian-python-holdout", "pypi", "benign", "repo:models/train/debian-holdout.tsv", "cache:deb-holdout"),
]

ARCHIVE_EXTS = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip", ".whl", ".deb", ".egg")
MAX_ARCHIVE = 64 << 20  # as moat dataset


def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def norm_name(eco, name):
    return pep503(name) if eco == "pypi" else name.lower()


def read_tsv(p):
    with open(p, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


class Meta:
    """Rows of a corpus list, found by relative_path, else by file name."""

    def __init__(self, path):
        self.by_path, self.by_base = {}, {}
        for r in read_tsv(path):
            r = {k.strip().lower(): (v or "").strip() for k, v in r.items() if k}
            p = r.get("relative_path", "").removeprefix("./")
            self.by_path.setdefault(p, r)
            self.by_base.setdefault(os.path.basename(p), r)

    def lookup(self, p):
        p = p.removeprefix("./")
        return self.by_path.get(p) or self.by_base.get(os.path.basename(p)) or {}


def note_label(note):
    n = note.strip().upper()
    if n.startswith("BENIGN"):
        return "benign"
    if n.startswith(("MALICIOUS", "MIXED", "AMBIGUOUS")):
        return "malicious"
    return ""


def is_archive(name):
    return name.lower().endswith(ARCHIVE_EXTS)


def items_of(inp):
    """Yields (path, key, filename, bytes or None, error) for each archive of a
    folder or a .tar of archives, in a stable order, reading in memory."""
    if os.path.isdir(inp):
        files = []
        for root, _, names in os.walk(inp):
            files += [os.path.join(root, n) for n in names if is_archive(n) and not n.endswith(".part")]
        for f in sorted(files):
            if os.path.getsize(f) > MAX_ARCHIVE:
                yield f, os.path.relpath(f, inp), os.path.basename(f), None, "too_large"
                continue
            with open(f, "rb") as fh:
                yield f, os.path.relpath(f, inp), os.path.basename(f), fh.read(), ""
        return
    with tarfile.open(inp, "r|") as tf:  # a stream: members are read, never extracted
        for m in tf:
            if not m.isreg() or not is_archive(m.name):
                continue
            name = m.name.removeprefix("./")
            if m.size > MAX_ARCHIVE:
                yield inp + "!" + name, name, os.path.basename(name), None, "too_large"
                continue
            yield inp + "!" + name, name, os.path.basename(name), tf.extractfile(m).read(), ""


def parse_ar(b):
    if not b.startswith(b"!<arch>\n"):
        raise ValueError("not an ar archive")
    off, out = 8, []
    while off + 60 <= len(b):
        h = b[off:off + 60]
        name = h[:16].decode("latin-1").strip().rstrip("/")
        size = int(h[48:58].decode("latin-1").strip())
        off += 60
        out.append((name, b[off:off + size]))
        off += size + (size % 2)
    return out


def deb_to_tar(deb):
    """The installed Python code of a python3-* .deb as a tar (in memory)."""
    data = next((d for n, d in parse_ar(deb) if n.startswith("data.tar")), None)
    if data is None:
        raise ValueError("no data.tar member")
    out = io.BytesIO()
    files = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as src, tarfile.open(fileobj=out, mode="w") as dst:
        for m in src:
            if not m.isreg():
                continue
            parts = os.path.normpath("/" + m.name).lstrip("/").split("/", 4)
            if len(parts) < 5 or parts[:2] != ["usr", "lib"] or not parts[2].startswith("python3") \
                    or parts[3] != "dist-packages":
                continue
            ti = tarfile.TarInfo(parts[4])
            ti.size, ti.mode, ti.mtime = m.size, 0o644, m.mtime
            dst.addfile(ti, src.extractfile(m))
            files += 1
    if files == 0:
        raise ValueError("no files under usr/lib/python3*/dist-packages")
    return out.getvalue()


def scan_batch(moat, eco, batch, timeout):
    """Scans a batch of (filename, data) through named pipes with one
    `moat scan --json` run; returns one report dict (or None) per entry."""
    with tempfile.TemporaryDirectory(prefix="moat-detect-") as d:
        fifos = []
        for i, (fn, _) in enumerate(batch):
            p = os.path.join(d, f"{i:05d}-" + re.sub(r"[^A-Za-z0-9._@+-]", "_", fn)[-120:])
            os.mkfifo(p, 0o600)
            fifos.append(p)
        args = [moat, "scan", "--json"] + (["--ecosystem", eco] if eco else []) + fifos
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def feed(p, data):
            try:
                with open(p, "wb") as f:
                    f.write(data)
            except OSError:
                pass  # moat went away (crash): the entry gets no report

        threads = [threading.Thread(target=feed, args=(p, data), daemon=True)
                   for p, (_, data) in zip(fifos, batch)]
        for t in threads:
            t.start()
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        # Unblock writers whose pipe moat never opened.
        for p, t in zip(fifos, threads):
            if t.is_alive():
                try:
                    fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
                    t.join(1)
                    os.close(fd)
                except OSError:
                    pass
        reports = {}
        for line in out.decode("utf-8", "replace").splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            reports[r.get("path")] = r
        res = [reports.get(p) for p in fifos]
        if any(r is None for r in res):
            sys.stderr.write(f"detection: moat exited {proc.returncode} with {res.count(None)} of "
                             f"{len(res)} reports missing: {err.decode('utf-8', 'replace')[-300:]}\n")
        return res


def findings_text(rep, n=3):
    parts = []
    for f in (rep.get("findings") or [])[:n]:
        loc = f.get("file", "") + (f":{f['line']}" if f.get("line") else "")
        w = f" w={f['weight']:.3f}" if f.get("weight") else ""
        parts.append(f"{f.get('feature', '')} {loc}{w}")
    return "; ".join(parts).replace("\t", " ").replace("\n", " ")


def decided_by(rep):
    """What decided the verdict: "package", "unit:KIND:NAME", or the rules
    that fired ("rule:NAME FILE", comma-separated)."""
    hits = rep.get("rules") or []
    if hits:
        return ",".join(f"rule:{h.get('rule', '')} {h.get('file', '')}" for h in hits)
    return rep.get("decided_by", "") or ""


def unit_max(rep):
    """The highest unit score per unit kind: "install=0.12 import=0.99 ..."."""
    best = {}
    for u in rep.get("units") or []:
        k = u.get("kind", "?")
        best[k] = max(best.get(k, 0.0), float(u.get("score", 0)))
    return " ".join(f"{k}={v:.6f}" for k, v in sorted(best.items()))


def clean(s):
    return str(s).replace("\t", " ").replace("\n", " ").replace("\r", " ")


def cmd_scan(a):
    roots = {"data": a.data, "cache": a.cache, "repo": a.repo}

    def resolve(s):
        k, _, rest = s.partition(":")
        return os.path.join(roots[k], rest)

    reserved = set()
    for r in read_tsv(a.reserved):
        reserved.add((r["ecosystem"].strip(), norm_name(r["ecosystem"].strip(), r["name"].strip())))
    splits, splits_loose = {}, {}
    if os.path.exists(a.training_set):
        for r in read_tsv(a.training_set):
            k = (r["ecosystem"], norm_name(r["ecosystem"], r["name"]), r["version"])
            splits[(r["source"],) + k] = r["split"]
            splits_loose.setdefault(k, r["split"])
    else:
        print(f"detection: no {a.training_set}: split column left empty", file=sys.stderr)

    os.makedirs(a.out, exist_ok=True)
    for source, eco, label, lst, inp in CORPORA:
        if a.only and source not in a.only:
            continue
        inp, lst = resolve(inp), resolve(lst)
        if not os.path.exists(inp):
            print(f"detection: {source}: {inp} missing, skipped (fetch it first)", file=sys.stderr)
            continue
        meta = Meta(lst)
        tsv_path = os.path.join(a.out, source + ".tsv")
        done = {}
        if a.resume:  # rows of an earlier (possibly interrupted) run, by path
            for p in (tsv_path, tsv_path + ".part", tsv_path + ".prev"):
                if os.path.exists(p):
                    for r in read_tsv(p):
                        if r.get("path") and r.get("verdict"):
                            done.setdefault(r["path"], r)
            if os.path.exists(tsv_path + ".part"):
                os.replace(tsv_path + ".part", tsv_path + ".prev")
        t0 = time.time()
        n = drop = reused = 0
        with open(tsv_path + ".part", "w", newline="") as out:
            out.write("\t".join(COLUMNS) + "\n")
            pending = []

            def flush():
                todo = [(i, p) for i, p in enumerate(pending) if p["data"] is not None]
                reps = [None] * len(pending)
                if todo:
                    got = scan_batch(a.moat, eco, [(p["filename"], p["data"]) for _, p in todo],
                                     timeout=60 + 30 * len(todo))
                    for (i, _), r in zip(todo, got):
                        reps[i] = r
                for p, r in zip(pending, reps):
                    row = dict(p["row"])
                    if r is None:
                        row.update(verdict="error", error_kind=p["err"] or "no_report")
                    else:
                        row.update(score=f"{r.get('score', 0):.6f}", threshold=f"{r.get('threshold', 0):.6f}",
                                   verdict=r.get("verdict", ""), error_kind=r.get("error_kind", ""),
                                   duration_ms=r.get("duration_ms", ""), top_findings=findings_text(r),
                                   decided_by=decided_by(r),
                                   package_score=f"{r.get('package_score', 0):.6f}",
                                   unit_max=unit_max(r))
                        row["name"] = row["name"] or r.get("name", "")
                        row["version"] = row["version"] or r.get("version", "")
                    out.write("\t".join(clean(row.get(c, "")) for c in COLUMNS) + "\n")
                out.flush()
                pending.clear()

            for path, key, filename, data, err in items_of(inp):
                if a.sample > 1 and int(hashlib.sha256(path.rsplit("/", 1)[-1].encode()).hexdigest()[:8], 16) % a.sample:
                    continue
                m = meta.lookup(key)
                name, version = m.get("package", "") or m.get("name", ""), m.get("version", "")
                lab = note_label(m.get("note", "")) if label == "note" else label
                if not lab:
                    continue
                if not name:
                    base = filename
                    for e in ARCHIVE_EXTS:
                        if base.lower().endswith(e):
                            base = base[:-len(e)]
                            break
                    if filename.endswith(".deb"):
                        parts = base.split("_")
                        name = parts[0].removeprefix("python3-")
                        version = parts[1].split(":")[-1].rsplit("-", 1)[0] if len(parts) > 1 else ""
                    else:
                        name, _, version = base.rpartition("-")
                if (eco, norm_name(eco, name)) in reserved:
                    drop += 1
                    continue
                if data is not None and filename.endswith(".deb"):
                    try:
                        data, filename = deb_to_tar(data), filename[:-4] + ".tar"
                    except (ValueError, tarfile.TarError, EOFError, OSError) as e:
                        data, err = None, "deb: " + str(e)[:60]
                elif m.get("container") == "zip" and not filename.endswith((".whl", ".zip")):
                    filename = filename + ".zip"  # a wheel under a tar name, as moat dataset does
                if path in done:
                    out.write("\t".join(clean(done[path].get(c, "")) for c in COLUMNS) + "\n")
                    n += 1
                    reused += 1
                    continue
                k = (eco, norm_name(eco, name), version)
                split = splits.get((source,) + k) or splits_loose.get(k) or "none"
                row = dict(source=source, name=name, version=version, split=split, label=lab,
                           first_seen=m.get("date_added", "") or m.get("first_seen", ""), ecosystem=eco,
                           path=path)
                pending.append(dict(row=row, filename=filename, data=data, err=err))
                n += 1
                if len(pending) >= a.batch:
                    flush()
                    if sys.stderr.isatty():
                        sys.stderr.write(f"\rdetection: {source}: {n} ")
            flush()
        os.replace(tsv_path + ".part", tsv_path)
        if os.path.exists(tsv_path + ".prev"):
            os.remove(tsv_path + ".prev")
        print(f"detection: {source}: {n} packages in {time.time() - t0:.0f} s ({reused} rows reused), "
              f"{drop} reserved names dropped" + (f", 1 in {a.sample} sampled" if a.sample > 1 else ""),
              file=sys.stderr)
        record_dropped(a.out, source, drop)
        sp = os.path.join(a.out, "sampled.txt")
        lines = []
        if os.path.exists(sp):
            with open(sp) as f:
                lines = [ln for ln in f.read().splitlines() if ln and not ln.startswith(source + "\t")]
        if a.sample > 1:
            lines.append(f"{source}\t1 in {a.sample}")
        with open(sp, "w") as f:
            f.write("".join(ln + "\n" for ln in lines))


def record_dropped(out, source, n):
    """Records in DIR/dropped.json how many reserved names a corpus lost."""
    dp = os.path.join(out, "dropped.json")
    prev = {}
    if os.path.exists(dp):
        with open(dp) as f:
            prev = json.load(f)
    prev[source] = n
    with open(dp + ".tmp", "w") as f:
        json.dump(prev, f, indent=1, sort_keys=True)
    os.replace(dp + ".tmp", dp)


def wilson(k, n, z=1.959964):
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def pct(v):
    return f"{100 * v:.2f}%"


def rate_line(label, rows):
    n = len(rows)
    k = sum(r["verdict"] == "malicious" for r in rows)
    e = sum(r["verdict"] == "error" for r in rows)
    if n == 0:
        return f"{label:<46} n=0"
    lo, hi = wilson(k, n)
    what = "recall" if rows[0]["label"] == "malicious" else "FPR"
    blo, bhi = wilson(k + e, n)
    return (f"{label:<46} n={n:<6} flagged={k:<6} errors={e:<4} {what}={pct(k / n)} "
            f"[{pct(lo)}, {pct(hi)}]  blocked(+errors)={pct((k + e) / n)} [{pct(blo)}, {pct(bhi)}]")


def quantile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    i = min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))
    return xs[i]


def cmd_summary(a):
    rows = []
    for source, *_ in CORPORA:
        p = os.path.join(a.out, source + ".tsv")
        if os.path.exists(p):
            rows += read_tsv(p)
    out = io.StringIO()
    w = out.write
    dp = os.path.join(a.out, "dropped.json")
    if os.path.exists(dp):
        with open(dp) as f:
            dropped = json.load(f)
        w(f"reserved-for-evaluation names dropped: {sum(dropped.values())} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(dropped.items()) if v)})\n")
    sp = os.path.join(a.out, "sampled.txt")
    if os.path.exists(sp):
        with open(sp) as f:
            sampled = sorted(set(f.read().split("\n")) - {""})
        if sampled:
            w("sampled (not every package scanned): " + ", ".join(sampled).replace("\t", " ") + "\n")
    vers = {r.get("threshold") for r in rows if r.get("threshold")}
    w(f"thresholds seen: {', '.join(sorted(vers))}\n")
    for scope, keep in (("all", lambda r: True), ("validation only", lambda r: r["split"] == "val"),
                        ("validation split and rows not in the training set (held-out corpora)",
                         lambda r: r["split"] in ("val", "none"))):
        sel = [r for r in rows if keep(r)]
        w(f"\n== {scope} ==\nper source:\n")
        for source, *_ in CORPORA:
            for lab in ("malicious", "benign"):
                rs = [r for r in sel if r["source"] == source and r["label"] == lab]
                if rs:
                    w("  " + rate_line(f"{source} ({lab})", rs) + "\n")
        w("per ecosystem:\n")
        for eco in ("npm", "pypi"):
            for lab in ("malicious", "benign"):
                rs = [r for r in sel if r["ecosystem"] == eco and r["label"] == lab
                      and r["source"] != "guarddog-npm-snippets"]
                if rs:
                    w("  " + rate_line(f"{eco} ({lab}, without npm snippets)", rs) + "\n")
        mal = [r for r in sel if r["source"] == "pypi-malregistry" and r["first_seen"]]
        dates = [r["first_seen"] for r in rows if r["source"] == "pypi-malregistry" and r["first_seen"]]
        if dates:
            last = dt.date.fromisoformat(max(dates))
            m = last.month - 6
            start = dt.date(last.year + (m - 1) // 12, (m - 1) % 12 + 1, min(last.day, 28))
            recent = [r for r in mal if start < dt.date.fromisoformat(r["first_seen"]) <= last]
            w("  " + rate_line(f"pypi malicious, first seen {start}..{last}", recent) + "\n")
        sn = [r for r in sel if r["source"] == "guarddog-npm-snippets"]
        if sn:
            w("npm malware material (guarddog-npm-snippets: rule-test snippets and 2 PoCs; SMALL, "
              "not real-world npm malware):\n")
            for lab in ("malicious", "benign"):
                rs = [r for r in sn if r["label"] == lab]
                if rs:
                    w("  " + rate_line(f"snippets ({lab})", rs) + "\n")
    w("\nwhat decided each flagged row (decided_by: package, unit:KIND, rule:NAME; recall share "
      "per judge, all rows and validation split):\n")
    for scope, keep in (("all", lambda r: True), ("validation", lambda r: r["split"] == "val")):
        for eco in ("npm", "pypi"):
            for lab in ("malicious", "benign"):
                rs = [r for r in rows if keep(r) and r["ecosystem"] == eco and r["label"] == lab]
                flagged = [r for r in rs if r["verdict"] == "malicious"]
                if not rs or not flagged:
                    continue
                by = {}
                for r in flagged:
                    d = (r.get("decided_by") or "").split(",")[0].split(" ")[0] or "?"
                    if d.startswith("unit:"):
                        d = ":".join(d.split(":")[:2])
                    by[d] = by.get(d, 0) + 1
                parts = ", ".join(f"{k} {v}" for k, v in sorted(by.items(), key=lambda kv: -kv[1]))
                w(f"  {scope:<10} {eco} {lab:<9} n={len(rs):<6} flagged={len(flagged):<6} {parts}\n")
    w("\nbehaviour rules: rows a rule flagged whose package score alone was under the threshold "
      "(recall the rules add; on benign rows, false blocks they cause):\n")
    for eco in ("npm", "pypi"):
        for lab in ("malicious", "benign"):
            rs = [r for r in rows if r["ecosystem"] == eco and r["label"] == lab and r.get("package_score")]
            if not rs:
                continue
            added = [r for r in rs if r["verdict"] == "malicious" and (r.get("decided_by") or "").startswith("rule:")
                     and float(r["package_score"] or 0) < float(r["threshold"] or 1)]
            by = {}
            for r in added:
                d = r["decided_by"].split(",")[0].split(" ")[0]
                by[d] = by.get(d, 0) + 1
            parts = ", ".join(f"{k} {v}" for k, v in sorted(by.items(), key=lambda kv: -kv[1]))
            w(f"  {eco} {lab:<9} n={len(rs):<6} added by rules={len(added):<5} {parts}\n")
    w("\nunits per kind (validation split and held-out rows; a row counts for a kind when its highest unit "
      "of that kind reaches the bar; Wilson 95% intervals):\n")
    sel = [r for r in rows if r["split"] in ("val", "none") and r.get("unit_max") is not None and r["verdict"] != "error"]
    kinds = sorted({kv.split("=")[0] for r in sel for kv in (r.get("unit_max") or "").split()})
    bars = sorted({float(r["threshold"]) for r in sel if r.get("threshold")} | {0.9997})
    for eco in ("npm", "pypi"):
        for kind in kinds:
            for bar in bars:
                parts = []
                for lab in ("malicious", "benign"):
                    rs = [r for r in sel if r["ecosystem"] == eco and r["label"] == lab
                          and r["source"] != "guarddog-npm-snippets"]
                    if not rs:
                        continue
                    hit = 0
                    for r in rs:
                        um = dict(kv.split("=") for kv in (r.get("unit_max") or "").split())
                        if float(um.get(kind, 0)) >= bar:
                            hit += 1
                    lo, hi = wilson(hit, len(rs))
                    name = "recall" if lab == "malicious" else "FPR"
                    parts.append(f"{lab} {hit}/{len(rs)} {name}={100 * hit / len(rs):.2f}% [{100 * lo:.2f}%, {100 * hi:.2f}%]")
                if parts:
                    w(f"  {eco:<4} {kind:<14} >= {bar:<8g} " + "; ".join(parts) + "\n")
    w("\nerror kinds (all rows):\n")
    kinds = {}
    for r in rows:
        if r["verdict"] == "error":
            key = (r["source"], r["error_kind"] or "?")
            kinds[key] = kinds.get(key, 0) + 1
    for (s, k), c in sorted(kinds.items()):
        w(f"  {s:<24} {k:<28} {c}\n")
    if not kinds:
        w("  none\n")
    w("\nscan duration (moat's duration_ms per package, all rows):\n")
    for source, *_ in CORPORA:
        ds = [int(r["duration_ms"]) for r in rows if r["source"] == source and r["duration_ms"].isdigit()]
        if ds:
            w(f"  {source:<24} n={len(ds):<6} median={quantile(ds, .5)} ms  p99={quantile(ds, .99)} ms  "
              f"max={max(ds)} ms\n")
    text = out.getvalue()
    sys.stdout.write(text)
    with open(os.path.join(a.out, "summary.txt"), "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scan")
    s.add_argument("--moat", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--cache", required=True)
    s.add_argument("--repo", required=True)
    s.add_argument("--training-set", required=True)
    s.add_argument("--reserved", required=True)
    s.add_argument("--only", action="append", help="source name (repeatable)")
    s.add_argument("--batch", type=int, default=64)
    s.add_argument("--sample", type=int, default=1,
                   help="scan 1 in K packages, picked by a hash of the archive name (default 1: all)")
    s.add_argument("--resume", action="store_true",
                   help="reuse the rows of DIR/<source>.tsv(.part) instead of scanning those archives again")
    m = sub.add_parser("summary")
    m.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "scan":
        names = [c[0] for c in CORPORA]
        for o in a.only or []:
            if o not in names:
                ap.error(f"--only {o}: not one of {', '.join(names)}")
        cmd_scan(a)
    else:
        cmd_summary(a)


if __name__ == "__main__":
    main()
