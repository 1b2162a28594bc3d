"""reserved.py: the reserved-for-evaluation list, as every script here reads it.

Names in shared/data/reserved-for-evaluation.tsv are measured from outside
the project and are never detection data: not training, validation,
threshold choice, nor a corpus picked for measuring. This module has no
dependencies beyond the standard library, so corpus-selection scripts
(npm_extra.py, deb_extra.py) use it without PyTorch.
"""
import os
import re

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data",
                            "reserved-for-evaluation.tsv")


def norm_name(eco, name):
    """Names as the reserved list compares them: PyPI per PEP 503, npm
    lower-cased."""
    name = (name or "").strip().lower()
    if eco == "pypi":
        name = re.sub(r"[-_.]+", "-", name)
    return name


def load_reserved(path, missing_ok=False):
    """Reads reserved-for-evaluation.tsv (ecosystem, name, ...; a header
    line) into a set of (ecosystem, normalised name). missing_ok: an absent
    file is an empty set."""
    out = set()
    if missing_ok and not (path and os.path.exists(path)):
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            cols = line.rstrip("\n").split("\t")
            if n == 0 and cols[:2] == ["ecosystem", "name"] or len(cols) < 2:
                continue
            eco = cols[0].strip().lower()
            out.add((eco, norm_name(eco, cols[1])))
    return out


def reserved_in(path, eco):
    """The normalised reserved names of one ecosystem (empty without a list)."""
    return {n for e, n in load_reserved(path, missing_ok=True) if e == eco}
