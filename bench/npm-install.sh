#!/usr/bin/env bash
# Whole-client benchmark: installs a realistic npm app
#   direct      - from the registry npm is configured with
#   moat cold   - through a fresh moat (empty data dir: every packument and
#                 tarball fetched, verified, scanned)
#   moat warm   - through the same moat again (its cache full)
# Each run uses a fresh npm cache and node_modules. Paired rounds; prints
# every time, the medians, and the ratios moat/direct.
# usage: bench/npm-install.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-5}
port=${MOAT_BENCH_PORT:-17878}
work=$(mktemp -d /tmp/moat-bench.XXXXXX)
trap 'on_exit $?; stop_moat; rm -rf "$work"' EXIT
. bench/common.sh

build_moat
write_app "$work/app"
declare -a direct cold warm
for r in $(seq 1 "$rounds"); do
	d=$(app_install "$work/app" "")
	data=$(mktemp -d "$work/data.XXXXXX")
	start_moat "$data" "$port"
	c=$(app_install "$work/app" "http://127.0.0.1:$port/npm/")
	w=$(app_install "$work/app" "http://127.0.0.1:$port/npm/")
	stop_moat
	rm -rf "$data"
	direct+=("$d"); cold+=("$c"); warm+=("$w")
	printf 'round %d: direct %.2fs  moat-cold %.2fs  moat-warm %.2fs\n' "$r" "$d" "$c" "$w"
done

md=$(median "${direct[@]}"); mc=$(median "${cold[@]}"); mw=$(median "${warm[@]}")
summary_head "$work/app/package-lock.json" "$rounds"
printf 'median direct    %.2fs\n' "$md"
printf 'median moat cold %.2fs  ratio %sx direct (target <= 1.3)\n' "$mc" "$(ratio "$mc" "$md")"
printf 'median moat warm %.2fs  ratio %sx direct (target <= 1.0)\n' "$mw" "$(ratio "$mw" "$md")"
