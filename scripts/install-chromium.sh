#!/bin/sh
# install-chromium.sh installs Debian's headless-capable Chromium, which the
# status-page browser test (cmd/moat/e2e_admin_test.go) drives with
# --headless --dump-dom / --screenshot. It is a no-op when a chromium binary
# is already on PATH. Needs root (or sudo) and apt-get; exits non-zero when
# Chromium cannot be installed, so callers can skip.
#
# Usage: scripts/install-chromium.sh
set -eu

find_chromium() {
	for c in chromium chromium-browser; do
		if command -v "$c" >/dev/null 2>&1; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

if p=$(find_chromium); then
	echo "install-chromium: $p already present" >&2
	exit 0
fi

command -v apt-get >/dev/null 2>&1 || {
	echo "install-chromium: apt-get not found; install Chromium by hand" >&2
	exit 1
}

sudo=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo="sudo -n"
	else
		echo "install-chromium: not root and no passwordless sudo" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
# Install from the lists already present first; refresh them only if that fails.
if ! $sudo apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1; then
	$sudo apt-get update -q >/dev/null
	$sudo apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

p=$(find_chromium) || {
	echo "install-chromium: chromium still not on PATH after apt-get" >&2
	exit 1
}
echo "install-chromium: installed $p ($("$p" --version 2>/dev/null || echo unknown version))" >&2
