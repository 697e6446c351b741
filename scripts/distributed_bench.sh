#!/usr/bin/env bash
# Data-parallel scaling on CPU ranks of one core each, and the all-reduce bandwidth:
#   scripts/distributed_bench.sh [BUILD_DIR] [SEEDS]
# For the DCGAN (MNIST, 32 px, width 64) and StyleGAN-lite (the demo's settings) train steps:
# img/s of one process at global batch B, of 2 processes at B/2 each (strong scaling: the same
# global batch) and at B each (weak scaling), each the mean of the metrics lines after the
# first (warm-up), as mean +- std over SEEDS seeds. Efficiency = img/s(2) / (2 img/s(1)).
# Writes bench/results/<date>-distributed-cpu.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
seeds=${2:-3}
apps=$build/models/apps
[[ -x $apps/gan && -x $build/bench/ganengine-allreduce-bench ]] ||
  { echo "distributed_bench: build $build first (the gan, stylegan-lite and ganengine-allreduce-bench targets)" >&2; exit 1; }
[[ -d data/mnist ]] || scripts/fetch_mnist.sh data/mnist
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun=(mpirun -np 2 --bind-to core)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# img/s of a run: the mean of its metrics lines after the first.
img_per_s() {
  python3 -c 'import json,sys; v=[json.loads(l)["img_per_s"] for l in open(sys.argv[1])][1:]; print(sum(v)/len(v))' "$1/metrics.jsonl"
}
stats() {
  python3 -c 'import statistics as s,sys; v=[float(x) for x in sys.argv[1:]]; print(f"{s.mean(v):.1f} +- {s.stdev(v) if len(v)>1 else 0:.1f}")' "$@"
}
ratio() {
  python3 -c 'import statistics as s,sys; n=len(sys.argv)//2; a=[float(x) for x in sys.argv[1:n+1]]; b=[float(x) for x in sys.argv[n+1:]]; r=[x/(2*y) for x,y in zip(a,b)]; print(f"{100*s.mean(r):.0f} +- {100*(s.stdev(r) if len(r)>1 else 0):.0f} %")' "$@"
}

cores=$(nproc --all)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
out=bench/results/$(date +%F)-distributed-cpu.md
{
  echo "# Data-parallel scaling on CPU ranks, $(date +%F)"
  echo
  echo "Machine: $cpu, $cores cores; one thread per process (OMP_NUM_THREADS=1, passive wait);"
  echo "OpenMPI $(mpirun --version | head -1 | awk '{print $NF}') over shared memory; commit $(git rev-parse --short HEAD)."
  echo "Command: \`scripts/distributed_bench.sh $build $seeds\`; mean +- std over $seeds seeds."
  echo
  echo "| model | global batch | 1 process img/s | 2 processes img/s | efficiency |"
  echo "| --- | ---: | ---: | ---: | ---: |"
} > "$out"

run_model() {  # name app steps batch args...
  local name=$1 app=$2 steps=$3 batch=$4
  shift 4
  local one=() strong=() weak=()
  for ((seed = 0; seed < seeds; ++seed)); do
    local common=(train "$@" --steps "$steps" --log-every $((steps / 4)) --quiet --seed "$seed"
                  --checkpoint-every 0 --sample-every 0)
    "$apps/$app" "${common[@]}" --batch "$batch" --out "$work/one" > /dev/null 2>&1
    one+=("$(img_per_s "$work/one")")
    "${mpirun[@]}" "$apps/$app" "${common[@]}" --batch $((batch / 2)) --out "$work/strong" > /dev/null 2>&1
    strong+=("$(img_per_s "$work/strong")")
    "${mpirun[@]}" "$apps/$app" "${common[@]}" --batch "$batch" --out "$work/weak" > /dev/null 2>&1
    weak+=("$(img_per_s "$work/weak")")
    rm -rf "$work/one" "$work/strong" "$work/weak"
  done
  echo "| $name, strong (B/2 per process) | $batch | $(stats "${one[@]}") | $(stats "${strong[@]}") | $(ratio "${strong[@]}" "${one[@]}") |" >> "$out"
  echo "| $name, weak (B per process) | $batch, $((2 * batch)) | $(stats "${one[@]}") | $(stats "${weak[@]}") | $(ratio "${weak[@]}" "${one[@]}") |" >> "$out"
}

run_model "DCGAN-MNIST 32 px" gan 80 64 --arch dcgan --data mnist:data/mnist
run_model "StyleGAN-lite (demo)" stylegan-lite 80 32 --data mnist:data/mnist

{
  echo
  "${mpirun[@]}" "$build/bench/ganengine-allreduce-bench"
} >> "$out"
cat "$out"
