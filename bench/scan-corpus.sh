#!/usr/bin/env bash
# Scanner throughput and memory:
#  1. `moat scan --json` over the benign npm corpus in
#     ${MOAT_DATA_CACHE:-$HOME/.cache/moat-data}/npm/*.tgz: packages/s (wall
#     time of the whole run, as the CLI schedules it), median and p99 of the
#     per-package duration_ms, verdict counts and moat's peak RSS.
#     ROUNDS runs, medians reported.
#  2. Peak RSS (VmHWM) of `moat serve` during a cold install of the realistic
#     app of bench/npm-install.sh (every tarball fetched, verified, stored and
#     scanned). Target: <= 150 MB.
# usage: bench/scan-corpus.sh [ROUNDS]   (default 3; SCAN_SAMPLE=N scans only the first N tarballs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-3}
port=${MOAT_BENCH_PORT:-18178}
corpus=${MOAT_DATA_CACHE:-$HOME/.cache/moat-data}/npm
work=$(mktemp -d /tmp/moat-scanbench.XXXXXX)
trap 'on_exit $?; stop_moat; rm -rf "$work"' EXIT
. bench/common.sh

shopt -s nullglob
tgzs=("$corpus"/*.tgz)
[ ${#tgzs[@]} -gt 0 ] || { echo "no corpus: $corpus/*.tgz is empty"; exit 1; }
[ -n "${SCAN_SAMPLE:-}" ] && tgzs=("${tgzs[@]:0:$SCAN_SAMPLE}")
build_moat

declare -a pps med p99 rss
for r in $(seq 1 "$rounds"); do
	t0=$(date +%s.%N)
	# Exit status 1 only means something was flagged; 2 is an error.
	set +e
	/usr/bin/time -f '%M' -o "$work/maxrss" "$work/moat" scan --json "${tgzs[@]}" >"$work/scan.jsonl" 2>"$work/scan.err"
	code=$?
	set -e
	t1=$(date +%s.%N)
	[ "$code" -le 1 ] || [ -s "$work/scan.jsonl" ] || { echo "moat scan failed ($code):"; tail "$work/scan.err"; exit 1; }
	n=$(wc -l <"$work/scan.jsonl")
	p=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", n/(b-a)}')
	read -r m q < <(jq -r .duration_ms "$work/scan.jsonl" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; i=int(0.99*NR); if (i<1) i=1; print m, a[i]}')
	x=$(tail -n 1 "$work/maxrss" | awk '{printf "%.1f", $1/1024}')
	pps+=("$p"); med+=("$m"); p99+=("$q"); rss+=("$x")
	printf 'round %d: %d packages in %.1fs: %s packages/s, median %s ms, p99 %s ms, peak RSS %s MB\n' "$r" "$n" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" "$p" "$m" "$q" "$x"
done
verdicts=$(jq -r .verdict "$work/scan.jsonl" | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $2, $1}')

# Peak RSS of moat serve over a cold install of the realistic app.
write_app "$work/app"
declare -a serve_hwm
for r in $(seq 1 "$rounds"); do
	data=$(mktemp -d "$work/data.XXXXXX")
	start_moat "$data" "$port"
	app_install "$work/app" "http://127.0.0.1:$port/npm/" >/dev/null
	serve_hwm+=("$(vm_hwm "$moat_pid")")
	stop_moat
	rm -rf "$data"
	printf 'round %d: moat serve peak RSS over a cold app install %s MB\n' "$r" "${serve_hwm[-1]}"
done
pkgs=$(jq '[.packages | keys[] | select(startswith("node_modules/"))] | length' "$work/app/package-lock.json")

echo
echo "machine: $(machine)"
echo "corpus: ${#tgzs[@]} benign npm tarballs ($corpus); verdicts of the last round: $verdicts"
echo "scan: median of $rounds rounds: $(median "${pps[@]}") packages/s (scan workers: GOMAXPROCS/2), per-package median $(median "${med[@]}") ms, p99 $(median "${p99[@]}") ms; moat scan peak RSS $(median "${rss[@]}") MB"
hw=$(median "${serve_hwm[@]}")
echo "serve: peak RSS over a cold install of $pkgs packages: median $hw MB ($(ratio "$hw" 150)x the 150 MB target)"
