#!/usr/bin/env bash
# False-block benchmark: installs the dependency trees of popular npm
# packages through a fresh moat in policy mode enforce, then lists every
# artifact moat refused or would have hidden, with the reason (malicious
# verdict and score, or scan error/timeout), and counts the distinct packages
# installed. Every refusal here is a false positive (or a true find worth a
# look): the goal is zero.
#
#   bench/popular-installs.sh [--scanner-bin BIN] [--keep DIR]
#
# --scanner-bin BIN  run this moat binary (also $MOAT_SCANNER_BIN) instead of
#                    building one from this checkout
# --keep DIR         copy moat's log, audit log and the lockfiles to DIR
#
# The top-level packages come in groups (GROUPS below), one temp project and
# one `npm install --ignore-scripts` each, so one group's peer conflict or
# refusal does not stop the others. When a group's install fails, every
# artifact refused so far gets an allow override (`moat verdict allow`, as a
# user would for a false positive) and the install is retried (up to
# $MOAT_BENCH_ATTEMPTS, default 8; once with --legacy-peer-deps after a peer
# conflict), so one false block does not hide the rest of the tree. Names in
# ../shared/data/reserved-for-evaluation.tsv are never install targets (they
# may still come in as dependencies). With hide_blocked_versions (the
# default), npm resolves around a version whose prefetch scan blocked it
# without ever asking for it, so refusals are listed from moat's "scanned" log
# lines (every scan, prefetch included) as well as from the audit log
# (artifacts refused to npm). Takes 10-20 minutes on 2 cores, mostly scanning.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
port=${MOAT_BENCH_PORT:-17879}
bin=${MOAT_SCANNER_BIN:-}
keep=""
while [ $# -gt 0 ]; do
	case "$1" in
	--scanner-bin) bin=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "popular-installs.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
work=$(mktemp -d /tmp/moat-popular.XXXXXX)
trap 'on_exit $?; stop_moat; rm -rf "$work"' EXIT
. bench/common.sh

GROUPS_=(
	"build: webpack webpack-cli webpack-dev-server terser-webpack-plugin babel-loader css-loader style-loader html-webpack-plugin less sass postcss tailwindcss esbuild rollup"
	"test: jest mocha karma cypress @babel/core ts-node nodemon prettier concurrently cross-env husky lint-staged"
	"react: next react-dom @testing-library/react @storybook/react storybook"
	"vue: vite vue @vue/compiler-sfc vite-plugin-inspect nuxt"
	"angular: @angular/cli"
	"backend: express socket.io mongoose sequelize pg redis ioredis mysql2 knex @nestjs/core @nestjs/common reflect-metadata prisma @prisma/client fastify koa graphql @apollo/server jsonwebtoken bcryptjs cors body-parser ws zod"
	"cloud: aws-sdk firebase puppeteer playwright electron"
	"utils: lodash yargs chalk moment dayjs handlebars node-fetch glob open"
	"gatsby: gatsby"
	"svelte: svelte @sveltejs/kit"
)

reserved="$root/../shared/data/reserved-for-evaluation.tsv"
is_reserved() {
	[ -f "$reserved" ] && awk -F'\t' -v n="$1" '$1=="npm" && tolower($2)==tolower(n) {f=1} END {exit !f}' "$reserved"
}

use_moat "$bin"
echo "machine: $(machine)"

data="$work/data"
mkdir -p "$data"
MOAT_BENCH_POLICY_MODE=enforce MOAT_LOG_FORMAT=json start_moat "$data" "$port"
reg="http://127.0.0.1:$port/npm/"
max_attempts=${MOAT_BENCH_ATTEMPTS:-8}
: >"$work/allowed.txt"

# refused_now: name@version of every artifact refused to npm (audit log) or
# whose scan was not clean (moat log: prefetch scans included, whose versions
# hide_blocked_versions then hides from npm).
refused_now() {
	sleep 0.2 # the audit log is written in batches within 10 ms
	{
		jq -r 'select(.action != "allow") | .name + "@" + .version' "$data"/audit.log* 2>/dev/null || true
		jq -r 'select(.msg == "scanned" and .verdict != "clean") | .package + "@" + .version' "$work/moat.log" 2>/dev/null || true
	} | sort -u
}

# allow_refused: adds an allow override for each refusal not yet allowed;
# prints how many it added.
allow_refused() {
	local nv added=0
	for nv in $(refused_now); do
		grep -qxF "$nv" "$work/allowed.txt" && continue
		echo "$nv" >>"$work/allowed.txt"
		"$work/moat" verdict allow npm "$nv" --reason "popular-installs bench: measured false block" \
			--server "http://127.0.0.1:$port" --data "$data" >/dev/null 2>>"$work/verdict.log" || true
		added=$((added + 1))
	done
	echo "$added"
}

targets=0
skipped=()
t_all0=$(date +%s)
: >"$work/groups.txt"
for g in "${GROUPS_[@]}"; do
	name=${g%%:*}
	pkgs=()
	for p in ${g#*:}; do
		if is_reserved "$p"; then skipped+=("$p"); else pkgs+=("$p"); fi
	done
	[ ${#pkgs[@]} -gt 0 ] || continue
	targets=$((targets + ${#pkgs[@]}))
	app="$work/app-$name"
	mkdir -p "$app"
	echo '{ "name": "popular-installs", "version": "1.0.0", "private": true }' >"$app/package.json"
	status=failed
	peer=()
	for attempt in $(seq 1 "$max_attempts"); do
		cache=$(mktemp -d "$work/cache.XXXXXX")
		t0=$(date +%s)
		if (cd "$app" && npm install --registry "$reg" --cache "$cache" --ignore-scripts --no-audit --no-fund \
			--fetch-timeout=600000 --fetch-retries=1 --loglevel=error "${peer[@]}" "${pkgs[@]}" \
			>"$work/npm-$name-$attempt.log" 2>&1); then
			status=ok
		fi
		rm -rf "$cache"
		printf '%-8s attempt %d: %-6s %4ds  %s\n' "$name" "$attempt" "$status" "$(($(date +%s) - t0))" "${pkgs[*]}"
		[ "$status" = ok ] && break
		grep -E 'npm (error|ERR!)' "$work/npm-$name-$attempt.log" | head -n 4 | cut -c1-300 | sed 's/^/    /'
		# Let through what moat refused so far (as a user would with
		# `moat verdict allow`) and try again, so that one false block does
		# not hide the rest of the tree.
		n=$(allow_refused)
		if [ "$n" = 0 ]; then
			if [ ${#peer[@]} = 0 ] && grep -q ERESOLVE "$work/npm-$name-$attempt.log"; then
				peer=(--legacy-peer-deps)
			else
				break
			fi
		fi
	done
	echo "$name $status" >>"$work/groups.txt"
done
elapsed=$(($(date +%s) - t_all0))
[ ${#skipped[@]} -gt 0 ] && echo "reserved names not used as install targets: ${skipped[*]}"

sleep 1 # the audit log is written in batches within 10 ms
stop_moat

# Keep the raw material first, so a failure below loses nothing.
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	cp "$work/moat.log" "$work/groups.txt" "$work/allowed.txt" "$keep/"
	for f in "$work"/app-*/package-lock.json; do
		if [ -f "$f" ]; then cp "$f" "$keep/$(basename "$(dirname "$f")")-package-lock.json"; fi
	done
	cp "$data"/audit.log* "$keep/" 2>/dev/null || true
	for f in "$work"/npm-*.log; do cp "$f" "$keep/"; done
fi
echo
echo "refused by moat (audit log: artifacts npm asked for):"
jq -r 'select(.action != "allow") | [.name + "@" + .version, .action, (.layer // ""), ((.score // 0) | tostring), ((.reasons // []) | join("; "))] | @tsv' \
	"$data"/audit.log* 2>/dev/null | sort -u | awk -F'\t' '{printf "  %-50s %-6s %-10s score=%-8.4f %s\n", $1, $2, $3, $4, $5}' | tee "$work/refused.txt"
[ -s "$work/refused.txt" ] || echo "  none"
echo
echo "scans judged malicious or failed (moat log, prefetch included):"
jq -r 'select(.msg == "scanned" and .verdict != "clean") | [.package + "@" + .version, .verdict, (.score | tostring), (.ms | tostring)] | @tsv' \
	"$work/moat.log" 2>/dev/null | sort -u | awk -F'\t' '{printf "  %-50s %-9s score=%-8.4f %s ms\n", $1, $2, $3, $4}' | tee "$work/bad-scans.txt"
[ -s "$work/bad-scans.txt" ] || echo "  none"
scans=$(jq -r 'select(.msg == "scanned") | .package + "@" + .version' "$work/moat.log" 2>/dev/null | sort -u | wc -l)
# (|| true: head ends the pipe early, and pipefail would make that fatal)
slow=$(jq -r 'select(.msg == "scanned") | "\(.ms)\t\(.package)@\(.version)"' "$work/moat.log" 2>/dev/null | sort -rn | head -n 5 | awk -F'\t' '{printf "%s (%s ms) ", $2, $1}' || true)

for f in "$work"/app-*/package-lock.json; do
	[ -f "$f" ] || continue
	jq -r '.packages | to_entries[] | select((.key | startswith("node_modules/")) and .value.version != null and (.value.link | not)) | (.key | sub(".*node_modules/"; "")) + "@" + .value.version' "$f"
done | sort -u >"$work/installed.txt"
distinct=$(wc -l <"$work/installed.txt")
ok=$(grep -c ' ok$' "$work/groups.txt" || true)
ngroups=$(wc -l <"$work/groups.txt")
echo
echo "slowest scans: $slow"
if [ -n "$keep" ]; then cp "$work/installed.txt" "$work/refused.txt" "$work/bad-scans.txt" "$keep/"; fi
printf 'summary: %d top-level targets in %d groups (%d installed ok), %d distinct packages installed (lockfiles), %d artifacts scanned, %d refused to npm, %d scans malicious or failed, %d allow overrides needed, %d s\n' \
	"$targets" "$ngroups" "$ok" "$distinct" "$scans" "$(wc -l <"$work/refused.txt")" "$(wc -l <"$work/bad-scans.txt")" "$(wc -l <"$work/allowed.txt")" "$elapsed"
