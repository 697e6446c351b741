#!/usr/bin/env bash
# Runs a command on this machine as if no CUDA Toolkit were installed: in a private mount
# namespace, every /usr/local/cuda* directory is covered by an empty tmpfs and the toolkit's
# directories leave PATH and LD_LIBRARY_PATH, so a build that still reached for a CUDA header,
# library or nvcc fails. Needs root (or user namespaces) for unshare; says so when it cannot.
#
#   scripts/without_cuda.sh cmake --workflow --preset cpu
set -euo pipefail
(($#)) || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

if [[ ${GE_CUDA_HIDDEN:-} != 1 ]]; then
  if ! unshare --mount --propagation private true 2>/dev/null; then
    echo "without_cuda: cannot make a private mount namespace (unshare needs root or" \
      "user namespaces); run the command on a machine without the CUDA Toolkit instead" >&2
    exit 1
  fi
  GE_CUDA_HIDDEN=1 exec unshare --mount --propagation private "$0" "$@"
fi

for dir in /usr/local/cuda*; do
  [[ -d $dir && ! -L $dir ]] && mount -t tmpfs -o size=1m,mode=0755 ge-no-cuda "$dir"
done
strip_cuda() { tr ':' '\n' <<<"$1" | grep -v '^/usr/local/cuda' | paste -sd: -; }
PATH=$(strip_cuda "$PATH")
LD_LIBRARY_PATH=$(strip_cuda "${LD_LIBRARY_PATH:-}")
export PATH LD_LIBRARY_PATH
unset CUDAToolkit_ROOT CUDA_PATH CUDA_HOME
if nvcc --version >/dev/null 2>&1 || [[ -e /usr/local/cuda/include/cuda_runtime_api.h ]]; then
  echo "without_cuda: the CUDA Toolkit is still visible" >&2
  exit 1
fi
exec "$@"
