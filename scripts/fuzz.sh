#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, AddressSanitizer + UndefinedBehaviorSanitizer)
# and runs each for SECONDS (argument, else $FUZZ_SECONDS, else 60) on a copy of its seed corpus,
# FUZZ_JOBS (2) targets at a time. Prints the executions per target; exits non-zero if any target
# found a crash, a sanitizer report, a leak, a timeout, an out-of-memory or an escaped exception,
# whose input is left in <run dir>/<target>/findings/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Environment: FUZZ_BUILD_DIR (build/fuzz), FUZZ_RUN_DIR (<build dir>/runs), FUZZ_JOBS (2),
# FUZZ_SEED (1; 0 for a random seed), FUZZ_CUDA_MODE (off), CC/CXX (clang/clang++).
# Reproduce a finding: <build dir>/fuzz/<target> <run dir>/<target>/findings/<file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-${FUZZ_SECONDS:-60}}
[[ $# -gt 0 ]] && shift
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2; }
# Absolute: a target may change its working directory (fuzz_data_spec does).
build=$(realpath -m "${FUZZ_BUILD_DIR:-build/fuzz}")
runs=$(realpath -m "${FUZZ_RUN_DIR:-$build/runs}")
jobs=${FUZZ_JOBS:-2}
# A fixed seed by default, so that a run retraces the same inputs (up to its time limit) and a
# CI result can be reproduced; FUZZ_SEED=0 lets libFuzzer pick one.
seed=${FUZZ_SEED:-1}
start=$SECONDS

cmake -S . -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER="${CC:-clang}" -DCMAKE_CXX_COMPILER="${CXX:-clang++}" \
  -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only" \
  "-DCMAKE_C_FLAGS_DEBUG=-O1 -gline-tables-only" \
  -DGE_FUZZ=ON -DGE_BUILD_TESTS=OFF -DGE_BUILD_BENCH=OFF -DGE_SANITIZE='address;undefined' \
  -DGE_CUDA_MODE="${FUZZ_CUDA_MODE:-off}" -DGE_OPENMP=OFF -DGE_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build "$build" --target fuzz_targets
echo "fuzz.sh: built in $((SECONDS - start)) s"

if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  mapfile -t targets < <(cd fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
fi

# Inputs larger than these add time, not coverage: images and fonts need room for a few chunks or
# tables, the text formats far less.
max_len() {
  case $1 in
    fuzz_image | fuzz_photo_patches | fuzz_font) echo 65536 ;;
    *) echo 16384 ;;
  esac
}

# One target: fuzz a copy of the seeds (the committed corpus stays as it is), keep any finding.
run_one() {
  local target=$1 dir=$runs/$1
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/findings"
  cp "$root"/fuzz/corpus/"$target"/* "$dir/corpus/"
  local rc=0
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/$target" "$dir/corpus" -max_total_time="$seconds" -max_len="$(max_len "$target")" \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 -seed="$seed" \
    -artifact_prefix="$dir/findings/" >"$dir/log" 2>&1 || rc=$?
  echo "$rc" >"$dir/rc"
}
export -f run_one max_len
root=$PWD
export build runs seconds root seed

printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

status=0
details=
printf '\n%-22s %12s %10s %8s  %s\n' target executions "exec/s" corpus result
for t in "${targets[@]}"; do
  log=$runs/$t/log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(find "$runs/$t/corpus" -type f | wc -l)
  rc=$(cat "$runs/$t/rc")
  findings=$(find "$runs/$t/findings" -type f | wc -l)
  if [[ $rc -eq 0 && $findings -eq 0 ]]; then
    result=ok
  else
    result="FINDING (exit $rc): $(grep -m1 -E 'ERROR: |runtime error|==[0-9]+== ?[A-Z]|deadly signal|uncaught' "$log" || true)"
    # What led to it (an assertion's or a terminate's message comes before libFuzzer's line),
    # for a CI log that keeps only this output.
    details+=$'\n'"--- $t: the log's last lines before the finding"$'\n'
    details+=$(grep -v -E '^#[0-9]+' "$log" | grep -B12 -m1 -E 'ERROR: |runtime error|deadly signal' || true)
    # And the input itself when it is small, since a run is not repeatable across machines.
    for f in "$runs/$t"/findings/*; do
      [[ -f $f && $(stat -c %s "$f") -le 16384 ]] || continue
      details+=$'\n'"--- $t: $(basename "$f") (base64; base64 -d > input, then $build/fuzz/$t input)"$'\n'
      details+=$(base64 -w 100 "$f")
    done
    status=1
  fi
  printf '%-22s %12s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$units" "$result"
done
[[ -n $details ]] && printf '%s\n' "$details"
echo "fuzz.sh: done in $((SECONDS - start)) s; logs and findings under $runs/"
exit $status
