// Elementwise add: bytes moved per second (two reads and one write per element).
#include "bench_util.h"

namespace {

void BM_add(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t n = state.range(0);
  ge::Tensor a = ge::rand({n}, device), b = ge::rand({n}, device);
  for (auto _ : state) {
    ge::Tensor c = ge::add(a, b);
    ge::synchronize(device);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * n * 3 * static_cast<int64_t>(sizeof(float)));
}

void BM_add_broadcast(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t rows = state.range(0), cols = 256;
  ge::Tensor a = ge::rand({rows, cols}, device), b = ge::rand({cols}, device);
  for (auto _ : state) {
    ge::Tensor c = ge::add(a, b);
    ge::synchronize(device);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * rows * cols * 2 *
                          static_cast<int64_t>(sizeof(float)));
}

}  // namespace

GE_BENCH_DEVICES(BM_add, ->Arg(1 << 16)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_add_broadcast, ->Arg(1 << 12));
