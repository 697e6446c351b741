#!/usr/bin/env bash
# LibTorch vs ganengine on the CPU: installs LibTorch (Debian's libtorch-dev) when missing, builds
# ganengine-peer-bench in Release (build/peer), runs it with one thread count for both libraries
# and writes the table to bench/results/<date>-peer-cpu.md.
#
#   scripts/peer_bench.sh [--reps N] [--warmup N] [--only SUBSTRING]
#                                       threads: GE_PEER_THREADS (default: nproc)
# --only keeps the cases whose name holds SUBSTRING (GEMM, conv2d, DCGAN, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg-query -W -f='${Status}' libtorch-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "peer_bench: installing libtorch-dev"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends libtorch-dev >/dev/null
fi

build=build/peer
export PATH=/usr/local/cuda/bin:$PATH
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGE_CUDA_MODE=emulator \
  -DCUDAToolkit_ROOT="${CUDAToolkit_ROOT:-/usr/local/cuda}" -DGE_BUILD_TESTS=OFF \
  -DGE_BUILD_BENCH=ON -DGE_BUILD_PEER_BENCH=ON >/dev/null
cmake --build "$build" --target ganengine-peer-bench

threads=${GE_PEER_THREADS:-$(nproc)}
mkdir -p bench/results
out="bench/results/$(date +%F)-peer-cpu.md"
cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
run=$(mktemp)
trap 'rm -f "$run" "$out.tmp"' EXIT

# run TITLE [VAR=value...]: one run of the binary under `env`, appended as a section.
section() {
  local title=$1
  shift
  local load_before load_after
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  env "$@" "$build/bench/peer/ganengine-peer-bench" --threads "$threads" "${bench_args[@]}" |
    tee "$run"
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  {
    echo
    echo "## $title"
    echo
    # Other work on the machine skews both columns; the ratio is the more robust figure.
    echo "- load average (1/5/15 min) before: $load_before, after: $load_after"
    echo "- OpenMP / OpenBLAS environment: $(env "$@" | grep -E '^(OMP|GOMP|OPENBLAS)_' | tr '\n' ' ')"
    echo
    grep -v '^|' "$run" | sed '/^$/d; s/^/    /'
    echo
    grep '^|' "$run"
  } >>"$out.tmp"
}

bench_args=("$@")
{
  echo "# LibTorch vs ganengine, CPU ($(date +%F))"
  echo
  echo "- CPU: ${cpu:-unknown}, $(nproc) logical CPUs available"
  echo "- threads: $threads for both libraries (ganengine's OpenMP team and its own GEMM; LibTorch's"
  echo "  pool and its OpenBLAS calls); the libraries timed in turns, three blocks each,
  each block after a 500 ms pause"
  echo "- build: Release, $(c++ --version | head -n 1)"
  echo "- command: scripts/peer_bench.sh $*"
} >"$out.tmp"
if [[ -z ${OMP_WAIT_POLICY:-} ]]; then
  section "Default OpenMP wait policy"
else
  section "OMP_WAIT_POLICY=$OMP_WAIT_POLICY (from the environment)"
fi
# Both libraries mix libgomp parallel regions with OpenBLAS's own pthreads. libgomp's threads spin
# after a region and steal the cores OpenBLAS's workers need (and the reverse), which can cost
# an order of magnitude on small layers when threads == cores; the passive policy shows the
# figures without that contention.
if [[ -z ${OMP_WAIT_POLICY:-} ]]; then
  section "OMP_WAIT_POLICY=passive" OMP_WAIT_POLICY=passive
fi
mv "$out.tmp" "$out"
echo "peer_bench: wrote $out"
