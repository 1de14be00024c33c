#!/usr/bin/env bash
# Installs the PyTorch that `rnn bench` compares against: Debian/Ubuntu's python3-torch (CPU), and OpenBLAS.
# Debian's PyTorch does its matrix products through the system BLAS; without OpenBLAS that is the reference
# BLAS, about 16× slower here (6 vs 96 GFLOP/s for a 1024² float32 product), which would make any comparison
# meaningless.
# It goes to /usr/lib and /usr/bin/python3; the notebooks are protected from this system libtorch by
# Course.Setup (see README, Troubleshooting). Needs root (or sudo) and apt.
set -euo pipefail
if /usr/bin/python3 -c 'import torch' 2>/dev/null && ls /usr/lib/x86_64-linux-gnu/libopenblas*.so* >/dev/null 2>&1; then
  echo "PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') and OpenBLAS are already installed for /usr/bin/python3"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "apt-get not found: install PyTorch (CPU) for a python3 yourself and pass --python PATH to rnn bench" >&2
  exit 1
fi
sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-torch libopenblas0-pthread
/usr/bin/python3 -c 'import torch; print("installed PyTorch", torch.__version__)'
