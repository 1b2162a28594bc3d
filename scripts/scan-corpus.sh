#!/usr/bin/env bash
# scan-corpus.sh - scan the research corpora with the real scanner and report
# verdict counts and error kinds per source; fails on any crash or hang.
#
#   scripts/scan-corpus.sh            # a deterministic sample (400 per source; a few minutes on 2 cores)
#   scripts/scan-corpus.sh --full     # every member (long)
#   scripts/scan-corpus.sh --bench    # also BenchmarkScanNPMCorpus (median/p99 ms per package, peak RSS)
#
# Sources: ../shared/data/malicious/pypi-train.tar and npm-snippets.tar,
# ../shared/data/benign/*.tar and ${MOAT_DATA_CACHE:-$HOME/.cache/moat-data}/npm/*.tgz.
# Outer tars are read in memory by the Go test (scan/corpus_test.go); nothing
# is ever extracted to disk. Extra arguments go to `go test` (e.g.
# -corpus.sample=100 -corpus.timeout=5s). MOAT_SHARED_DATA overrides the
# data folder; MOAT_BENCH_SAMPLE=N limits the benchmark to N packages.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
export MOAT_SHARED_DATA="${MOAT_SHARED_DATA:-$root/../shared/data}"

if [ ! -d "$MOAT_SHARED_DATA" ]; then
	echo "scan-corpus: no corpus at $MOAT_SHARED_DATA; skipping" >&2
	exit 0
fi

args=()
bench=0
for a in "$@"; do
	case "$a" in
	--full) args+=(-corpus.full) ;;
	--bench) bench=1 ;;
	*) args+=("$a") ;;
	esac
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
MOAT_CORPUS=1 CGO_ENABLED=1 go test ./scan -run '^TestCorpus$' -count=1 -v -timeout 2h "${args[@]}" >"$log" 2>&1
status=$?
set -e
if [ "$status" = 0 ]; then
	grep -E 'corpus_test|^(--- |ok|PASS)' "$log" || true
else
	cat "$log"
fi

if [ "$bench" = 1 ]; then
	CGO_ENABLED=1 go test ./scan -run '^$' -bench '^BenchmarkScanNPMCorpus$' -benchtime=1x -count=1 -timeout 2h
fi
exit "$status"
