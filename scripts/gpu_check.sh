#!/usr/bin/env bash
# The one command to run on a machine with an NVIDIA GPU (an H100 or H200 with 16 cores, say):
#   1. builds the `cuda` preset for this GPU's architecture only, with every core;
#   2. runs the whole test suite on the device, and the collectives through NCCL on it (mpirun
#      -np 1);
#   3. runs the CUDA benchmarks: every conv algorithm (native FP32 and TF32, im2col + cuBLAS,
#      cuDNN) on the DCGAN, SNGAN and StyleGAN-lite layers, forward and forward + backward;
#      bias_act and elementwise; spectral_norm, the GP step and Adam;
#   4. writes bench/results/<date>-<gpu>.md (or the path given as $1): the machine, the commit,
#      the test summary and failures, and the benchmark table, then prints the path.
# It exits non-zero when the build or a test fails, after writing what it has.
#
# Budget: under 8 minutes on an H100 machine, build included (GE_GPU_CHECK_TEST_TIMEOUT caps
# each test, default 120 s). Environment: BUILD_DIR (default build/gpu-check), JOBS (default
# nproc), GE_GPU_CHECK_BENCH_FILTER (a Google Benchmark regex replacing the default set).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export PATH="/usr/local/cuda/bin:$PATH"
start=$(date +%s)
jobs=${JOBS:-$(nproc)}
build_dir=${BUILD_DIR:-$root/build/gpu-check}
test_timeout=${GE_GPU_CHECK_TEST_TIMEOUT:-120}
filter=${GE_GPU_CHECK_BENCH_FILTER:-'cuda|conv_algo'}

die() {
  echo "gpu_check: $*" >&2
  exit 1
}
elapsed() { echo "$(($(date +%s) - start)) s"; }

command -v nvidia-smi >/dev/null || die "expected nvidia-smi on PATH: this script is for a machine with an NVIDIA GPU"
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.[:space:]')
[[ -n $gpu && $cap =~ ^[0-9]+$ ]] || die "could not read the GPU name and compute capability from nvidia-smi"
((cap >= 80)) || die "expected a GPU of compute capability 8.0 or newer (tensor-core kernels use sm_80 instructions), got $gpu ($cap)"
driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
slug=$(echo "$gpu" | tr '[:upper:]' '[:lower:]' | sed -E 's/nvidia //; s/[^a-z0-9]+/-/g; s/^-|-$//g')
out=${1:-$root/bench/results/$(date +%F)-$slug.md}
logs=$(mktemp -d)
echo "gpu_check: $gpu (sm_$cap), $jobs jobs; logs in $logs" >&2

GE_SETUP_BUILD=0 bash scripts/setup.sh >"$logs/setup.log" 2>&1 || die "setup failed; see $logs/setup.log"

status=0
echo "gpu_check: building the cuda preset for sm_$cap ($(elapsed))" >&2
if cmake --preset cuda -B "$build_dir" -DCMAKE_CUDA_ARCHITECTURES="$cap" >"$logs/configure.log" 2>&1 &&
  cmake --build "$build_dir" -j "$jobs" >"$logs/build.log" 2>&1; then
  build="ok ($(elapsed))"
else
  build="FAILED: $(grep -m3 -E 'error|FAILED' "$logs/build.log" "$logs/configure.log" | tr '\n' ' ')"
  status=1
fi

tests="not run"
failures=""
if ((status == 0)); then
  echo "gpu_check: running the tests on the device ($(elapsed))" >&2
  if ctest --test-dir "$build_dir" -j "$jobs" --timeout "$test_timeout" --output-on-failure \
    >"$logs/ctest.log" 2>&1; then
    :
  else
    status=1
  fi
  # NCCL on this one GPU: the collectives' CUDA cases in an MPI world of one process.
  echo "gpu_check: NCCL smoke test ($(elapsed))" >&2
  if OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout "$test_timeout" \
    mpirun -np 1 "$build_dir/tests/ganengine_distributed_tests" \
    --gtest_filter='ProcessGroupTest.*:Devices/CollectivesTest.*' >"$logs/nccl.log" 2>&1; then
    nccl="passed: $(grep -E '^\[  PASSED  \]' "$logs/nccl.log" | tail -1)"
  else
    nccl="FAILED (see $logs/nccl.log)"
    status=1
  fi
  tests=$(grep -E 'tests passed|tests failed' "$logs/ctest.log" | tail -1)
  failures=$(sed -n '/The following tests FAILED/,$p' "$logs/ctest.log" | head -40)
  tests="$tests ($(elapsed))"
fi

bench_table=""
if [[ -x $build_dir/bench/ganengine-bench ]]; then
  echo "gpu_check: running the benchmarks ($(elapsed))" >&2
  "$build_dir/bench/ganengine-bench" --benchmark_filter="$filter" --benchmark_min_time=0.2s \
    --benchmark_format=json --benchmark_out="$logs/bench.json" >"$logs/bench.log" 2>&1 || status=1
  if [[ -s $logs/bench.json ]]; then
    bench_table=$(python3 - "$logs/bench.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
print("| Benchmark | Label | Time (ms) | FLOP/s or bytes/s |")
print("|---|---|---:|---:|")
for b in data.get("benchmarks", []):
    if b.get("error_occurred"):
        print(f"| `{b['name']}` | skipped: {b.get('error_message', '')} | | |")
        continue
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
    rate = b.get("FLOP/s") or b.get("bytes_per_second") or ""
    if rate:
        rate = f"{rate / 1e12:.2f} T" if rate >= 1e11 else f"{rate / 1e9:.2f} G"
    print(f"| `{b['name']}` | {b.get('label', '')} | {b['real_time'] * scale:.3f} | {rate} |")
PY
)
  fi
fi

mkdir -p "$(dirname "$out")"
{
  echo "# GPU check: $gpu — $(date +%F)"
  echo
  echo "- device: $gpu, sm_$cap, driver $driver; host: $(nproc) cores"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
  echo "- command: \`scripts/gpu_check.sh\` (cuda preset, CMAKE_CUDA_ARCHITECTURES=$cap)"
  echo "- build: $build"
  echo "- tests: $tests"
  echo "- NCCL smoke test (mpirun -np 1, the collectives on cuda:0): ${nccl:-not run}"
  echo "- total: $(elapsed)"
  if [[ -n $failures ]]; then
    echo
    echo '```'
    echo "$failures"
    echo '```'
  fi
  echo
  echo "## Benchmarks (filter \`$filter\`, min time 0.2 s)"
  echo
  if [[ -n $bench_table ]]; then echo "$bench_table"; else echo "(none ran; see the logs)"; fi
} >"$out"
echo "gpu_check: wrote $out ($(elapsed))" >&2
echo "$out"
exit "$status"
