#!/usr/bin/env bash
# Resource usage of every CUDA kernel, as ptxas reports it for sm_90: registers, static shared
# memory, stack frame and spills, and the tensor-core instructions (mma.sync / wmma.mma) in the
# kernel's PTX, one row per kernel, written as a Markdown table to
# bench/results/<date>-ptxas-sm90.md (or the path given as $1).
#
# The compile commands are the `cuda` preset's own (configured into $PTXAS_BUILD_DIR with
# CMAKE_CUDA_ARCHITECTURES=90, read from its compile_commands.json), so include dirs, defines and
# flags match the real build; a .cu the configure step did not see reuses another kernel source's
# command. Every kernels/cuda/*.cu present at run time is compiled, object files go to a
# temporary directory, and the build tree is not otherwise touched.
#
# Exits non-zero when ptxas prints something the parser does not understand (an entry function
# without its register or stack line, an unknown ptxas line): then no table is written. A file
# that fails to compile is marked in the table, which is still written, and also makes the exit
# status non-zero.
#
# Environment: NVCC (default: the preset's), PTXAS_BUILD_DIR (default build/ptxas-sm90),
# JOBS (parallel compiles, default nproc).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_dir=${PTXAS_BUILD_DIR:-$root/build/ptxas-sm90}
jobs=${JOBS:-$(nproc)}
today=$(date +%F)
out=${1:-$root/bench/results/$today-ptxas-sm90.md}
export PATH="/usr/local/cuda/bin:$PATH"

die() {
  echo "ptxas_table: $*" >&2
  exit 1
}

for tool in cmake python3 c++filt awk; do
  command -v "$tool" >/dev/null || die "expected $tool on PATH"
done

shopt -s nullglob
sources=(kernels/cuda/*.cu)
shopt -u nullglob
((${#sources[@]} > 0)) || die "expected kernels/cuda/*.cu files, found none"

mkdir -p "$(dirname "$build_dir")"
echo "ptxas_table: configuring the cuda preset for sm_90 in $build_dir" >&2
cmake --preset cuda -B "$build_dir" -DCMAKE_CUDA_ARCHITECTURES=90 >"$build_dir.configure.log" 2>&1 ||
  die "cmake configure failed; see $build_dir.configure.log"
rm -f "$build_dir.configure.log"
[[ -f $build_dir/compile_commands.json ]] || die "expected $build_dir/compile_commands.json"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One shell-quoted command per source, in $work/<name>.cmd, run from the build directory: the
# preset's command with the object sent to $work and `-Xptxas -v` added, keeping the PTX in
# $work/keep_<name>.
python3 - "$build_dir/compile_commands.json" "$work" "$root" "${NVCC:-}" "${sources[@]}" <<'PY'
import json, os, shlex, sys

db_path, work, root, nvcc = sys.argv[1:5]
sources = [os.path.join(root, s) for s in sys.argv[5:]]
entries = {}
for e in json.load(open(db_path)):
    f = os.path.realpath(os.path.join(e["directory"], e["file"]))
    if f.endswith(".cu"):
        args = e.get("arguments") or shlex.split(e["command"])
        entries[f] = (e["directory"], args)
kernel_dir = os.path.realpath(os.path.join(root, "kernels", "cuda"))
templates = [(f, v) for f, v in sorted(entries.items()) if os.path.dirname(f) == kernel_dir]
if not templates:
    sys.exit("ptxas_table: no kernels/cuda/*.cu entry in " + db_path)

for src in sources:
    src = os.path.realpath(src)
    name = os.path.basename(src)[: -len(".cu")]
    if src in entries:
        directory, args = entries[src]
        args = list(args)
    else:
        tmpl_file, (directory, tmpl) = templates[0]
        args = [src if os.path.realpath(os.path.join(directory, a)) == tmpl_file else a
                for a in tmpl]
    if "-o" not in args:
        sys.exit(f"ptxas_table: no -o in the compile command of {src}")
    args[args.index("-o") + 1] = os.path.join(work, name + ".o")
    if nvcc:
        args[0] = nvcc
    # Drop any other architectures the command names: the table is for sm_90 alone.
    args = [a for a in args if not (a.startswith("--generate-code=") and "sm_90" not in a)]
    keep = os.path.join(work, "keep_" + name)
    args += ["-Xptxas", "-v", "--keep", "--keep-dir", keep]
    with open(os.path.join(work, name + ".cmd"), "w") as f:
        f.write(f"mkdir -p {shlex.quote(keep)} && cd {shlex.quote(directory)} && "
                f"{shlex.join(args)}\n")
PY

nvcc_bin=$(head -c 4096 "$work/$(basename "${sources[0]}" .cu).cmd" | sed -E 's/^mkdir [^&]* && cd [^&]* && ([^ ]+).*/\1/')
nvcc_version=$("$nvcc_bin" --version | grep -E 'release' | sed -E 's/.*release ([^,]+), (V[^ ]+).*/\1 (\2)/')
[[ -n $nvcc_version ]] || die "could not read the nvcc version from $nvcc_bin --version"

echo "ptxas_table: compiling ${#sources[@]} files with $jobs jobs" >&2
# The inner script expands its own $0 (the work directory) and $1 (a source), hence the quotes.
# shellcheck disable=SC2016
printf '%s\n' "${sources[@]}" | xargs -P "$jobs" -n 1 bash -c '
  name=$(basename "$1" .cu)
  bash "$0/$name.cmd" >"$0/$name.log" 2>&1 || echo failed >"$0/$name.failed"' "$work"

# A file that does not compile is reported and marked in the table; the exit status says so.
failed=()
for src in "${sources[@]}"; do
  name=$(basename "$src" .cu)
  if [[ -f $work/$name.failed ]]; then
    echo "ptxas_table: $src failed to compile:" >&2
    grep -v '^ptxas info' "$work/$name.log" | head -20 >&2
    failed+=("$src")
  fi
done

# ptxas -v, per entry function:
#   ptxas info    : Compiling entry function '<mangled>' for 'sm_90'
#   ptxas info    : Function properties for <mangled>
#       <S> bytes stack frame, <SS> bytes spill stores, <SL> bytes spill loads
#   ptxas info    : Used <R> registers, used <B> barriers, <M> bytes smem, ...
# Rows: file, mangled name, registers, smem, stack, spill stores, spill loads (tab-separated).
parse() {
  awk -v file="$1" '
    function flush() {
      if (entry == "") return
      if (regs == "" || stack == "") {
        printf "ptxas_table: %s: entry %s lacks its %s line\n", file, entry,
               regs == "" ? "register" : "stack frame" > "/dev/stderr"
        bad = 1
      } else {
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", file, entry, regs, smem, stack, st, ld
      }
      entry = ""
    }
    function num_before(s, unit,   r) {
      if (match(s, "[0-9]+ " unit)) { r = substr(s, RSTART, RLENGTH); sub(" .*", "", r); return r }
      return ""
    }
    /^ptxas info +: Compiling entry function / {
      flush()
      entry = $0; sub(/^[^'\'']*'\''/, "", entry); sub(/'\''.*/, "", entry)
      regs = ""; smem = 0; stack = ""; st = ""; ld = ""; props = ""
      next
    }
    /^ptxas info +: Function properties for / {
      props = $0; sub(/^.*Function properties for /, "", props)
      next
    }
    /bytes stack frame/ {
      if (entry != "" && props == entry) {
        stack = num_before($0, "bytes stack frame")
        st = num_before($0, "bytes spill stores")
        ld = num_before($0, "bytes spill loads")
        if (stack == "" || st == "" || ld == "") {
          printf "ptxas_table: %s: unparsed stack line: %s\n", file, $0 > "/dev/stderr"; bad = 1
        }
      }
      # A non-entry function (a non-inlined device function) has properties but no row.
      next
    }
    /^ptxas info +: Used [0-9]+ registers/ {
      if (entry == "") next
      regs = num_before($0, "registers")
      m = num_before($0, "bytes smem"); smem = m == "" ? 0 : m
      flush()
      next
    }
    /^ptxas info +: ([0-9]+ bytes gmem|Compile time)/ { next }
    /^ptxas/ { printf "ptxas_table: %s: unknown ptxas line: %s\n", file, $0 > "/dev/stderr"; bad = 1 }
    END { flush(); exit bad }
  ' "$2"
}

rows=$work/rows.tsv
: >"$rows"
for src in "${sources[@]}"; do
  name=$(basename "$src" .cu)
  [[ -f $work/$name.failed ]] && continue
  parse "$src" "$work/$name.log" >>"$rows" || die "could not parse the ptxas output of $src"
done

# Tensor-core instructions per entry function, counted in the kept PTX (after unrolling):
# mangled name, count.
mma_counts=$work/mma.tsv
: >"$mma_counts"
for src in "${sources[@]}"; do
  name=$(basename "$src" .cu)
  [[ -f $work/$name.failed ]] && continue
  for ptx in "$work/keep_$name"/*.ptx; do
    [[ -f $ptx ]] || continue
    awk '
      /\.entry [A-Za-z_]/ { e = $0; sub(/.*\.entry +/, "", e); sub(/\(.*/, "", e); n[e] += 0; next }
      /^[ \t]*(mma\.sync|wmma\.mma)/ { if (e != "") n[e]++ }
      END { for (k in n) printf "%s\t%d\n", k, n[k] }
    ' "$ptx" >>"$mma_counts"
  done
done
# Appends each row's mma count (0 when its PTX was not found).
awk -F'\t' -v OFS='\t' 'NR == FNR { c[$1] = $2; next } { print $0, ($2 in c ? c[$2] : 0) }' \
  "$mma_counts" "$rows" >"$work/rows_mma.tsv"
mv "$work/rows_mma.tsv" "$rows"

# Demangle the second column in one c++filt call, keeping row order.
cut -f2 "$rows" | c++filt >"$work/names.txt"
[[ $(wc -l <"$work/names.txt") -eq $(wc -l <"$rows") ]] || die "c++filt changed the row count"

kernels=$(wc -l <"$rows")
spilling=$(awk -F'\t' '$6 > 0 || $7 > 0' "$rows" | wc -l)
with_stack=$(awk -F'\t' '$5 > 0' "$rows" | wc -l)
with_mma=$(awk -F'\t' '$8 > 0' "$rows" | wc -l)
mkdir -p "$(dirname "$out")"
{
  echo "# ptxas resource usage, sm_90 — $today"
  echo
  echo "- nvcc: $nvcc_version"
  echo "- flags: the \`cuda\` preset's compile commands with CMAKE_CUDA_ARCHITECTURES=90, plus \`-Xptxas -v\`"
  echo "- regenerate: \`scripts/ptxas_table.sh\`"
  echo "- $kernels kernels in ${#sources[@]} files; $spilling with spills; $with_stack with a stack frame; $with_mma on the tensor cores"
  if ((${#failed[@]} > 0)); then
    echo "- failed to compile (no rows): ${failed[*]#kernels/cuda/}"
  fi
  echo
  echo "Shared memory is the static \`__shared__\` size ptxas reports; dynamic shared memory is set at launch and not included."
  echo "mma: the tensor-core instructions (\`mma.sync\`, \`wmma.mma\`) in the kernel's PTX, loops unrolled."
  echo
  echo "| File | Kernel | Registers | Static smem (B) | Stack frame (B) | Spill stores (B) | Spill loads (B) | mma |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  paste -d'\t' "$rows" "$work/names.txt" >"$work/named.tsv"
  for src in "${sources[@]}"; do
    if [[ -f $work/$(basename "$src" .cu).failed ]]; then
      echo "| \`${src#kernels/cuda/}\` | (failed to compile) | | | | | | |"
      continue
    fi
    if ! awk -F'\t' -v f="$src" '$1 == f { found = 1 } END { exit !found }' "$work/named.tsv"; then
      echo "| \`${src#kernels/cuda/}\` | (no kernels) | | | | | | |"
      continue
    fi
    awk -F'\t' -v f="$src" '$1 == f' "$work/named.tsv" |
      while IFS=$'\t' read -r file _ regs smem stack st ld mma demangled; do
        demangled=${demangled//|/\\|}
        echo "| \`${file#kernels/cuda/}\` | \`$demangled\` | $regs | $smem | $stack | $st | $ld | $mma |"
      done
  done
} >"$out"
echo "ptxas_table: wrote $out ($kernels kernels)" >&2
if ((${#failed[@]} > 0)); then
  die "${#failed[@]} file(s) failed to compile: ${failed[*]}"
fi
