#!/bin/sh
# run.sh retrains moat's model from scratch and re-exports everything under
# models/: it builds moat, scans every corpus in shared/data into JSONL with
# `moat dataset`, trains (train.py train: split, pretraining, fine-tuning,
# threshold, metrics, ONNX export), copies the results into models/ and runs
# scan/model's tests against them.
#
#   models/train/run.sh [train.py train options...]
#
# Environment: MOAT_DATA (default ../shared/data next to the repository),
# MOAT_DATA_CACHE (downloaded benign npm/deb corpora, default
# ~/.cache/moat-data; fetch them with $MOAT_DATA/fetch-benign.sh; the
# npm-extra corpus is fetched here),
# MOAT_REUSE_DATASET=1 to keep JSONL files already exported.
# Needs: scripts/setup-train.sh (torch) and scripts/install-onnxruntime.sh.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(CDPATH='' cd -- "$here/../.." && pwd)
data=${MOAT_DATA:-$repo/../shared/data}
cache=${MOAT_DATA_CACHE:-$HOME/.cache/moat-data}
out=$here/out
py=/usr/bin/python3

"$py" -c 'import torch, onnx' 2>/dev/null || {
	echo "run.sh: torch/onnx missing for $py; run scripts/setup-train.sh" >&2
	exit 1
}
"$repo/scripts/install-onnxruntime.sh" >/dev/null

mkdir -p "$out/data"
echo "run.sh: building moat" >&2
(cd "$repo" && go build -o "$out/moat" ./cmd/moat)

# export NAME MOAT-DATASET-ARGS...: one corpus to $out/data/NAME.jsonl
export_corpus() {
	name=$1
	shift
	dest="$out/data/$name.jsonl"
	if [ "${MOAT_REUSE_DATASET:-}" = 1 ] && [ -s "$dest" ]; then
		echo "run.sh: reusing $dest" >&2
		return
	fi
	echo "run.sh: exporting $name" >&2
	(cd "$repo" && "$out/moat" dataset --out "$dest" "$@")
}

export_corpus pypi-malicious --ecosystem pypi --label malicious --source pypi-malregistry \
	--tsv "$data/malicious/pypi-train.tsv" "$data/malicious/pypi-train.tar"
export_corpus npm-snippets --ecosystem npm --source guarddog-npm-snippets \
	--tsv "$data/malicious/npm-snippets.tsv" "$data/malicious/npm-snippets.tar"
export_corpus npm-hard-negatives --ecosystem npm --label benign --source npm-hard-negatives \
	--tsv "$data/benign/npm-hard-negatives.tsv" "$data/benign/npm-hard-negatives.tar"
export_corpus pypi-sdist --ecosystem pypi --label benign --source pypi-sdist \
	--tsv "$data/benign/pypi-sdist.tsv" "$data/benign/pypi-sdist.tar"
export_corpus pypi-src --ecosystem pypi --label benign --source pypi-src \
	--tsv "$data/benign/pypi-src.tsv" "$data/benign/pypi-src.tar"
export_corpus pypi-wheels --ecosystem pypi --label benign --source pypi-wheels \
	--tsv "$data/benign/pypi-wheels.tsv" "$data/benign/pypi-wheels.tar"
if [ -d "$cache/npm" ]; then
	export_corpus npm-benign --ecosystem npm --label benign --source npm-registry \
		--tsv "$data/benign/npm.tsv" "$cache/npm"
else
	echo "run.sh: $cache/npm missing (run $data/fetch-benign.sh): no benign npm corpus" >&2
fi
# The second benign npm corpus (models/train/npm-extra.tsv, picked by
# npm_extra.py select): downloaded here, sha256-checked, from the registry
# npm is configured with.
if "$py" "$here/npm_extra.py" fetch --list "$here/npm-extra.tsv" --dir "$cache/npm-extra"; then
	export_corpus npm-extra --ecosystem npm --label benign --source npm-registry-extra \
		--tsv "$here/npm-extra.tsv" "$cache/npm-extra"
else
	echo "run.sh: could not fetch the npm-extra corpus" >&2
fi
# Hand-written, defanged npm samples (synth_npm.py, seeded: the same
# packages every run), training split only (--train-only-source below).
rm -rf "$out/synth-npm"
"$py" "$here/synth_npm.py" --out "$out/synth-npm" >&2
export_corpus npm-synth-malicious --ecosystem npm --label malicious --source npm-synthetic \
	--tsv "$out/synth-npm/malicious.tsv" "$out/synth-npm/malicious"
export_corpus npm-synth-benign --ecosystem npm --label benign --source npm-synthetic \
	--tsv "$out/synth-npm/benign.tsv" "$out/synth-npm/benign"
# Real benign npm packages (training-split hosts only) with one defanged
# malicious unit of synth_npm's families inserted (trojan_npm.py, seeded),
# training split only (--train-only-source below).
if [ -d "$cache/npm" ] || [ -d "$cache/npm-extra" ]; then
	rm -rf "$out/trojan-npm"
	"$py" "$here/trojan_npm.py" --out "$out/trojan-npm" --data "$data" --cache "$cache" \
		--synth "$out/synth-npm" >&2
	export_corpus npm-trojan --ecosystem npm --label malicious --source npm-trojan \
		--tsv "$out/trojan-npm/malicious.tsv" "$out/trojan-npm/malicious"
else
	echo "run.sh: no benign npm corpus in $cache: no trojanised npm packages" >&2
fi
if [ -d "$cache/deb" ]; then
	export_corpus debian-python --label benign --source debian-python \
		--tsv "$data/benign/debian-python.tsv" "$cache/deb"
else
	echo "run.sh: $cache/deb missing (run $data/fetch-benign.sh): no Debian corpus" >&2
fi

echo "run.sh: training" >&2
cd "$here"
OPENBLAS_NUM_THREADS=1 "$py" train.py train --data "$out"/data/*.jsonl --out "$out/model" \
	--pool-act gelu --epochs 10 --pretrain-epochs 5 --target-fpr 0.001 \
	--train-only-source npm-synthetic --train-only-source npm-trojan "$@"

for f in model.onnx vocab.txt manifest.json reference.json training-set.tsv README.md; do
	cp "$out/model/$f" "$repo/models/$f"
done
rm -f "$repo/models/curves.png" "$repo/models/curves.svg"
cp "$out"/model/curves.* "$repo/models/"

echo "run.sh: checking the exported model from Go" >&2
(cd "$repo" && go test -count=1 ./scan/model)
echo "run.sh: done; models/ holds $(sed -n 's/.*"model_version": "\(.*\)".*/\1/p' "$repo/models/manifest.json")" >&2
