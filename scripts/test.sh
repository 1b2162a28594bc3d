#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run calls exactly this) and what a
# developer runs. Installs what the tests need (the ONNX Runtime library),
# then checks formatting, vet, the cgo-free build, and runs every test with
# the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-onnxruntime.sh
export MOAT_ORT_LIB="$PWD/lib/libonnxruntime.so.1"
export MOAT_REQUIRE_ORT=1

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== cgo-free build of everything but scan/features, scan/model and the binary"
CGO_ENABLED=0 go build $(go list ./... | grep -v -e /scan/features -e /scan/model -e /cmd/moat)

echo "== go test -race"
go test -race -timeout 25m -count=1 ./...
