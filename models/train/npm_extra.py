#!/usr/bin/env python3
"""npm_extra.py: a second, larger benign npm corpus for training and validation.

The shared corpus (shared/data/benign/npm.tsv) holds ~1,000 npm packages, so
validation's benign side is a few hundred packages and the false-positive
rate at the shipped threshold rests on one or two of them. This adds
packages from the registry, picked reproducibly from a package list with
monthly download counts:

  npm_extra.py select --list npm.tsv --out models/train/npm-extra.tsv
      picks packages not already in the shared corpus: --top from >= 1M
      downloads a month, --mid from 50k-1M, --low from 5k-50k (the long tail
      below 5k is left out: too much of it is spam, tests and squats to call
      benign without review), by a salted hash of the name; downloads each,
      skips tarballs over --max-bytes, records sha256 and size.
  npm_extra.py fetch --list models/train/npm-extra.tsv --dir CACHE
      downloads the listed tarballs into CACHE, checking every sha256.

A held-out list for measuring the false-positive rate only (never read by
training; see models/README.md) is picked the same way with another salt,
skipping every name already in the shared and extra lists:

  npm_extra.py select --list npm.tsv --salt moat-npm-holdout-1 \
      --exclude models/train/npm-extra.tsv --source npm-registry-holdout \
      --top 1000 --mid 1000 --low 500 --out models/train/npm-holdout.tsv

Names in the reserved-for-evaluation list are never picked.

The registry is the one npm is configured with (npm config get registry).
Tarballs are only downloaded and hashed here; moat dataset reads them
statically later. Nothing is installed or run.
"""
import argparse
import concurrent.futures as cf
import csv
import hashlib
import os
import subprocess
import sys
import urllib.request

from reserved import DEFAULT_PATH as RESERVED, reserved_in

SALT = b"moat-npm-extra-1"
HEADER = ["ecosystem", "package", "version", "relative_path", "sha256", "bytes", "source",
          "extra1", "extra2"]


def registry():
    r = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True,
                       check=True).stdout.strip()
    return r.rstrip("/") + "/"


def tarball_url(reg, name, version):
    base = name.split("/")[-1]
    return f"{reg}{name}/-/{base}-{version}.tgz"


def rel_path(name, version):
    return "npm-extra/" + name.replace("/", "__") + "-" + version + ".tgz"


def download(url, max_bytes):
    with urllib.request.urlopen(url, timeout=60) as resp:
        data = resp.read(max_bytes + 1)
    if len(data) > max_bytes:
        return None
    return data


def select(args):
    have = set()
    for lst in [args.shared] + args.exclude:
        with open(lst) as f:
            for r in csv.DictReader(f, delimiter="\t"):
                have.add(r["package"])
    have |= reserved_in(args.reserved, "npm")
    salt = args.salt.encode()
    tiers = {"top": [], "mid": [], "low": []}
    with open(args.list) as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 3 or p[0] in have or p[0].lower() in have:
                continue
            try:
                d = int(p[2])
            except ValueError:
                continue
            t = "top" if d >= 1_000_000 else "mid" if d >= 50_000 else "low" if d >= 5_000 else None
            if t:
                tiers[t].append((p[0], p[1], d))
    want = {"top": args.top, "mid": args.mid, "low": args.low}
    picked = []
    for t, rows in tiers.items():
        rows.sort(key=lambda r: hashlib.sha256(salt + r[0].encode()).digest())
        picked += [(t, r) for r in rows[: int(want[t] * 1.15) + 10]]  # spares for failures
    reg = registry()

    def one(item):
        t, (name, version, d) = item
        try:
            data = download(tarball_url(reg, name, version), args.max_bytes)
        except Exception as e:  # noqa: BLE001 - a failed download is skipped
            return t, name, version, d, None, str(e)
        return t, name, version, d, data, None

    out = {t: [] for t in tiers}
    os.makedirs(args.dir, exist_ok=True)
    with cf.ThreadPoolExecutor(args.jobs) as ex:
        for t, name, version, d, data, err in ex.map(one, picked):
            if data is None or len(out[t]) >= want[t]:
                continue
            rel = rel_path(name, version)
            with open(os.path.join(args.dir, os.path.basename(rel)), "wb") as f:
                f.write(data)
            out[t].append([("npm"), name, version, rel, hashlib.sha256(data).hexdigest(),
                           str(len(data)), args.source, "tier=" + t, f"downloads_month={d}"])
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(HEADER)
        for t in tiers:
            for row in sorted(out[t], key=lambda r: r[1]):
                w.writerow(row)
    print(f"npm_extra: {sum(len(v) for v in out.values())} packages "
          + ", ".join(f"{t} {len(v)}" for t, v in out.items()), file=sys.stderr)


def fetch(args):
    reg = registry()
    with open(args.list) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    os.makedirs(args.dir, exist_ok=True)

    def one(r):
        dest = os.path.join(args.dir, os.path.basename(r["relative_path"]))
        if os.path.exists(dest):
            with open(dest, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() == r["sha256"]:
                    return True
        try:
            data = download(tarball_url(reg, r["package"], r["version"]), 1 << 30)
        except Exception as e:  # noqa: BLE001
            print(f"npm_extra: {r['package']}@{r['version']}: {e}", file=sys.stderr)
            return False
        if hashlib.sha256(data).hexdigest() != r["sha256"]:
            print(f"npm_extra: checksum mismatch: {r['package']}@{r['version']}", file=sys.stderr)
            return False
        with open(dest + ".part", "wb") as f:
            f.write(data)
        os.replace(dest + ".part", dest)
        return True

    with cf.ThreadPoolExecutor(args.jobs) as ex:
        ok = sum(ex.map(one, rows))
    print(f"npm_extra: {ok} of {len(rows)} tarballs in {args.dir}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("select")
    s.add_argument("--list", required=True, help="TSV: name, version, downloads a month (header line first)")
    s.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/benign/npm.tsv"))
    s.add_argument("--out", required=True)
    s.add_argument("--dir", required=True, help="where the downloaded tarballs go")
    s.add_argument("--exclude", action="append", default=[],
                   help="another package list (TSV with a package column) whose names are skipped; repeatable")
    s.add_argument("--reserved", default=RESERVED,
                   help="names never picked (the reserved-for-evaluation list)")
    s.add_argument("--salt", default=SALT.decode(), help="salt of the hash that orders each tier")
    s.add_argument("--source", default="npm-registry-extra", help="source column of the rows written")
    s.add_argument("--top", type=int, default=1000)
    s.add_argument("--mid", type=int, default=1000)
    s.add_argument("--low", type=int, default=500)
    s.add_argument("--max-bytes", type=int, default=8 << 20)
    s.add_argument("--jobs", type=int, default=12)
    f = sub.add_parser("fetch")
    f.add_argument("--list", required=True)
    f.add_argument("--dir", required=True)
    f.add_argument("--jobs", type=int, default=8)
    args = ap.parse_args()
    {"select": select, "fetch": fetch}[args.cmd](args)


if __name__ == "__main__":
    main()
