#pragma once
// Shared helpers for ganengine-bench: device arguments and skipping unavailable devices.
#include <benchmark/benchmark.h>

#include "ganengine/ganengine.h"

namespace ge::bench {

// Returns false (and marks the benchmark skipped) when `device` cannot run here.
inline bool device_ready(benchmark::State& state, Device device) {
  if (device.is_cuda() && !cuda_is_available()) {
    state.SkipWithError("no CUDA GPU present");
    return false;
  }
  state.SetLabel(device.is_cuda() && cuda_is_emulated() ? "cuda (emulator)" : device.str());
  return true;
}

}  // namespace ge::bench

// Registers `fn` once per device, name/cpu and name/cuda, with the same argument chain, e.g.
// GE_BENCH_DEVICES(BM_add, ->Arg(1 << 16)).
#define GE_BENCH_DEVICES(fn, ...)                                    \
  BENCHMARK_CAPTURE(fn, cpu, ::ge::kCPU)->UseRealTime() __VA_ARGS__; \
  BENCHMARK_CAPTURE(fn, cuda, ::ge::kCUDA)->UseRealTime() __VA_ARGS__
