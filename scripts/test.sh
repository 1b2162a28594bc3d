#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run calls exactly this) and what a
# developer runs. Installs what the tests need (the ONNX Runtime library),
# then checks formatting, vet, the cgo-free build, and runs every test with
# the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-onnxruntime.sh
# Clients and tools the end-to-end tests drive: yarn and pnpm (from npm) and
# Debian's chromium. A test whose tool could not be installed says so and skips.
bash scripts/install-clients.sh || echo "warning: yarn/pnpm could not be installed; their tests will skip"
bash scripts/install-chromium.sh || echo "warning: chromium could not be installed; the status-page test will skip"
export MOAT_ORT_LIB="$PWD/lib/libonnxruntime.so.1"
export MOAT_REQUIRE_ORT=1

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== cgo-free build of everything but scan/features, scan/model and the binaries that link them (cmd/moat, bench/filetimes)"
CGO_ENABLED=0 go build $(go list ./... | grep -v -e /scan/features -e /scan/model -e /cmd/moat -e /bench/filetimes)

echo "== go test -race"
go test -race -timeout 25m -count=1 ./...

echo "== training pipeline smoke test (tiny data, one epoch, export, load from Go)"
bash scripts/setup-train.sh
sh models/train/smoke_test.sh

echo "== corpus scan (../shared/data, when present): no crash, no hang"
bash scripts/scan-corpus.sh
