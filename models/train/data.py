"""Dataset loading, vocabulary, and the date + name-cluster validation split."""

import hashlib
import json
import os
import re

from model import SPECIALS
from reserved import load_reserved, norm_name as _norm  # noqa: F401 (load_reserved: data.load_reserved)

PHASES = ["[INSTALL]", "[IMPORT]", "[OTHER]"]

# Fallback behaviour vocabulary, used only when scan/sequence/vocab.txt is not
# there; the canonical list lives in scan/sequence/tokens.go.
FALLBACK_TOKENS = """
os.import os.call env.read env.read.all env.read.secret fs.import fs.read
fs.write fs.delete fs.list sensitive.path sensitive.browser sensitive.wallet
sensitive.messenger spy.call net.import net.call net.dns url url.ip url.webhook
url.paste url.tunnel url.telegram encoding.import encoding.call crypto.call
string.base64 string.hex string.long obfuscation.identifiers
obfuscation.charcodes obfuscation.minified process.import process.call
process.detached shell.script shell.download_exec eval.call eval.decoded
import.dynamic persistence file.truncated install.script install.node_eval
install.binding_gyp setup.py setup.cmdclass setup.install_class pth.exec
""".split()


def drop_reserved(records, reserved):
    """Drops every record of a reserved name, whatever its source or
    label: those names are measured from outside the project and are never
    training, validation or threshold data."""
    kept = [r for r in records if (r.get("ecosystem"), _norm(r.get("ecosystem"), r.get("name"))) not in reserved]
    return kept, len(records) - len(kept)


def load_jsonl(paths):
    """Reads records from JSONL files, dropping exact duplicates
    (same ecosystem, name, version, label and sequence)."""
    seen = set()
    out = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    raise SystemExit(f"{p}:{n}: {e}")
                if r.get("label") not in (0, 1):
                    raise SystemExit(f"{p}:{n}: label must be 0 or 1")
                r.setdefault("tokens", [])
                r.setdefault("source", os.path.basename(p))
                r.setdefault("format", "")
                r.setdefault("first_seen", "")
                key = (r.get("ecosystem"), r.get("name"), r.get("version"),
                       r["label"], tuple(r["tokens"]))
                if key in seen:
                    continue
                seen.add(key)
                out.append(r)
    return out


def build_vocab(vocab_path, records):
    """Returns the ordered token list: the canonical vocab.txt when given,
    else specials + phase markers + the fallback list + tokens seen in data."""
    if vocab_path and os.path.exists(vocab_path):
        with open(vocab_path, encoding="utf-8") as f:
            toks = [l.strip() for l in f if l.strip()]
        if toks[: len(SPECIALS)] != SPECIALS:
            raise SystemExit(f"{vocab_path}: must start with {SPECIALS}")
        return toks
    toks = list(SPECIALS) + PHASES + FALLBACK_TOKENS
    have = set(toks)
    extra = sorted({t for r in records for t in r["tokens"]} - have)
    return toks + extra


_NONALPHA = re.compile(r"[^a-z]")
_VOWELS = re.compile(r"[aeiouy]")
_REPEAT = re.compile(r"(.)\1+")


def name_keys(name):
    """Keys under which near-identical names cluster: the name with digits and
    separators stripped, and its consonant skeleton (typo-tolerant)."""
    n = (name or "").lower()
    if n.startswith("@"):  # npm scope: cluster on the bare name
        n = n.split("/", 1)[-1]
    norm = _NONALPHA.sub("", n) or n
    keys = ["n:" + norm]
    skel = _REPEAT.sub(r"\1", _VOWELS.sub("", norm))
    if len(skel) >= 4:
        keys.append("s:" + skel)
    return keys


class _UF:
    def __init__(self):
        self.p = {}

    def find(self, x):
        self.p.setdefault(x, x)
        while self.p[x] != x:
            self.p[x] = self.p[self.p[x]]
            x = self.p[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.p[max(ra, rb)] = min(ra, rb)


def split(records, val_frac=0.2, date_quantile=0.8, hash_benign=False, salt=""):
    """Assigns each record r["split"] = "train" | "val".

    Records are clustered by name (name_keys) and by campaign when known, so
    a typosquat campaign never straddles the split. A cluster goes to
    validation when its earliest first_seen date is on or after the cutoff
    (the date_quantile of dated clusters): validation holds campaigns that
    appeared after everything in training. Undated clusters (most benign
    packages) are split by a hash of the cluster key, val_frac of them to
    validation. hash_benign splits all-benign clusters by hash even when
    dated (for the model-selection split inside training, whose date cutoff
    would otherwise leave almost no benign packages on the far side); salt
    changes the hash so a second split does not repeat the first one's.
    Returns a description of the method for the manifest."""
    uf = _UF()
    for i, r in enumerate(records):
        node = f"r:{i}"
        for k in name_keys(r.get("name")):
            uf.union(node, k)
        if r.get("campaign"):
            uf.union(node, "c:" + r["campaign"])
    groups = {}
    for i, r in enumerate(records):
        groups.setdefault(uf.find(f"r:{i}"), []).append(i)
    dates = {}
    for g, idx in groups.items():
        ds = [records[i]["first_seen"][:10] for i in idx if records[i].get("first_seen")]
        if ds:
            dates[g] = min(ds)
    cutoff = ""
    if dates:
        ordered = sorted(dates.values())
        cutoff = ordered[min(len(ordered) - 1, int(len(ordered) * date_quantile))]
    for g, idx in groups.items():
        if g in dates and not (hash_benign and all(records[i]["label"] == 0 for i in idx)):
            val = dates[g] >= cutoff
        else:
            key = min(records[i].get("name") or "" for i in idx)
            h = int(hashlib.sha256((salt + key).encode()).hexdigest()[:8], 16)
            val = (h % 1000) < val_frac * 1000
        for i in idx:
            records[i]["split"] = "val" if val else "train"
    return {
        "method": "cluster by name (digits/separators stripped; consonant skeleton) and campaign; "
                  "dated clusters: validation = first seen on/after the cutoff; "
                  f"undated clusters: {val_frac:.0%} by hash of the cluster name",
        "date_cutoff": cutoff,
        "clusters": len(groups),
        "val_frac_undated": val_frac,
    }
