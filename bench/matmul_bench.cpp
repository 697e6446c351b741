// Square and DCGAN-shaped matmuls: FLOP/s (2*m*n*k per product).
#include "bench_util.h"

namespace {

void BM_matmul(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  ge::Tensor a = ge::rand({m, k}, device), b = ge::rand({k, n}, device);
  for (auto _ : state) {
    ge::Tensor c = ge::matmul(a, b);
    ge::synchronize(device);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.counters["FLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2.0 * m * n * k, benchmark::Counter::kIsRate);
}

}  // namespace

// 256^3; and the DCGAN-MNIST generator's first layer (batch 64, z 100 -> 128*7*7).
GE_BENCH_DEVICES(BM_matmul, ->Args({256, 256, 256})->Args({64, 100, 6272}));
