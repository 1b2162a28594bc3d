#!/bin/sh
# install-onnxruntime.sh installs the ONNX Runtime shared library that
# scan/model loads at run time (through github.com/yalue/onnxruntime_go
# v1.27.0, which needs ORT API 24, i.e. ONNX Runtime >= 1.24; an older library
# fails with "Error setting ORT API base").
#
# Usage: scripts/install-onnxruntime.sh [DEST]
#
# DEST defaults to $MOAT_ORT_LIB, else ./lib/libonnxruntime.so.1 under the
# repository root (/lib/ is git-ignored). The library is taken from the
# onnxruntime-node package with `npm pack` (which only downloads the tarball:
# the package is never installed, so its install script, which fetches CUDA
# parts, never runs); only the linux/x64 libonnxruntime.so.1 is extracted and
# its sha256 is checked against the pinned value below. Running it again is a
# no-op when DEST already holds the right file.
set -eu

ORT_VERSION=1.24.1
ORT_MEMBER=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
ORT_SHA256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4

repo_root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
dest=${1:-${MOAT_ORT_LIB:-$repo_root/lib/libonnxruntime.so.1}}

case "$(uname -s)/$(uname -m)" in
Linux/x86_64 | Linux/amd64) ;;
*)
	echo "install-onnxruntime: only linux/x86_64 is pinned here; got $(uname -s)/$(uname -m)" >&2
	exit 1
	;;
esac

sum() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$dest" ] && [ "$(sum "$dest")" = "$ORT_SHA256" ]; then
	echo "install-onnxruntime: $dest already present (ONNX Runtime $ORT_VERSION)" >&2
	exit 0
fi

command -v npm >/dev/null 2>&1 || {
	echo "install-onnxruntime: npm is required (used only for 'npm pack', never 'npm install')" >&2
	exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "install-onnxruntime: fetching onnxruntime-node@$ORT_VERSION (npm pack)" >&2
(cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
tgz=$(ls "$tmp"/onnxruntime-node-*.tgz)
tar -xzf "$tgz" -C "$tmp" "$ORT_MEMBER"

got=$(sum "$tmp/$ORT_MEMBER")
if [ "$got" != "$ORT_SHA256" ]; then
	echo "install-onnxruntime: sha256 mismatch for $ORT_MEMBER: got $got, want $ORT_SHA256" >&2
	exit 1
fi

mkdir -p "$(dirname -- "$dest")"
# Install atomically so a concurrent reader never sees a half-written file.
cp "$tmp/$ORT_MEMBER" "$dest.tmp.$$"
chmod 0644 "$dest.tmp.$$"
mv -f "$dest.tmp.$$" "$dest"
echo "install-onnxruntime: installed ONNX Runtime $ORT_VERSION to $dest" >&2
