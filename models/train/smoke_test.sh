#!/bin/sh
# smoke_test.sh: the training pipeline end to end on tiny synthetic data (one
# epoch), then scan/model loads the exported files through ONNX Runtime and
# must match torch's outputs within 1e-5 (TestExportedModel).
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(CDPATH='' cd -- "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

cd "$here"
export OPENBLAS_NUM_THREADS=1
/usr/bin/python3 train.py synth --out "$tmp/synth.jsonl" --n 240
/usr/bin/python3 train.py train --data "$tmp/synth.jsonl" --out "$tmp/model" \
	--pretrain-epochs 1 --epochs 1 --max-len 64
for f in model.onnx vocab.txt manifest.json reference.json training-set.tsv README.md; do
	test -s "$tmp/model/$f" || { echo "smoke_test: $f missing" >&2; exit 1; }
done
cd "$repo"
MOAT_MODEL_EXPORT_DIR="$tmp/model" go test -count=1 -run 'TestExportedModel' -v ./scan/model
echo "smoke_test: ok" >&2
