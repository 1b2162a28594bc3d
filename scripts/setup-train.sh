#!/bin/sh
# setup-train.sh installs what models/train needs from Debian packages
# (PyPI is unreachable here): PyTorch, the ONNX Python package, OpenBLAS and
# matplotlib (for the ROC/PR figure; train.py falls back to a hand-written
# SVG without it). Use /usr/bin/python3 afterwards, not a pyenv python3.
set -eu

if /usr/bin/python3 -c 'import torch, onnx' >/dev/null 2>&1; then
	echo "setup-train: torch and onnx already installed" >&2
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
	python3-torch python3-onnx libopenblas0-pthread python3-matplotlib
/usr/bin/python3 -c 'import torch, onnx; print("setup-train: torch", torch.__version__, "onnx", onnx.__version__)'
