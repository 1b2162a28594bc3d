#!/usr/bin/env bash
# Detection benchmark: scans every corpus moat's model is trained and checked
# on with a moat binary (`moat scan --json`, the proxy's scanner and default
# config) and writes one TSV row per package, then a summary: n, flagged,
# FPR / recall with Wilson 95% intervals per source and per ecosystem, for all
# rows and for the validation split of models/training-set.tsv; recall on the
# latest six months of malicious PyPI samples; the npm snippets apart; scan
# duration median / p99 / max per corpus. Names in the
# reserved-for-evaluation list are dropped (and counted).
#
#   bench/detection.sh [--out DIR] [--scanner-bin BIN] [--only SOURCE]... [--sample K] [--resume] [--summary-only]
#
# --out DIR          output folder (default /tmp/moat-detection): DIR/<source>.tsv,
#                    DIR/summary.txt, DIR/dropped.json
# --scanner-bin BIN  measure this moat binary instead of building one from this
#                    checkout (also $MOAT_SCANNER_BIN), to compare two models
# --only SOURCE      scan one corpus (repeatable); the summary covers every
#                    DIR/<source>.tsv present. Sources: pypi-malregistry,
#                    guarddog-npm-snippets, npm-hard-negatives, pypi-sdist,
#                    pypi-src, pypi-wheels, npm-registry, npm-registry-extra,
#                    debian-python, npm-registry-holdout, debian-python-holdout
# --sample K         scan 1 in K packages of each corpus (a hash of the archive
#                    name picks them; the summary says so), for a quick look
# --resume           reuse the rows DIR already holds for these corpora (after an
#                    interrupted run, or to add packages to a sample)
# --summary-only     recompute the summary from DIR's TSVs
#
# Corpora: $MOAT_DATA (default ../shared/data next to the repository) and the
# downloads under $MOAT_DATA_CACHE (default ~/.cache/moat-data): npm/ and deb/
# from $MOAT_DATA/fetch-benign.sh, npm-extra/ from
# `models/train/npm_extra.py fetch` (see models/train/run.sh); the held-out
# corpora npm-holdout/ from `models/train/npm_extra.py fetch --list
# models/train/npm-holdout.tsv` and deb-holdout/ from
# `models/train/deb_extra.py fetch --list models/train/debian-holdout.tsv`. A missing corpus
# is skipped with a note. The malicious archives are real malware: they are
# read in memory from their .tar and passed to moat through named pipes, never
# unpacked to disk (bench/detection.py). One moat process at a time, one scan
# worker on 2 cores: about 15,000 packages take a while (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=/tmp/moat-detection
bin=${MOAT_SCANNER_BIN:-}
only=()
summary_only=0
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	--scanner-bin) bin=$2; shift 2 ;;
	--only) only+=(--only "$2"); shift 2 ;;
	--sample) extra+=(--sample "$2"); shift 2 ;;
	--resume) extra+=(--resume); shift ;;
	--summary-only) summary_only=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "detection.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
data=$(realpath "${MOAT_DATA:-$root/../shared/data}")
cache=${MOAT_DATA_CACHE:-$HOME/.cache/moat-data}
py=/usr/bin/python3

if [ "$summary_only" = 0 ]; then
	bash scripts/install-onnxruntime.sh >/dev/null
	export MOAT_ORT_LIB=${MOAT_ORT_LIB:-$root/lib/libonnxruntime.so.1}
	if [ -z "$bin" ]; then
		go build -o bin/moat ./cmd/moat
		bin=$root/bin/moat
	fi
	bin=$(realpath "$bin")
	mkdir -p "$out"
	{
		echo "scanner: $bin ($("$bin" version 2>/dev/null | head -n 1), sha256 $(sha256sum "$bin" | cut -c1-12))"
		echo "bench checkout: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (dirty)')"
		echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo), $(date -u +%Y-%m-%dT%H:%MZ)"
	} >>"$out/run.txt"
	tail -n 3 "$out/run.txt"
	"$py" bench/detection.py scan --moat "$bin" --out "$out" --data "$data" --cache "$cache" \
		--repo "$root" --training-set models/training-set.tsv \
		--reserved "$data/reserved-for-evaluation.tsv" "${only[@]}" "${extra[@]}"
fi
"$py" bench/detection.py summary --out "$out"
