#pragma once
// Shared helpers for ganengine-bench: device arguments and skipping unavailable devices.
#include <benchmark/benchmark.h>

#include <cstdint>

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

// A benchmark size: `gpu` in a GPU build, `emulated` under the CUDA emulator, which runs about
// 100x slower, so that the suite stays short there.
constexpr int64_t gpu_or_emulated(int64_t gpu, int64_t emulated) {
#if defined(GE_CUDA_EMULATOR)
  static_cast<void>(gpu);
  return emulated;
#else
  static_cast<void>(emulated);
  return gpu;
#endif
}

}  // namespace ge::bench

// Registers `fn` once per device, name/cpu and name/cuda, with the same argument chain, e.g.
// GE_BENCH_DEVICES(BM_add, ->Arg(1 << 16)).
#define GE_BENCH_DEVICES(fn, ...)                                    \
  BENCHMARK_CAPTURE(fn, cpu, ::ge::kCPU)->UseRealTime() __VA_ARGS__; \
  BENCHMARK_CAPTURE(fn, cuda, ::ge::kCUDA)->UseRealTime() __VA_ARGS__
