#!/usr/bin/env bash
# Runs every Go fuzz target in the repository, one after the other, for
# SECONDS each (default 60), and fails if any of them finds a crash.
#
#   scripts/fuzz.sh          # 60 s per target
#   scripts/fuzz.sh 10       # a quick pass
#   FUZZ_PARALLEL=1 scripts/fuzz.sh 30   # fewer fuzz workers on a shared machine
#   FUZZ_MATCH=Parse scripts/fuzz.sh     # only targets whose name matches (grep -E)
#
# Targets are discovered with `go test -list '^Fuzz' ./...`. A crasher lands
# in <package>/testdata/fuzz/<FuzzName>/ (Go writes it there), where plain
# `go test` replays it from then on as a regression test: commit it with the
# fix. The input that failed is printed with the command that replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
case "$secs" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac
parallel=()
[ -n "${FUZZ_PARALLEL:-}" ] && parallel=(-parallel "$FUZZ_PARALLEL")
export CGO_ENABLED=${CGO_ENABLED:-1} # scan/features and scan/model fuzz through cgo

# `go test -list` prints each package's matching names, then its "ok" line.
# A package that does not build is reported and skipped; the rest still run.
list=$(go test -list '^Fuzz' ./... 2>&1) || {
	echo "fuzz: warning: some packages did not build; their targets are skipped:" >&2
	grep -E '^(FAIL|#)|\.go:[0-9]+' <<<"$list" | head -20 >&2 || true
}
targets=()
names=()
while IFS= read -r line; do
	case "$line" in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg=$(awk '{print $2}' <<<"$line")
		for n in "${names[@]}"; do targets+=("$pkg $n"); done
		names=()
		;;
	*) names=() ;;
	esac
done <<<"$list"
if [ -n "${FUZZ_MATCH:-}" ]; then
	mapfile -t targets < <(printf '%s\n' "${targets[@]}" | grep -E -- "$FUZZ_MATCH" || true)
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 2
fi
echo "fuzz: ${#targets[@]} targets, ${secs}s each (${#targets[@]}x${secs}s of fuzzing, plus a build per target)"

failed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
i=0
for t in "${targets[@]}"; do
	i=$((i + 1))
	pkg=${t% *}
	name=${t#* }
	rel=${pkg#github.com/moatproject/moat}
	rel=.${rel:-/}
	printf '[%d/%d] %s %s ... ' "$i" "${#targets[@]}" "$rel" "$name"
	start=$(date +%s)
	if go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" "${parallel[@]}" >"$log" 2>&1; then
		execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | awk '{print $2}')
		echo "ok ($(( $(date +%s) - start ))s, ${execs:-?} execs)"
	else
		echo "FAIL"
		sed 's/^/    /' "$log" | tail -40
		crasher=$(grep -oE 'testdata/fuzz/'"$name"'/[0-9a-f]+' "$log" | tail -1 || true)
		if [ -n "$crasher" ]; then
			echo "    crasher: $rel/$crasher"
			echo "    replay:  go test $rel -run '^${name}\$/$(basename "$crasher")\$'"
		fi
		failed+=("$rel $name")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo
	echo "fuzz: ${#failed[@]} target(s) failed:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed"
