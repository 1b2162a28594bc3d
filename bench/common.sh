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

# use_moat [BIN]: $work/moat is BIN when given (a build to measure, e.g. an
# older model), else a build of this checkout; prints which.
use_moat() {
	if [ -n "${1:-}" ]; then
		cp "$1" "$work/moat"
		export MOAT_ORT_LIB=${MOAT_ORT_LIB:-$root/lib/libonnxruntime.so.1}
	else
		build_moat
	fi
	echo "moat: $("$work/moat" version 2>/dev/null | head -1 || true) (commit $(git -C "$root" rev-parse --short HEAD))"
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

stop_moat() { stop_pid moat_pid; }

# stop_pid VAR: stops the background process whose pid is in variable VAR
# (if any) and clears VAR.
stop_pid() {
	[ -n "${!1:-}" ] || return 0
	kill "${!1}" 2>/dev/null || true
	wait "${!1}" 2>/dev/null || true
	printf -v "$1" ''
}

# summary_head LOCKFILE ROUNDS: the lines every install benchmark's summary
# starts with (machine, packages installed, rounds).
summary_head() {
	echo
	echo "machine: $(machine)"
	echo "packages installed: $(jq '[.packages | keys[] | select(startswith("node_modules/"))] | length' "$1"); rounds: $2"
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

# ensure_nginx: installs Debian's nginx when it is missing.
ensure_nginx() {
	command -v nginx >/dev/null && return 0
	echo "installing nginx (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }
}

# lock_tarballs LOCKFILE: the registry path ("/name/-/name-1.2.3.tgz") of
# every package a package-lock.json installed (npm records no "resolved" URL
# for a registry given with --registry, so the paths are built).
lock_tarballs() {
	jq -r '.packages | to_entries[] | select((.key | startswith("node_modules/")) and .value.version != null and (.value.link | not))
	  | (.key | sub(".*node_modules/"; "")) as $n | "/\($n)/-/\($n | split("/") | last)-\(.value.version).tgz"' "$1" | sort -u
}

# static_mirror MOAT-NPM-BASE LOCKFILE DIR NEW-BASE: copies, through a warm
# moat, every package of LOCKFILE into DIR as a static npm registry for
# NEW-BASE: DIR/<name>/index.json (the abbreviated packument, tarball URLs
# rewritten to NEW-BASE) and the locked tarballs under the same paths.
static_mirror() {
	local base=$1 lock=$2 dir=$3 newbase=$4 p n
	mkdir -p "$dir"
	lock_tarballs "$lock" >"$dir.paths"
	while read -r p; do
		n=${p%/-/*}
		n=${n#/}
		if [ ! -s "$dir/$n/index.json" ]; then
			mkdir -p "$dir/$n"
			curl -fsS -H 'Accept: application/vnd.npm.install-v1+json' "$base$n" | sed "s#$base#$newbase#g" >"$dir/$n/index.json"
		fi
		mkdir -p "$dir$(dirname "$p")"
		curl -fsS -o "$dir$p" "${base%/}$p"
	done <"$dir.paths"
}

# start_static_nginx DIR PORT PROBE-PATH: serves DIR with nginx from disk
# (sendfile, keep-alive, no access log; "<path>/index.json" answers
# "<path>", so DIR can be a static npm registry) until stop_static_nginx.
start_static_nginx() {
	ensure_nginx
	chmod 755 "$work"
	chmod -R a+rX "$1"
	mkdir -p "$work/nginx-tmp"
	cat >"$work/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60;
  types { application/json json; application/octet-stream tgz; }
  default_type application/octet-stream;
  client_body_temp_path $work/nginx-tmp/body;
  proxy_temp_path $work/nginx-tmp/proxy;
  fastcgi_temp_path $work/nginx-tmp/fastcgi;
  uwsgi_temp_path $work/nginx-tmp/uwsgi;
  scgi_temp_path $work/nginx-tmp/scgi;
  server { listen 127.0.0.1:$2; root $1; location / { try_files \$uri \$uri/index.json =404; } }
}
EOF
	nginx -c "$work/nginx.conf" -p "$work"
	wait_http "http://127.0.0.1:$2$3" 50 || { echo "nginx did not start"; cat "$work/nginx-error.log"; exit 1; }
}

stop_static_nginx() {
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
	rm -f "$work/nginx.pid"
	return 0
}
