#!/usr/bin/env bash
# Installs the build in $1 (default build/dev) to a scratch prefix, builds this consumer project
# against it with find_package(ganengine), and runs it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build/dev}" && pwd)
prefix=$build/consumer-prefix
rm -rf "$prefix" "$build/consumer"
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$root/tests/consumer" -B "$build/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCUDAToolkit_ROOT=/usr/local/cuda >/dev/null
cmake --build "$build/consumer" >/dev/null
"$build/consumer/consumer"
