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
rounds=${1:-5}
port=${MOAT_BENCH_PORT:-17878}
work=$(mktemp -d /tmp/moat-bench.XXXXXX)
trap 'kill "${moat_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

bash scripts/install-onnxruntime.sh >/dev/null
go build -o "$work/moat" ./cmd/moat
export MOAT_ORT_LIB="$PWD/lib/libonnxruntime.so.1"

mkdir -p "$work/app"
cat > "$work/app/package.json" <<'JSON'
{ "name": "bench-app", "version": "1.0.0", "private": true,
  "dependencies": { "express": "^4.21.0", "react": "^18.3.1", "react-dom": "^18.3.1", "axios": "^1.7.0",
    "lodash": "^4.17.21", "webpack": "^5.95.0", "@babel/core": "^7.25.0", "eslint": "^8.57.0",
    "jest": "^29.7.0", "typescript": "^5.6.0", "moment": "^2.30.1", "chalk": "^4.1.2" } }
JSON

install() { # registry-or-empty label
  local reg=$1 cache t0 t1
  cache=$(mktemp -d "$work/cache.XXXXXX")
  rm -rf "$work/app/node_modules" "$work/app/package-lock.json"
  t0=$(date +%s.%N)
  if [ -n "$reg" ]; then
    (cd "$work/app" && npm install --registry "$reg" --cache "$cache" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  else
    (cd "$work/app" && npm install --cache "$cache" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  t1=$(date +%s.%N)
  rm -rf "$cache"
  awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}'
}

start_moat() { # data-dir; policy mode warn (MOAT_BENCH_POLICY_MODE): all the work, no aborted install on a false positive
  MOAT_POLICY_MODE=${MOAT_BENCH_POLICY_MODE:-warn} "$work/moat" serve --listen "127.0.0.1:$port" --proxy-listen off --data "$1" >"$work/moat.log" 2>&1 &
  moat_pid=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "moat did not start:"; cat "$work/moat.log"; exit 1
}
stop_moat() { kill "$moat_pid"; wait "$moat_pid" 2>/dev/null || true; moat_pid=; }

declare -a direct cold warm
for r in $(seq 1 "$rounds"); do
  d=$(install "")
  data=$(mktemp -d "$work/data.XXXXXX")
  start_moat "$data"
  c=$(install "http://127.0.0.1:$port/npm/")
  w=$(install "http://127.0.0.1:$port/npm/")
  stop_moat
  rm -rf "$data"
  direct+=("$d"); cold+=("$c"); warm+=("$w")
  printf 'round %d: direct %.2fs  moat-cold %.2fs  moat-warm %.2fs\n' "$r" "$d" "$c" "$w"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
md=$(median "${direct[@]}"); mc=$(median "${cold[@]}"); mw=$(median "${warm[@]}")
pkgs=$(find "$work/app/node_modules" -name package.json -path '*/node_modules/*/package.json' -not -path '*/node_modules/*/node_modules/*/*/package.json' | wc -l)
echo
echo "packages installed: ~$pkgs; rounds: $rounds; machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
printf 'median direct    %.2fs\n' "$md"
printf 'median moat cold %.2fs  ratio %.2fx direct (target <= 1.3)\n' "$mc" "$(awk -v a="$mc" -v b="$md" 'BEGIN{print a/b}')"
printf 'median moat warm %.2fs  ratio %.2fx direct (target <= 1.0)\n' "$mw" "$(awk -v a="$mw" -v b="$md" 'BEGIN{print a/b}')"
