#!/usr/bin/python3
"""moat's model training pipeline.

  train.py synth --out FILE.jsonl [--n N]        tiny synthetic dataset (smoke test)
  train.py train --data A.jsonl [B.jsonl ...] --out DIR [options]
      split (date + name clusters) -> masked-token pretraining -> fine-tuning
      -> threshold for FPR <= target on validation -> metrics -> ONNX export.
      Writes DIR/{model.onnx, vocab.txt, manifest.json, training-set.tsv,
      curves.png|svg, README.md, reference.json}.

Run with Debian's /usr/bin/python3 (scripts/setup-train.sh installs torch).
"""

import argparse
import datetime
import hashlib
import json
import os
import random
import sys
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import data  # noqa: E402
import metrics  # noqa: E402
from model import (CLS, MASK, PAD, SEP, SPECIALS, UNK, Config, Encoder,  # noqa: E402
                   Ensemble, Exported, encode, pad_batch)

HERE = os.path.dirname(os.path.abspath(__file__))
# Where training runs (--device); export and the reference always run on the CPU.
DEV = torch.device("cpu")
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_RESERVED = os.path.join(os.path.dirname(REPO), "shared", "data", "reserved-for-evaluation.tsv")
RESERVED_DROPPED = [0]  # records dropped as reserved, for the model card


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- synthetic

def synth(args):
    """Writes a small synthetic dataset: malicious-looking sequences (install
    hooks reading secrets and sending them out, download-and-exec) against
    benign ones. Only token lists: no code, nothing executable."""
    rng = random.Random(args.seed)
    benign_pool = ["fs.import", "fs.read", "fs.write", "fs.list", "os.import", "env.read",
                   "net.import", "url", "encoding.import", "process.import", "string.long",
                   "import.dynamic", "crypto.call", "encoding.call"]
    bad_pool = ["env.read.all", "env.read.secret", "net.call", "url.webhook", "url.ip",
                "process.call", "shell.download_exec", "eval.decoded", "sensitive.path",
                "os.call", "string.base64", "obfuscation.identifiers", "url.tunnel"]
    eco_fmt = [("pypi", "sdist"), ("pypi", "wheel"), ("pypi", "deb"), ("npm", "npm")]
    with open(args.out, "w", encoding="utf-8") as f:
        for i in range(args.n):
            label = i % 3 == 0
            eco, fmt = rng.choice(eco_fmt)
            if label and fmt == "deb":
                fmt = "sdist"
            toks = []
            if fmt == "sdist" and (label or rng.random() < 0.5):
                toks += ["[INSTALL]", "setup.py"]
            elif eco == "npm" and (label or rng.random() < 0.2):
                toks += ["[INSTALL]", "install.script"]
            n = rng.randint(3, 40)
            for _ in range(n):
                pool = bad_pool if label and rng.random() < 0.5 else benign_pool
                toks.append(rng.choice(pool))
            if rng.random() < 0.05:
                toks += ["fs.read"] * 600  # longer than max_len
            rec = {"ecosystem": eco, "name": "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8)),
                   "version": f"1.0.{i}", "label": int(label),
                   "source": "synthetic-" + ("malicious" if label else "benign"),
                   "first_seen": f"2023-{1 + i % 12:02d}-01" if label else "",
                   "tokens": toks, "format": fmt}
            f.write(json.dumps(rec) + "\n")
    log(f"synth: wrote {args.n} records to {args.out}")


# ---------------------------------------------------------------- training

def make_batches(items, batch_size, rng, shuffle=True):
    """items: list of (ids, ...); batches of similar length."""
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    bs = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(bs)
    return bs


def lr_at(step, total, base, warmup=0.06):
    w = max(1, int(total * warmup))
    if step < w:
        return base * (step + 1) / w
    return base * max(0.0, (total - step) / max(1, total - w))


def pretrain(enc, seqs, epochs, batch_size, lr, rng, vocab_size):
    if epochs <= 0 or not seqs:
        return
    opt = torch.optim.AdamW(enc.parameters(), lr=lr, weight_decay=0.01)
    items = [(s,) for s in seqs]
    total = epochs * ((len(items) + batch_size - 1) // batch_size)
    step = 0
    enc.train()
    for ep in range(epochs):
        t0, tot, n = time.time(), 0.0, 0
        for b in make_batches(items, batch_size, rng):
            ids, mask = pad_batch([items[i][0] for i in b])
            ids, mask = ids.to(DEV), mask.to(DEV)
            labels = torch.full_like(ids, -100)
            cand = (ids > UNK)  # never mask specials
            pick = (torch.rand(ids.shape, device=DEV) < 0.15) & cand
            if not pick.any():
                continue
            labels[pick] = ids[pick]
            inp = ids.clone()
            r = torch.rand(ids.shape, device=DEV)
            inp[pick & (r < 0.8)] = MASK
            rnd = pick & (r >= 0.8) & (r < 0.9)
            inp[rnd] = torch.randint(UNK + 1, vocab_size, (int(rnd.sum()),), device=DEV)
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, lr)
            logits = enc.mlm_logits(inp, mask)
            loss = F.cross_entropy(logits.reshape(-1, vocab_size), labels.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(enc.parameters(), 1.0)
            opt.step()
            step += 1
            tot += loss.item()
            n += 1
        log(f"pretrain epoch {ep + 1}/{epochs}: mlm loss {tot / max(1, n):.4f} ({time.time() - t0:.0f}s)")


def finetune(enc, items, epochs, batch_size, lr, rng, drop_ids=(), drop_p=0.0):
    """items: (ids, label, weight). Tokens in drop_ids are removed from a
    sequence with probability drop_p each time it is seen, so the classifier
    cannot lean on them alone (the setup.py format leak)."""
    opt = torch.optim.AdamW(enc.parameters(), lr=lr, weight_decay=0.01)
    total = epochs * ((len(items) + batch_size - 1) // batch_size)
    step = 0
    enc.train()
    for ep in range(epochs):
        t0, tot, n = time.time(), 0.0, 0
        for b in make_batches(items, batch_size, rng):
            seqs = [items[i][0] for i in b]
            if drop_ids and drop_p > 0:
                seqs = [[t for t in s if t not in drop_ids] if rng.random() < drop_p else s for s in seqs]
            ids, mask = pad_batch(seqs)
            ids, mask = ids.to(DEV), mask.to(DEV)
            y = torch.tensor([float(items[i][1]) for i in b], device=DEV)
            w = torch.tensor([items[i][2] for i in b], device=DEV)
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, lr)
            loss = (F.binary_cross_entropy_with_logits(enc.logit(ids, mask), y, reduction="none") * w).sum() / w.sum()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(enc.parameters(), 1.0)
            opt.step()
            step += 1
            tot += loss.item()
            n += 1
        log(f"finetune epoch {ep + 1}/{epochs}: loss {tot / max(1, n):.4f} ({time.time() - t0:.0f}s)")


@torch.no_grad()
def score(enc, seqs, batch_size=64):
    enc.eval()
    out = [0.0] * len(seqs)
    items = [(s,) for s in seqs]
    for b in make_batches(items, batch_size, None, shuffle=False):
        ids, mask = pad_batch([seqs[i] for i in b])
        dev = next(enc.parameters()).device
        p = enc.prob(ids.to(dev), mask.to(dev))
        for i, v in zip(b, p.tolist()):
            out[i] = v
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_onnx(enc, path, opset):
    enc.eval()
    ex = Exported(enc).eval()
    ids = torch.tensor([[CLS, UNK + 1, UNK + 2, SEP], [CLS, UNK + 3, SEP, PAD]], dtype=torch.long)
    mask = (ids != PAD).long()
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
    torch.onnx.export(ex, (ids, mask), path, input_names=["input_ids", "attention_mask"],
                      output_names=["probability"], opset_version=opset,
                      dynamic_axes={"input_ids": {0: "batch", 1: "len"},
                                    "attention_mask": {0: "batch", 1: "len"},
                                    "probability": {0: "batch"}},
                      do_constant_folding=True, **_legacy_exporter())
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    # Strip the producer's version noise so re-exports are reproducible.
    m.producer_version = ""
    onnx.save(m, path)


def _legacy_exporter():
    # torch >= 2.9 defaults to the dynamo exporter; the graph moat ships (and
    # scan/model's tests) come from the TorchScript exporter.
    major = int(torch.__version__.split(".")[0])
    return {"dynamo": False} if major >= 2 else {}


def by(records, key):
    out = {}
    for r in records:
        out.setdefault(key(r), []).append(r)
    return out


def eval_block(recs, probs, t):
    return metrics.report([r["label"] for r in recs], probs, t)


# Cerebro's premise is that behaviour is language-neutral; what differs
# between ecosystems is how code gets to run at install time. The npm-form
# copy of a PyPI sample keeps its behaviour and swaps the PyPI install hooks
# for npm's, so the model learns the behaviour rather than "setup.py" as the
# marker of malice (there is next to no real npm malware to learn from).
NPM_FORM = {"setup.py": "install.script", "setup.cmdclass": "install.script",
            "setup.install_class": None, "pth.exec": "install.script"}


def augment_npm(r):
    toks, prev = [], None
    for t in r["tokens"]:
        t = NPM_FORM.get(t, t)
        if t is None or (t == "install.script" and prev == "install.script"):
            continue
        toks.append(t)
        prev = t
    return dict(r, tokens=toks, ecosystem="npm", format="npm", source=r["source"] + "+npm-form")


INSTALL_HOOKS = {"setup.py", "setup.cmdclass", "setup.install_class", "pth.exec", "install.script",
                 "install.node_eval", "install.binding_gyp"}


def augment_import(r):
    """The same behaviour run at import time (a wheel's __init__.py, an npm
    package's main) instead of from an install hook: install hooks dropped,
    the install phase folded into the import phase."""
    toks, seen_import = [], False
    for t in r["tokens"]:
        if t in INSTALL_HOOKS:
            continue
        if t in ("[INSTALL]", "[IMPORT]"):
            if seen_import:
                continue
            t, seen_import = "[IMPORT]", True
        toks.append(t)
    return dict(r, tokens=toks, source=r["source"] + "+import-form")


def train(args):
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    torch.set_num_threads(args.threads)
    global DEV
    if args.device == "auto":
        DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        DEV = torch.device(args.device)
    if DEV.type == "cuda":
        torch.cuda.manual_seed_all(args.seed)

    records = data.load_jsonl(args.data)
    if args.reserved:
        records, dropped = data.drop_reserved(records, data.load_reserved(args.reserved))
        log(f"dropped {dropped} records of names reserved for evaluation ({args.reserved})")
        RESERVED_DROPPED[0] = dropped
    if args.drop_category:
        drop = set(args.drop_category)
        n = len(records)
        records = [r for r in records if r.get("category") not in drop]
        log(f"dropped {n - len(records)} records in categories {sorted(drop)}")
    if not records:
        raise SystemExit("no records")
    if args.max_records and len(records) > args.max_records:
        rng.shuffle(records)
        records = records[: args.max_records]
    vocab_path = args.vocab
    if vocab_path is None:
        cand = os.path.join(REPO, "scan", "sequence", "vocab.txt")
        vocab_path = cand if os.path.exists(cand) else ""
    tokens = data.build_vocab(vocab_path, records)
    vocab = {t: i for i, t in enumerate(tokens)}
    split_info = data.split(records, val_frac=args.val_frac, date_quantile=args.date_quantile)
    if args.dev_split:
        # Model selection mode: validation is set aside untouched ("test");
        # the training split is split again the same way (date + name
        # clusters) and its later part ("dev") plays validation's role.
        for r in records:
            if r["split"] == "val":
                r["split"] = "test"
        tr = [r for r in records if r["split"] == "train"]
        dev_info = data.split(tr, val_frac=args.val_frac, date_quantile=args.date_quantile, hash_benign=True, salt="dev:")
        split_info = dict(split_info, dev=dev_info, mode="dev: metrics are on a split of the training data; validation unused")
    if args.train_only_source:
        # Hand-written training samples (synth_npm.py) are near-copies of
        # each other by construction: any of them in validation (or dev)
        # would score like training data and flatter the figures.
        only = set(args.train_only_source)
        moved = 0
        for r in records:
            if r["source"] in only and r["split"] != "train":
                r["split"] = "train"
                moved += 1
        split_info = dict(split_info, train_only_sources=sorted(only))
        log(f"train-only sources {sorted(only)}: {moved} records moved to training")
    train_r = [r for r in records if r["split"] == "train"]
    val_r = [r for r in records if r["split"] == "val"]
    if args.augment_npm or args.augment_import:
        mal = [r for r in train_r if r["label"] == 1 and r["ecosystem"] == "pypi"]
        aug = [augment_npm(r) for r in mal] if args.augment_npm else []
        if args.augment_import:
            aug += [augment_import(r) for r in mal if "[INSTALL]" in r["tokens"]]
            aug += [dict(augment_import(r), ecosystem="npm") for r in mal if "[INSTALL]" in r["tokens"]]
        log(f"augmentation: {len(aug)} npm-form / import-form copies of PyPI malicious training records")
        train_r = train_r + aug
    log(f"records: {len(records)} (train {len(train_r)}, val {len(val_r)}); vocab {len(tokens)} "
        f"from {vocab_path or 'fallback list + data'}; date cutoff {split_info['date_cutoff']}")
    unknown = sorted({t for r in records for t in r["tokens"]} - set(vocab))
    if unknown:
        log(f"warning: {len(unknown)} tokens not in the vocabulary map to [UNK]: {unknown[:10]}")

    cfg = Config(len(tokens), max_len=args.max_len, width=args.width, heads=args.heads,
                 layers=args.layers, ff=4 * args.width, dropout=args.dropout, pool_act=args.pool_act)

    # Unique training sequences: campaigns repeat the same sequence hundreds
    # of times; one copy per (sequence, label) keeps them from dominating.
    uniq = {}
    for r in train_r:
        ids = tuple(encode(r["tokens"], vocab, cfg.max_len))
        uniq.setdefault((ids, r["label"]), r)
    pos = sum(1 for (_, y) in uniq if y == 1)
    neg = len(uniq) - pos
    if pos == 0 or neg == 0:
        raise SystemExit(f"training split needs both labels (malicious {pos}, benign {neg})")
    wpos, wneg = len(uniq) / (2.0 * pos), args.benign_weight * len(uniq) / (2.0 * neg)
    items = [(list(ids), y, wpos if y else wneg) for (ids, y) in uniq]
    log(f"unique training sequences: {len(items)} (malicious {pos}, benign {neg})")

    t0 = time.time()
    members = []
    for k in range(args.ensemble):
        torch.manual_seed(args.seed + k)
        m = Encoder(cfg).to(DEV)
        pretrain(m, [list(ids) for (ids, _) in uniq], args.pretrain_epochs, args.batch_size,
                 args.pretrain_lr, rng, cfg.vocab_size)
        drop_ids = {vocab[t] for t in args.drop_token if t in vocab}
        finetune(m, items, args.epochs, args.batch_size, args.lr, rng, drop_ids, args.drop_token_p)
        members.append(m.cpu().eval())
    enc = members[0] if len(members) == 1 else Ensemble(members)
    train_s = time.time() - t0

    os.makedirs(args.out, exist_ok=True)
    val_ids = [encode(r["tokens"], vocab, cfg.max_len) for r in val_r]
    probs = score(enc, val_ids)
    neg_scores = [p for r, p in zip(val_r, probs) if r["label"] == 0]
    if val_r and neg_scores:
        t = metrics.threshold_for_fpr(neg_scores, args.target_fpr)
    else:
        t = 0.5
        log("warning: no benign validation records; threshold defaults to 0.5")
    t = float(min(t, 1.0))

    m = {"all": eval_block(val_r, probs, t)}
    for eco, rs in sorted(by(list(zip(val_r, probs)), lambda x: x[0]["ecosystem"]).items()):
        m[eco] = eval_block([x[0] for x in rs], [x[1] for x in rs], t)
    # Format-leak guard: sdists with setup.py on both sides.
    sp = [(r, p) for r, p in zip(val_r, probs) if r.get("format") == "sdist" and "setup.py" in r["tokens"]]
    m["sdist_with_setup_py"] = eval_block([x[0] for x in sp], [x[1] for x in sp], t)
    # Ablation: the setup.py token removed from every validation sequence.
    abl_ids = [encode([x for x in r["tokens"] if x != "setup.py"], vocab, cfg.max_len) for r in val_r]
    abl = score(enc, abl_ids)
    m["ablation_no_setup_py"] = eval_block(val_r, abl, t)
    m["ablation_no_setup_py"]["mean_abs_score_change"] = round(
        sum(abs(a - b) for a, b in zip(abl, probs)) / max(1, len(probs)), 5)
    # Per source: how each corpus fares (benign corpora: FPR; malicious: recall).
    per_source = {}
    for src, rs in sorted(by(list(zip(val_r, probs)), lambda x: x[0]["source"]).items()):
        per_source[src] = eval_block([x[0] for x in rs], [x[1] for x in rs], t)
    m["per_source"] = per_source
    # Extra evaluation sets that training never saw at all (e.g. the
    # cross-ecosystem experiment: train without any npm malware, score the
    # npm malicious material).
    for path in args.eval_extra:
        extra = data.load_jsonl([path])
        ex_probs = score(enc, [encode(r["tokens"], vocab, cfg.max_len) for r in extra])
        m["extra:" + os.path.basename(path)] = eval_block(extra, ex_probs, t)
    log(json.dumps({k: v for k, v in m.items() if k != "per_source"}, indent=1))

    # Per-package validation scores and the torch checkpoint stay in the
    # output folder (for inspection; run.sh does not ship them).
    with open(os.path.join(args.out, "val-scores.tsv"), "w", encoding="utf-8") as f:
        f.write("score\tlabel\tecosystem\tname\tversion\tsource\tformat\ttokens\n")
        for r, p in sorted(zip(val_r, probs), key=lambda x: -x[1]):
            f.write(f"{p:.6f}\t{r['label']}\t{r['ecosystem']}\t{r.get('name')}\t{r.get('version')}\t"
                    f"{r['source']}\t{r.get('format')}\t{' '.join(r['tokens'][:60])}\n")
    torch.save({"config": cfg.to_dict(), "state": enc.state_dict(), "vocab": tokens},
               os.path.join(args.out, "model.pt"))

    # Export.
    onnx_path = os.path.join(args.out, "model.onnx")
    export_onnx(enc, onnx_path, args.opset)
    onnx_sha = sha256_file(onnx_path)
    with open(os.path.join(args.out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(tokens) + "\n")
    vocab_sha = sha256_file(os.path.join(args.out, "vocab.txt"))
    fig = metrics.write_figure(os.path.join(args.out, "curves"), [r["label"] for r in val_r], probs,
                               f"moat model, validation ({len(val_r)} packages)")

    counts = {}
    for r in records:
        c = counts.setdefault(r["source"], {}).setdefault(r["split"], {"malicious": 0, "benign": 0})
        c["malicious" if r["label"] else "benign"] += 1

    with open(os.path.join(args.out, "training-set.tsv"), "w", encoding="utf-8") as f:
        f.write("ecosystem\tname\tversion\tlabel\tsource\tformat\tfirst_seen\tsplit\n")
        for r in sorted(records, key=lambda r: (r["split"], r["ecosystem"], r.get("name") or "", r.get("version") or "")):
            f.write("\t".join(str(x).replace("\t", " ") for x in (
                r["ecosystem"], r.get("name") or "", r.get("version") or "",
                "malicious" if r["label"] else "benign", r["source"], r.get("format") or "",
                r.get("first_seen") or "", r["split"])) + "\n")

    today = datetime.date.today().strftime("%Y%m%d")
    ens = f"e{len(members)}-" if len(members) > 1 else ""
    version = f"moat-bert-{ens}{cfg.layers}x{cfg.width}-{today}-{onnx_sha[:8]}"
    manifest = {
        "model_version": version,
        "onnx": "model.onnx",
        "onnx_sha256": onnx_sha,
        "vocab": "vocab.txt",
        "vocab_sha256": vocab_sha,
        "threshold": t,
        "target_fpr": args.target_fpr,
        "max_len": cfg.max_len,
        "inputs": ["input_ids", "attention_mask"],
        "output": "probability",
        "encoding": "[CLS] + first max_len-2 tokens + [SEP]; pad id 0; attention_mask 1 on real positions; unknown -> [UNK]",
        "architecture": cfg.to_dict() | {"ensemble": len(members),"opset": args.opset, "pooling": f"{cfg.pool_act}(W [h_cls; masked mean])",
                                          "parameters": sum(p.numel() for n, p in enc.named_parameters() if "mlm." not in n)},
        "training": {"pretrain_epochs": args.pretrain_epochs, "epochs": args.epochs,
                     "token_dropout": {"tokens": args.drop_token, "p": args.drop_token_p},
                     "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
                     "unique_train_sequences": len(items), "seconds": round(train_s),
                     "benign_weight": args.benign_weight, "device": DEV.type,
                     "torch": torch.__version__},
        "split": split_info,
        "counts": counts,
        "validation": m,
        "curves": os.path.basename(fig),
        "training_set": "training-set.tsv",
        "data": [os.path.basename(p) for p in args.data],
        "dropped_categories": sorted(args.drop_category),
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")

    write_reference(enc, vocab, cfg, val_r or train_r, rng, os.path.join(args.out, "reference.json"))
    write_card(manifest, os.path.join(args.out, "README.md"))
    log(f"wrote {args.out}: {version}, threshold {t:.6f}, onnx {os.path.getsize(onnx_path)} bytes")


@torch.no_grad()
def write_reference(enc, vocab, cfg, recs, rng, path):
    """Token sequences and torch's probabilities, for the Go-side check that
    ONNX Runtime matches torch (scan/model's TestReference)."""
    enc.eval()
    cases = [[], ["no.such.token", "[UNK]"], ["[CLS]", "setup.py", "[SEP]"],
             ["fs.read"] * (cfg.max_len + 50)]
    sample = rng.sample(recs, min(12, len(recs)))
    cases += [r["tokens"] for r in sample]
    out = []
    for toks in cases:
        ids, mask = pad_batch([encode(toks, vocab, cfg.max_len)])
        p = enc.prob(ids, mask).item()
        out.append({"tokens": toks, "probability": p})
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"max_len": cfg.max_len, "cases": out}, f)
        f.write("\n")


def onnx_size(man, card_path):
    """The exported graph's size, read next to the card."""
    try:
        n = os.path.getsize(os.path.join(os.path.dirname(card_path), man["onnx"]))
    except OSError:
        return "unknown"
    return f"{n} bytes ({n / 1e6:.1f} MB) of ONNX"


def write_card(man, path):
    v = man["validation"]

    def row(name, r):
        def f(x):
            return "-" if x is None else f"{x:.4f}" if isinstance(x, float) else str(x)
        return (f"| {name} | {r['n']} | {r['malicious']} | {r['benign']} | {f(r['precision'])} | "
                f"{f(r['recall'])} | {f(r['f1'])} | {f(r['fpr'])} | {f(r['roc_auc'])} |")

    lines = [
        f"# moat model card: {man['model_version']}", "",
        "A small BERT-style encoder (Cerebro, arXiv 2309.02637) over moat's behaviour-token",
        "sequences, pretrained by masked-token modelling and fine-tuned to classify packages.",
        "Retrain and re-export with `models/train/run.sh`.", "",
        f"- architecture: {man['architecture']['layers']} layers, width {man['architecture']['width']}, "
        f"{man['architecture']['heads']} heads, {man['architecture']['parameters']} parameters, max_len {man['max_len']}",
        f"- size: {onnx_size(man, path)}",
        f"- threshold: {man['threshold']:.6f} (chosen for FPR <= {man['target_fpr']:.1%} on validation)",
        f"- onnx sha256: `{man['onnx_sha256']}`",
        f"- split: {man['split']['method']}; date cutoff {man['split']['date_cutoff']}, "
        f"{man['split']['clusters']} clusters", "",
        "## Validation (never seen in training)", "",
        "| slice | n | malicious | benign | precision | recall | F1 | FPR | ROC AUC |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k in ["all", "npm", "pypi"]:
        if k in v:
            lines.append(row(k, v[k]))
    lines += [
        "", "## Format-leak guard", "",
        "The malicious PyPI side is mostly sdists with `setup.py`; a model that learned",
        "\"has setup.py\" would be useless. Two checks:", "",
        "| slice | n | malicious | benign | precision | recall | F1 | FPR | ROC AUC |",
        "|---|---|---|---|---|---|---|---|---|",
        row("sdists with setup.py, both labels", v["sdist_with_setup_py"]),
        row("`setup.py` token removed", v["ablation_no_setup_py"]), "",
        f"Mean absolute score change when `setup.py` is removed: "
        f"{v['ablation_no_setup_py']['mean_abs_score_change']}.", "",
        "## Per source (validation)", "",
        "| source | n | malicious | benign | precision | recall | F1 | FPR | ROC AUC |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for src, r in v["per_source"].items():
        lines.append(row(src, r))
    lines += ["", "## Data (packages per source, split and label)", "",
              "| source | split | malicious | benign |", "|---|---|---|---|"]
    for src, sp in sorted(man["counts"].items()):
        for s, c in sorted(sp.items()):
            lines.append(f"| {src} | {s} | {c['malicious']} | {c['benign']} |")
    lines += ["", f"Every package used is listed in `{man['training_set']}`. Names reserved for independent "
              f"evaluation (`shared/data/reserved-for-evaluation.tsv`) are dropped from every corpus before the split: "
              f"{RESERVED_DROPPED[0]} records this run.", "",
              f"![ROC and precision/recall curves]({man['curves']})", ""]
    # Hand-written sections (augmentation, experiments, model selection,
    # known weaknesses) live next to this script so a retrain keeps them.
    notes = os.path.join(HERE, "card-notes.md")
    if os.path.exists(notes):
        with open(notes, encoding="utf-8") as f:
            lines += [f.read().rstrip("\n"), ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synth")
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int, default=300)
    s.add_argument("--seed", type=int, default=1)
    t = sub.add_parser("train")
    t.add_argument("--data", nargs="+", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--vocab", default=None, help="vocab.txt (default scan/sequence/vocab.txt if present)")
    t.add_argument("--max-len", type=int, default=512)
    t.add_argument("--width", type=int, default=128)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--layers", type=int, default=2)
    t.add_argument("--dropout", type=float, default=0.1)
    t.add_argument("--pool-act", choices=["tanh", "gelu"], default="tanh")
    t.add_argument("--ensemble", type=int, default=1, help="train N members (seeds seed..seed+N-1), average their probabilities")
    t.add_argument("--pretrain-epochs", type=int, default=3)
    t.add_argument("--pretrain-lr", type=float, default=5e-4)
    t.add_argument("--epochs", type=int, default=6)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--target-fpr", type=float, default=0.005)
    t.add_argument("--val-frac", type=float, default=0.2)
    t.add_argument("--date-quantile", type=float, default=0.8)
    t.add_argument("--max-records", type=int, default=0)
    t.add_argument("--drop-token", action="append", default=None,
                   help="token removed at random during fine-tuning (default: setup.py)")
    t.add_argument("--drop-token-p", type=float, default=0.5)
    t.add_argument("--drop-category", action="append", default=[],
                   help="leave out records of this category (e.g. probably_pentest: dependency-confusion probes)")
    t.add_argument("--eval-extra", action="append", default=[],
                   help="JSONL scored with the final model and threshold and reported separately (never trained on)")
    t.add_argument("--augment-import", action=argparse.BooleanOptionalAction, default=True,
                   help="add import-time copies of install-time PyPI malicious training records")
    t.add_argument("--augment-npm", action=argparse.BooleanOptionalAction, default=True,
                   help="add npm-form copies of PyPI malicious training records (install hooks swapped)")
    t.add_argument("--opset", type=int, default=17)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    t.add_argument("--reserved", default=DEFAULT_RESERVED if os.path.exists(DEFAULT_RESERVED) else None,
                   help="reserved-for-evaluation.tsv: records of these names are dropped (default: ../shared/data/ next to the repository)")
    t.add_argument("--train-only-source", action="append", default=[],
                   help="records of this source are always in the training split (repeatable)")
    t.add_argument("--benign-weight", type=float, default=1.0,
                   help="extra weight on benign training sequences (after class balancing)")
    t.add_argument("--dev-split", action="store_true",
                   help="model selection: set validation aside and report on a date/name split of the training data")
    a = ap.parse_args(argv)
    if a.cmd == "train" and a.drop_token is None:
        a.drop_token = ["setup.py"]
    if a.cmd == "synth":
        synth(a)
    else:
        train(a)


if __name__ == "__main__":
    main(sys.argv[1:])
