# Shared helpers for the bench/*.sh scripts (sourced, not run). The caller
# sets $work (a scratch dir it removes) and $root (the repository root).
# Same approach as bench/npm-install.sh: a fresh npm cache and node_modules
# for every install, paired rounds, medians and ratios, never one wall time.

# build_moat: builds the moat binary into $work/moat with the ONNX Runtime
# library it loads.
build_moat() {
	bash "$root/scripts/install-onnxruntime.sh" >/dev/null
	(cd "$root" && go build -o "$work/moat" ./cmd/moat)
	export MOAT_ORT_LIB="$root/lib/libonnxruntime.so.1"
}

# write_app DIR: the realistic app bench/npm-install.sh installs.
write_app() {
	mkdir -p "$1"
	cat >"$1/package.json" <<'JSON'
{ "name": "bench-app", "version": "1.0.0", "private": true,
  "dependencies": { "express": "^4.21.0", "react": "^18.3.1", "react-dom": "^18.3.1", "axios": "^1.7.0",
    "lodash": "^4.17.21", "webpack": "^5.95.0", "@babel/core": "^7.25.0", "eslint": "^8.57.0",
    "jest": "^29.7.0", "typescript": "^5.6.0", "moment": "^2.30.1", "chalk": "^4.1.2" } }
JSON
}

# app_install APP REGISTRY-OR-EMPTY: installs the app with a fresh npm cache
# and prints the wall time in seconds.
app_install() {
	local app=$1 reg=$2 cache t0 t1
	cache=$(mktemp -d "$work/cache.XXXXXX")
	rm -rf "$app/node_modules" "$app/package-lock.json"
	local args=(install --cache "$cache" --ignore-scripts --no-audit --no-fund --loglevel=error)
	[ -n "$reg" ] && args+=(--registry "$reg")
	t0=$(date +%s.%N)
	(cd "$app" && npm "${args[@]}" >/dev/null)
	t1=$(date +%s.%N)
	rm -rf "$cache"
	awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}'
}

# start_moat DATA PORT: runs moat serve in the background (pid in $moat_pid)
# and waits for /healthz. Policy mode warn by default (MOAT_BENCH_POLICY_MODE):
# every artifact is still fetched, verified, stored, scanned and decided on,
# but a scanner false positive in the app's ~400 packages does not abort the
# install being timed.
start_moat() {
	MOAT_POLICY_MODE=${MOAT_BENCH_POLICY_MODE:-warn} "$work/moat" serve --listen "127.0.0.1:$2" --proxy-listen off --data "$1" >"$work/moat.log" 2>&1 &
	moat_pid=$!
	wait_http "http://127.0.0.1:$2/healthz" 100 || { echo "moat did not start:"; cat "$work/moat.log"; exit 1; }
}

stop_moat() {
	[ -n "${moat_pid:-}" ] || return 0
	kill "$moat_pid" 2>/dev/null || true
	wait "$moat_pid" 2>/dev/null || true
	moat_pid=
}

# wait_http URL TENTHS: polls URL every 0.1 s, TENTHS times.
wait_http() {
	for _ in $(seq 1 "$2"); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# on_exit STATUS: after a failure, shows the end of the server logs.
on_exit() {
	[ "$1" = 0 ] && return 0
	for f in "$work"/*.log; do
		[ -s "$f" ] && { echo "--- last lines of $(basename "$f"):"; tail -n 25 "$f"; }
	done
	return 0
}

# vm_hwm PID: peak resident set size of PID in MB.
vm_hwm() { awk '/^VmHWM:/{printf "%.1f", $2/1024}' "/proc/$1/status"; }

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

# machine: one line naming the machine and its load, for the figures.
machine() {
	local model
	model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
	echo "$(nproc) cores ($model), $(free -g | awk '/Mem:/{print $2}') GiB RAM, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
}
