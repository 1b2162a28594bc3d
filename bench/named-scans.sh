#!/usr/bin/env bash
# Scan time of the packages the detection-v2 issue names as slow (prettier,
# the Vue and Vite packages, node-fetch-native) and of the largest popular
# packages (next, prisma, @prisma/client, typescript): each tarball is fetched
# once from the registry npm is configured with, then scanned ROUNDS times by
# `moat scan --json` (default config: the shipped model, parse budget, 20 s
# timeout), one scan at a time. Prints every duration_ms and the median per
# package. Run it on an idle machine: these are wall times.
#
#   bench/named-scans.sh [ROUNDS] [--scanner-bin BIN]    (default 5 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=5
bin=${MOAT_SCANNER_BIN:-}
while [ $# -gt 0 ]; do
	case "$1" in
	--scanner-bin) bin=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) rounds=$1; shift ;;
	esac
done
work=$(mktemp -d /tmp/moat-named.XXXXXX)
trap 'on_exit $?; rm -rf "$work"' EXIT
. bench/common.sh

PACKAGES=(
	prettier@3.4.2 @vue/compiler-sfc@3.5.47 @vue/runtime-dom@3.5.47 vite-plugin-inspect@11.4.1 vite@7.3.8
	node-fetch-native@1.6.7 next@16.5.0 prisma@7.10.1 @prisma/client@7.10.1 typescript@5.9.3
)

use_moat "$bin"
echo "machine: $(machine)"
reg=$(npm config get registry)
reg=${reg%/}
for p in "${PACKAGES[@]}"; do
	name=${p%@*}
	ver=${p##*@}
	f="$work/$(echo "$name" | tr '/@' '__')-$ver.tgz"
	curl -fsS -o "$f" "$reg/$name/-/${name##*/}-$ver.tgz"
	times=()
	for _ in $(seq "$rounds"); do
		times+=("$("$work/moat" scan --json "$f" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r.get("duration_ms", -1), r["verdict"])')")
	done
	printf '%s\n' "${times[@]}" | python3 -c '
import statistics, sys
name = sys.argv[1]
rows = [l.split() for l in sys.stdin if l.strip()]
ms = [int(r[0]) for r in rows]
print(f"{name:<34} median {statistics.median(ms):>6.0f} ms  all {ms}  verdicts {sorted(set(r[1] for r in rows))}")
' "$p"
done
