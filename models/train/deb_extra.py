#!/usr/bin/env python3
"""deb_extra.py: a held-out benign corpus of Debian python3-* packages.

The shared corpus (shared/data/benign/debian-python.tsv) holds ~500 Debian
python3-* packages: installed-form Python code, no setup.py. To measure the
false-positive rate on Python at the scale the model card needs (>= 1,500
benign Python packages) this picks more of them, reproducibly, and is never
read by training (models/README.md says so):

  deb_extra.py select --count 1100 --out models/train/debian-holdout.tsv --dir CACHE
      lists the python3-* binary packages apt knows (apt-cache pkgnames),
      drops the names in the shared list, the reserved-for-evaluation list
      (python3-NAME compared to the reserved PyPI name NAME, PEP 503
      normalised), debug and documentation packages, orders the rest by a
      salted hash of the name, downloads .deb files with `apt-get download`
      (never installed) into CACHE, skips files over --max-bytes, and writes
      one row per package with its sha256 and size.
  deb_extra.py fetch --list models/train/debian-holdout.tsv --dir CACHE
      downloads the listed packages again into CACHE and checks every sha256.

The .deb files are only read statically later (bench/detection.sh, moat scan).
"""
import argparse
import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

from reserved import DEFAULT_PATH as RESERVED, norm_name, reserved_in

HEADER = ["ecosystem", "package", "version", "relative_path", "sha256", "bytes", "source",
          "extra1", "extra2"]
HERE = os.path.dirname(os.path.abspath(__file__))


def candidate(name):
    if not name.startswith("python3-"):
        return False
    return not re.search(r"-(dbg|doc|docs|dev)$", name)


def download(pkgs, dest):
    """apt-get download pkgs into dest; returns {package: file name} of what arrived."""
    tmp = tempfile.mkdtemp(dir=dest)
    try:
        subprocess.run(["apt-get", "download", "-q", *pkgs], cwd=tmp, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        got = {}
        for fn in os.listdir(tmp):
            if fn.endswith(".deb"):
                os.replace(os.path.join(tmp, fn), os.path.join(dest, fn))
                got[fn.split("_", 1)[0]] = fn
        return got
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sha256_of(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def select(args):
    have = set()
    with open(args.shared) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            have.add(norm_name("pypi", r["package"]))
            src = r.get("source", "")
            if ":" in src:
                have.add(src.split(":", 1)[1].split("=", 1)[0])
    reserved = reserved_in(args.reserved, "pypi")
    names = subprocess.run(["apt-cache", "pkgnames", "python3-"], capture_output=True, text=True,
                           check=True).stdout.split()
    pool = []
    for n in sorted(set(names)):
        short = norm_name("pypi", n.removeprefix("python3-"))
        if not candidate(n) or n in have or short in have or short in reserved:
            continue
        pool.append(n)
    salt = args.salt.encode()
    pool.sort(key=lambda n: hashlib.sha256(salt + n.encode()).digest())
    os.makedirs(args.dir, exist_ok=True)
    rows, i = [], 0
    while len(rows) < args.count and i < len(pool):
        batch = pool[i:i + 50]
        i += len(batch)
        got = download(batch, args.dir)
        for n in batch:
            fn = got.get(n)
            if fn is None:
                continue
            p = os.path.join(args.dir, fn)
            size = os.path.getsize(p)
            if size > args.max_bytes:
                os.remove(p)
                continue
            version = fn.split("_")[1].replace("%3a", ":")
            rows.append(["pypi", n.removeprefix("python3-"), version, "pypi/deb-holdout/" + fn, sha256_of(p),
                         str(size), f"debian-bookworm:{n}={version}", "kind=deb (installed-form python code)",
                         "split=holdout"])
            if len(rows) >= args.count:
                break
        kept = {os.path.basename(r[3]) for r in rows}
        for fn in got.values():  # the rest of the last batch
            if fn not in kept and os.path.exists(os.path.join(args.dir, fn)):
                os.remove(os.path.join(args.dir, fn))
        print(f"deb_extra: {len(rows)} of {args.count}", file=sys.stderr)
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(HEADER)
        for r in sorted(rows, key=lambda r: r[1]):
            w.writerow(r)
    print(f"deb_extra: {len(rows)} packages from {len(pool)} candidates", file=sys.stderr)


def fetch(args):
    with open(args.list) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    os.makedirs(args.dir, exist_ok=True)

    def present(r):
        p = os.path.join(args.dir, os.path.basename(r["relative_path"]))
        return os.path.exists(p) and sha256_of(p) == r["sha256"]

    missing = [r for r in rows if not present(r)]
    for i in range(0, len(missing), 50):
        download([r["source"].split(":", 1)[1] for r in missing[i:i + 50]], args.dir)
    bad = [r for r in missing if not present(r)]  # only the downloaded ones are hashed again
    for r in bad:
        print(f"deb_extra: missing or changed: {r['source']}", file=sys.stderr)
    print(f"deb_extra: {len(rows) - len(bad)} of {len(rows)} packages in {args.dir}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("select")
    s.add_argument("--shared", default=os.path.join(HERE, "../../../shared/data/benign/debian-python.tsv"))
    s.add_argument("--reserved", default=RESERVED)
    s.add_argument("--salt", default="moat-deb-holdout-1")
    s.add_argument("--count", type=int, default=1100)
    s.add_argument("--max-bytes", type=int, default=16 << 20)
    s.add_argument("--out", required=True)
    s.add_argument("--dir", required=True)
    f = sub.add_parser("fetch")
    f.add_argument("--list", required=True)
    f.add_argument("--dir", required=True)
    args = ap.parse_args()
    {"select": select, "fetch": fetch}[args.cmd](args)


if __name__ == "__main__":
    main()
