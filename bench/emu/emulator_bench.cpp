// Cost of the CUDA emulator: one fiber switch, and an elementwise kernel over 1M elements next to
// the plain CPU loop that computes the same thing.
#include <benchmark/benchmark.h>

#include <stdexcept>
#include <vector>

#include "ganengine/emu/emulator.h"

namespace {

// The launch GE_LAUNCH performs in emulator builds (bench/ does not see kernels/cuda/launch.cuh).
template <typename... Args>
void launch(const char* name, void (*kernel)(Args...), dim3 grid, dim3 block, Args... args) {
  const cudaError_t error = ge::emu::launch(
      ge::emu::LaunchConfig{name, reinterpret_cast<const void*>(kernel), grid, block, 0, nullptr},
      [&] { kernel(args...); });
  if (error != cudaSuccess) throw std::runtime_error(ge::emu::last_error_detail());
}

__global__ void barrier_loop(int rounds, int* out) {
  int sum = 0;
  for (int i = 0; i < rounds; ++i) {
    sum += i;
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = sum;
}

__global__ void axpb(int n, float a, const float* x, float b, float* y) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) y[i] = a * x[i] + b;
}

void BM_EmuFiberSwitch(benchmark::State& state) {
  const int rounds = 1000;
  const unsigned threads = static_cast<unsigned>(state.range(0));
  int out = 0;
  ge::emu::reset_stats();
  for (auto _ : state) {
    launch("barrier_loop", barrier_loop, dim3(1), dim3(threads), rounds, &out);
    benchmark::DoNotOptimize(out);
  }
  const auto stats = ge::emu::stats();
  state.counters["switches"] = static_cast<double>(stats.switches);
  // One switch into a fiber and one back per thread per barrier; the scheduler's work included.
  state.counters["ns_per_switch"] =
      benchmark::Counter(static_cast<double>(stats.switches),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_EmuFiberSwitch)->Arg(32)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

constexpr int kElements = 1 << 20;

void BM_EmuAxpbKernel1M(benchmark::State& state) {
  std::vector<float> x(kElements, 1.0f), y(kElements);
  const unsigned block = 256;
  const unsigned grid = (kElements + block - 1) / block;
  for (auto _ : state) {
    launch("axpb", axpb, dim3(grid), dim3(block), kElements, 2.0f,
           static_cast<const float*>(x.data()), 3.0f, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * kElements);
}
BENCHMARK(BM_EmuAxpbKernel1M)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CpuAxpbLoop1M(benchmark::State& state) {
  std::vector<float> x(kElements, 1.0f), y(kElements);
  for (auto _ : state) {
    for (int i = 0; i < kElements; ++i)
      y[i] = 2.0f * x[i] + 3.0f;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kElements);
}
BENCHMARK(BM_CpuAxpbLoop1M)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
