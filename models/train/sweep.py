#!/usr/bin/python3
"""Model selection without touching validation.

  sweep.py --data A.jsonl ... --out DIR [--device cuda] [--jobs N]

Trains every candidate configuration in CONFIGS with `train.py train
--dev-split` (validation set aside; metrics on a date + name-cluster split of
the training data), ranks them by dev recall at FPR <= 0.5 % (ties: ROC AUC),
then trains the winner once more on the whole training split and evaluates it
on validation, the numbers the manifest reports. DIR/sweep.json records every
candidate's dev figures and the choice; DIR/final holds the model.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Name -> train.py options. "base" is the configuration shipped before.
CONFIGS = {
    "base": [],
    "long": ["--epochs", "12", "--pretrain-epochs", "6"],
    "deep4": ["--layers", "4", "--epochs", "10", "--pretrain-epochs", "5"],
    "wide192": ["--width", "192", "--epochs", "10", "--pretrain-epochs", "5"],
    "b64-long": ["--batch-size", "64", "--epochs", "16", "--pretrain-epochs", "6", "--lr", "5e-4"],
    "base-gelu": ["--pool-act", "gelu"],
    "long-gelu": ["--pool-act", "gelu", "--epochs", "12", "--pretrain-epochs", "6"],
    "deep4-gelu": ["--pool-act", "gelu", "--layers", "4", "--epochs", "10", "--pretrain-epochs", "5"],
    "deep4-long-gelu": ["--pool-act", "gelu", "--layers", "4", "--epochs", "14", "--pretrain-epochs", "6"],
    "wide192-gelu": ["--pool-act", "gelu", "--width", "192", "--epochs", "10", "--pretrain-epochs", "5"],
    "b64-long-gelu": ["--pool-act", "gelu", "--batch-size", "64", "--epochs", "16", "--pretrain-epochs", "6", "--lr", "5e-4"],
    # Three seeds averaged (one ONNX graph).
    "long-gelu-x3": ["--pool-act", "gelu", "--epochs", "12", "--pretrain-epochs", "6", "--ensemble", "3"],
    "deep4-gelu-x3": ["--pool-act", "gelu", "--layers", "4", "--epochs", "10", "--pretrain-epochs", "5", "--ensemble", "3"],
    "b64-long-x3": ["--batch-size", "64", "--epochs", "16", "--pretrain-epochs", "6", "--lr", "5e-4", "--ensemble", "3"],
}


def run(name, opts, args, dev):
    out = os.path.join(args.out, ("dev-" if dev else "final-") + name)
    cmd = [sys.executable, os.path.join(HERE, "train.py"), "train", "--data", *args.data, "--out", out,
           "--device", args.device, "--threads", "1", *opts, *args.extra]
    if dev:
        cmd.append("--dev-split")
    log = open(out + ".log", "w")
    return out, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=HERE)


def figures(out):
    with open(os.path.join(out, "manifest.json")) as f:
        m = json.load(f)
    a = m["validation"]["all"]
    return {k: a.get(k) for k in ("recall", "fpr", "precision", "roc_auc", "tp", "fn", "fp", "benign", "malicious")} | {
        "threshold": m["threshold"], "seconds": m["training"]["seconds"]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="auto")
    p.add_argument("--jobs", type=int, default=len(CONFIGS))
    p.add_argument("--only", action="append", default=[])
    p.add_argument("extra", nargs="*", help="options passed to every train.py run (after --)")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    names = args.only or list(CONFIGS)
    t0 = time.time()
    results, running = {}, []
    pending = list(names)
    while pending or running:
        while pending and len(running) < args.jobs:
            n = pending.pop(0)
            running.append((n, *run(n, CONFIGS[n], args, True)))
        time.sleep(2)
        for item in list(running):
            n, out, proc = item
            if proc.poll() is None:
                continue
            running.remove(item)
            if proc.returncode != 0:
                results[n] = {"error": f"exit {proc.returncode}, see {out}.log"}
            else:
                results[n] = figures(out)
            print(f"dev {n}: {results[n]}", flush=True)
    ok = {n: r for n, r in results.items() if "error" not in r}
    if not ok:
        raise SystemExit("no candidate trained")
    best = max(ok, key=lambda n: (ok[n]["recall"] or 0, ok[n]["roc_auc"] or 0))
    print(f"chosen on dev: {best}", flush=True)
    out, proc = run(best, CONFIGS[best], args, False)
    if proc.wait() != 0:
        raise SystemExit(f"final training failed, see {out}.log")
    final = figures(out)
    print(f"validation {best}: {final}", flush=True)
    with open(os.path.join(args.out, "sweep.json"), "w") as f:
        json.dump({"selection": "dev recall at FPR <= 0.5 %, ties by ROC AUC; validation unused until the final run",
                   "candidates": {n: CONFIGS[n] for n in names}, "dev": results, "chosen": best,
                   "validation": final, "final_dir": os.path.basename(out),
                   "seconds": round(time.time() - t0)}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
