#!/usr/bin/env bash
# moat against its closest peer, Verdaccio (a caching npm registry proxy
# that does not scan): installs the realistic app of bench/npm-install.sh
#   direct          - from the registry npm is configured with
#   moat cold/warm  - through a fresh moat, then again with its cache full
#   verdaccio cold/warm - the same through a fresh Verdaccio 6.8.0
#   static floor    - nginx serving a static copy of the app's packuments
#                     and tarballs from disk (made once through moat): what
#                     npm takes when the registry costs nothing; no registry
#                     can be warmer
# Each install uses a fresh npm cache and node_modules; each round a fresh
# moat data dir and Verdaccio storage. Paired rounds, medians and ratios.
# Target: moat warm <= 0.5 x Verdaccio warm.
#
# Verdaccio is installed into .cache/bench/verdaccio (git-ignored) with an
# npm "overrides" entry pinning node-fetch to 2.7.0; its uplink is the
# registry npm is configured with, and its uplink maxage is set to moat's
# metadata_max_age (5m) so "warm" means the same for both.
# usage: bench/verdaccio.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-5}
port=${MOAT_BENCH_PORT:-18078}
vport=${VERDACCIO_BENCH_PORT:-18073}
sport=${STATIC_BENCH_PORT:-18074}
work=$(mktemp -d /tmp/moat-verdaccio.XXXXXX)
trap 'on_exit $?; stop_moat; stop_verdaccio; stop_static_nginx; rm -rf "$work"' EXIT
. bench/common.sh

upstream=$(npm config get registry)
case "$upstream" in http://* | https://*) ;; *) echo "npm config get registry printed '$upstream'"; exit 1 ;; esac

prefix=$root/.cache/bench/verdaccio
if [ ! -x "$prefix/node_modules/.bin/verdaccio" ]; then
	echo "installing verdaccio@6.8.0 into $prefix"
	mkdir -p "$prefix"
	cat >"$prefix/package.json" <<'JSON'
{ "name": "moat-bench-verdaccio", "version": "1.0.0", "private": true,
  "dependencies": { "verdaccio": "6.8.0" },
  "overrides": { "node-fetch": "2.7.0" } }
JSON
	(cd "$prefix" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "verdaccio $("$prefix/node_modules/.bin/verdaccio" --version)"

start_verdaccio() { # storage-dir
	cat >"$work/verdaccio.yaml" <<EOF
storage: $1
auth:
  htpasswd:
    file: $work/htpasswd
    max_users: -1
uplinks:
  upstream:
    url: $upstream
    maxage: 5m
    timeout: 60s
packages:
  '@*/*':
    access: \$all
    proxy: upstream
  '**':
    access: \$all
    proxy: upstream
web:
  enable: false
server:
  keepAliveTimeout: 60
log: { type: stdout, format: pretty, level: error }
EOF
	"$prefix/node_modules/.bin/verdaccio" --config "$work/verdaccio.yaml" --listen "127.0.0.1:$vport" >"$work/verdaccio.log" 2>&1 &
	verdaccio_pid=$!
	wait_http "http://127.0.0.1:$vport/-/ping" 300 || { echo "verdaccio did not start:"; cat "$work/verdaccio.log"; exit 1; }
}
stop_verdaccio() { stop_pid verdaccio_pid; }

build_moat
write_app "$work/app"
declare -a direct mcold mwarm vcold vwarm floor
for r in $(seq 1 "$rounds"); do
	d=$(app_install "$work/app" "")
	data=$(mktemp -d "$work/data.XXXXXX")
	start_moat "$data" "$port"
	mc=$(app_install "$work/app" "http://127.0.0.1:$port/npm/")
	mw=$(app_install "$work/app" "http://127.0.0.1:$port/npm/")
	if [ "$r" = 1 ]; then
		static_mirror "http://127.0.0.1:$port/npm/" "$work/app/package-lock.json" "$work/static" "http://127.0.0.1:$sport/"
		start_static_nginx "$work/static" "$sport" /express
	fi
	stop_moat
	rm -rf "$data"
	storage=$(mktemp -d "$work/storage.XXXXXX")
	start_verdaccio "$storage"
	vc=$(app_install "$work/app" "http://127.0.0.1:$vport/")
	vw=$(app_install "$work/app" "http://127.0.0.1:$vport/")
	stop_verdaccio
	rm -rf "$storage"
	fl=$(app_install "$work/app" "http://127.0.0.1:$sport/")
	direct+=("$d"); mcold+=("$mc"); mwarm+=("$mw"); vcold+=("$vc"); vwarm+=("$vw"); floor+=("$fl")
	printf 'round %d: direct %.2fs  moat cold %.2fs warm %.2fs  verdaccio cold %.2fs warm %.2fs  static floor %.2fs\n' "$r" "$d" "$mc" "$mw" "$vc" "$vw" "$fl"
done

md=$(median "${direct[@]}"); mc=$(median "${mcold[@]}"); mw=$(median "${mwarm[@]}")
vc=$(median "${vcold[@]}"); vw=$(median "${vwarm[@]}"); mf=$(median "${floor[@]}")
summary_head "$work/app/package-lock.json" "$rounds"
printf 'median direct          %6.2fs\n' "$md"
printf 'median moat cold       %6.2fs  %sx direct\n' "$mc" "$(ratio "$mc" "$md")"
printf 'median moat warm       %6.2fs  %sx direct\n' "$mw" "$(ratio "$mw" "$md")"
printf 'median verdaccio cold  %6.2fs  %sx direct\n' "$vc" "$(ratio "$vc" "$md")"
printf 'median verdaccio warm  %6.2fs  %sx direct\n' "$vw" "$(ratio "$vw" "$md")"
printf 'median static floor     %6.2fs  %sx direct\n' "$mf" "$(ratio "$mf" "$md")"
printf 'moat warm / verdaccio warm = %s (target <= 0.50); moat cold / verdaccio cold = %s\n' "$(ratio "$mw" "$vw")" "$(ratio "$mc" "$vc")"
printf 'static floor / verdaccio warm = %s (the lowest ratio any registry could reach); moat warm / static floor = %s\n' "$(ratio "$mf" "$vw")" "$(ratio "$mw" "$mf")"
