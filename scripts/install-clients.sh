#!/usr/bin/env bash
# Installs the package-manager clients the transparent-mode end-to-end tests
# drive besides npm and pip: yarn classic (1.x) and pnpm 9, into a
# project-local npm prefix (.cache/clients, or $MOAT_CLIENTS_PREFIX).
# Idempotent: when both are already there it does nothing. On success it
# prints the bin directory (and nothing else) on stdout; npm's output goes
# to stderr. It needs the npm registry to be reachable.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="${MOAT_CLIENTS_PREFIX:-$PWD/.cache/clients}"

have() { # have TOOL MAJOR
	local v
	v=$("$prefix/bin/$1" --version 2>/dev/null) || return 1
	[[ "$v" == "$2".* ]]
}

if ! have yarn 1 || ! have pnpm 9; then
	command -v npm >/dev/null || { echo "install-clients: npm is not installed" >&2; exit 1; }
	mkdir -p "$prefix"
	npm install --global --prefix "$prefix" --no-audit --no-fund --no-update-notifier \
		--loglevel error yarn@1 pnpm@9 >&2
	if ! have yarn 1 || ! have pnpm 9; then
		echo "install-clients: yarn 1 / pnpm 9 not usable after installing into $prefix" >&2
		exit 1
	fi
fi
echo "$prefix/bin"
