#!/usr/bin/env bash
# Fetches the photographs that super-resolution trains and is evaluated on into DATA_DIR (default
# data/photos): DATA_DIR/train/ and DATA_DIR/test/ as scripts/photos/{train,test}.sha256 list
# them. The source is Debian's opencv-doc package (OpenCV's sample images: baboon, butterfly,
# fruits, street scenes, aerial views, ...); its .deb is fetched with `apt-get download` and
# unpacked with `dpkg-deb -x` into a temporary directory, so nothing is installed. Each list line
# is `sha256  PATH`, PATH relative to usr/share/doc/opencv-doc/; the file is saved under a flat
# name: PATH without "examples/" and "data/" parts, the remaining "/" as "-" (examples/data/
# baboon.jpg -> baboon.jpg, examples/dnn_superres/butterfly.png -> dnn_superres-butterfly.png).
# Every file is checked against its hash; a package whose files differ is an error.
#
# Idempotent: does nothing when every listed file is already in place with its hash.
#
#   scripts/fetch_photos.sh [DATA_DIR]
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data_dir=${1:-data/photos}
lists=(train test)

flat_name() {
  local p=${1#examples/}
  p=${p//data\//}
  echo "${p//\//-}"
}

all_present() {
  local split hash path
  for split in "${lists[@]}"; do
    while read -r hash path; do
      [[ -z $hash ]] && continue
      local f="$data_dir/$split/$(flat_name "$path")"
      [[ -f $f ]] || return 1
      [[ $(sha256sum "$f" | cut -d' ' -f1) == "$hash" ]] || return 1
    done <"$script_dir/photos/$split.sha256"
  done
}

if all_present; then
  echo "fetch_photos: $data_dir already holds the listed photographs"
  exit 0
fi

for tool in apt-get dpkg-deb sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch_photos: '$tool' is required but was not found on PATH" >&2
    exit 1
  fi
done

tmp=$(mktemp -d)
chmod 755 "$tmp"  # apt-get download may write as the unprivileged _apt user
trap 'rm -rf "$tmp"' EXIT

echo "fetch_photos: downloading opencv-doc with apt-get download"
if ! (cd "$tmp" && apt-get download -q opencv-doc >download.out 2>&1); then
  echo "fetch_photos: 'apt-get download opencv-doc' failed:" >&2
  cat "$tmp/download.out" >&2
  echo "fetch_photos: run 'apt-get update' first if the package lists are empty" >&2
  exit 1
fi
deb=$(ls "$tmp"/opencv-doc_*.deb 2>/dev/null | head -n 1)
if [[ -z $deb ]]; then
  echo "fetch_photos: apt-get download left no opencv-doc_*.deb in $tmp" >&2
  exit 1
fi
dpkg-deb -x "$deb" "$tmp/pkg"
root="$tmp/pkg/usr/share/doc/opencv-doc"

for split in "${lists[@]}"; do
  mkdir -p "$data_dir/$split"
  count=0
  while read -r hash path; do
    [[ -z $hash ]] && continue
    src="$root/$path"
    if [[ ! -f $src ]]; then
      echo "fetch_photos: $(basename "$deb") has no $path (listed in scripts/photos/$split.sha256)" >&2
      exit 1
    fi
    got=$(sha256sum "$src" | cut -d' ' -f1)
    if [[ $got != "$hash" ]]; then
      echo "fetch_photos: $path in $(basename "$deb") has sha256 $got, expected $hash" >&2
      exit 1
    fi
    cp "$src" "$data_dir/$split/$(flat_name "$path")"
    count=$((count + 1))
  done <"$script_dir/photos/$split.sha256"
  echo "fetch_photos: $count photographs in $data_dir/$split"
done
