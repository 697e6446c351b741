#!/usr/bin/env bash
# Installs the Debian packages ganengine needs to build, test, fuzz and benchmark. Idempotent:
# quiet when everything is already there.
#
# The CUDA Toolkit (nvcc, cuBLAS, cuDNN 9) is looked for under /usr/local/cuda (or
# $CUDAToolkit_ROOT): the emulator build (dev preset) needs its headers, the cuda preset nvcc
# too. Without it the CUDA backend is off: setup builds the CPU engine (the cpu preset, which
# needs no toolkit) and says so; GE_SETUP_BUILD=0 skips that build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build git pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-context-dev libopenblas-dev
  openmpi-bin libopenmpi-dev
  libstb-dev libcli11-dev nlohmann-json3-dev
  clang-format python3
  clang libclang-rt-14-dev llvm
  fonts-dejavu-core fonts-dejavu-extra fonts-liberation2 fonts-freefont-ttf
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cuda_root=${CUDAToolkit_ROOT:-/usr/local/cuda}
if [[ ! -f "$cuda_root/include/cuda_runtime_api.h" ]]; then
  echo "setup: no CUDA Toolkit at $cuda_root (no include/cuda_runtime_api.h): the CUDA backend is off."
  echo "setup: the cpu preset builds the CPU engine without it (cmake --workflow --preset cpu);"
  echo "setup: for the dev and cuda presets, install CUDA 12 or 13 with cuBLAS and cuDNN 9, or set CUDAToolkit_ROOT."
  if [[ ${GE_SETUP_BUILD:-1} != 0 ]]; then
    echo "setup: building the CPU engine (cpu preset, build/cpu)"
    cmake --preset cpu >/dev/null
    cmake --build --preset cpu
  fi
  exit 0
fi
if [[ ! -f "$cuda_root/include/cudnn.h" ]] && ! ls /usr/include/cudnn*.h >/dev/null 2>&1; then
  echo "setup: note: cuDNN headers not found; the cuda preset needs cuDNN 9 (the dev preset does not)." >&2
fi
