#!/usr/bin/env bash
# Cached-artifact throughput: requests/s and p50/p99 latency at concurrency
# 1, 16, 64 and 256 against moat (every tarball already fetched, verified,
# stored and scanned: each request still runs the policy decision) and
# against nginx serving the very same files from disk on loopback (sendfile,
# keep-alive, no access log). Target: moat >= 0.8 x nginx requests/s.
#
# The tarballs are those of the realistic app of bench/npm-install.sh
# (~400, a few KB to a few MB), installed once through moat from the
# registry npm is configured with; nginx serves copies under the same paths.
# Paired rounds (moat, then nginx, at each concurrency), medians reported.
#
# usage: bench/throughput.sh [ROUNDS]   (default 3; BENCH_SECONDS=10 per run)
# Installs nginx with apt-get when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-3}
secs=${BENCH_SECONDS:-10}
levels=(${BENCH_CONCURRENCY:-1 16 64 256})
port=${MOAT_BENCH_PORT:-17978}
nport=${NGINX_BENCH_PORT:-17980}
work=$(mktemp -d /tmp/moat-throughput.XXXXXX)
trap 'on_exit $?; stop_moat; stop_static_nginx; rm -rf "$work"' EXIT
. bench/common.sh

build_moat
go build -o "$work/loadclient" ./bench/loadclient

# Warm moat with the app's tarballs; the lockfile names them (npm records no
# "resolved" URL for a registry given with --registry: build moat's paths).
start_moat "$work/data" "$port"
write_app "$work/app"
app_install "$work/app" "http://127.0.0.1:$port/npm/" >/dev/null
lock_tarballs "$work/app/package-lock.json" | sed 's#^#/npm#' >"$work/paths.txt"
echo "tarballs: $(wc -l <"$work/paths.txt")"
mkdir -p "$work/www"
while read -r p; do # the same bytes, for nginx, under the same paths (also checks moat serves them)
	mkdir -p "$work/www$(dirname "$p")"
	curl -fsS -o "$work/www$p" "http://127.0.0.1:$port$p"
done <"$work/paths.txt"
echo "bytes: $(du -sh "$work/www" | cut -f1)"

start_static_nginx "$work/www" "$nport" "$(head -1 "$work/paths.txt")"

declare -A rps p50 p99
run_one() { # server-label base concurrency
	local out
	out=$("$work/loadclient" -base "$2" -paths "$work/paths.txt" -c "$3" -d "${secs}s") || { echo "$1 c=$3 failed: $out" >&2; exit 1; }
	rps[$1,$3]+=" $(jq -r .rps <<<"$out")"
	p50[$1,$3]+=" $(jq -r .p50_ms <<<"$out")"
	p99[$1,$3]+=" $(jq -r .p99_ms <<<"$out")"
	printf '  %-5s c=%-3s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  %6.1f MB/s  errors %s\n' "$1" "$3" \
		"$(jq -r .rps <<<"$out")" "$(jq -r .p50_ms <<<"$out")" "$(jq -r .p99_ms <<<"$out")" "$(jq -r .mb_per_s <<<"$out")" "$(jq -r .errors <<<"$out")"
}
for r in $(seq 1 "$rounds"); do
	echo "round $r"
	for c in "${levels[@]}"; do
		run_one moat "http://127.0.0.1:$port" "$c"
		run_one nginx "http://127.0.0.1:$nport" "$c"
	done
done
hwm=$(vm_hwm "$moat_pid")

echo
echo "machine: $(machine)"
echo "rounds: $rounds x ${secs}s per server and concurrency; moat peak RSS ${hwm} MB"
printf '%-6s %12s %12s %7s  %10s %10s  %10s %10s\n' conc "moat req/s" "nginx req/s" ratio "moat p50" "nginx p50" "moat p99" "nginx p99"
for c in "${levels[@]}"; do
	mr=$(median ${rps[moat,$c]}); nr=$(median ${rps[nginx,$c]})
	printf '%-6s %12.0f %12.0f %7s  %8.2fms %8.2fms  %8.2fms %8.2fms\n' "$c" "$mr" "$nr" "$(ratio "$mr" "$nr")" \
		"$(median ${p50[moat,$c]})" "$(median ${p50[nginx,$c]})" "$(median ${p99[moat,$c]})" "$(median ${p99[nginx,$c]})"
done
echo "target: moat/nginx req/s >= 0.80 at every concurrency"
