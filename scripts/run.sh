#!/usr/bin/env bash
# Set up and start moat with its embedded defaults: installs the ONNX Runtime
# library, builds bin/moat, and runs `moat serve` on 127.0.0.1:7878 (extra
# arguments go to `moat serve`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-onnxruntime.sh
go build -o bin/moat ./cmd/moat
mkdir -p bin/lib && cp -f lib/libonnxruntime.so.1 bin/lib/
exec bin/moat serve "$@"
