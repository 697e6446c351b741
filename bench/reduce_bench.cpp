// Sum reductions: bytes read per second.
#include "bench_util.h"

namespace {

void BM_sum_all(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t n = state.range(0);
  ge::Tensor x = ge::rand({n}, device);
  for (auto _ : state) {
    ge::Tensor s = ge::sum(x);
    ge::synchronize(device);
    benchmark::DoNotOptimize(s.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * n * static_cast<int64_t>(sizeof(float)));
}

// Sum over the batch dim of [batch, features]: the bias-gradient pattern.
void BM_sum_dim0(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t batch = state.range(0), features = 1024;
  ge::Tensor x = ge::rand({batch, features}, device);
  for (auto _ : state) {
    ge::Tensor s = ge::sum(x, {0});
    ge::synchronize(device);
    benchmark::DoNotOptimize(s.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * batch * features *
                          static_cast<int64_t>(sizeof(float)));
}

}  // namespace

GE_BENCH_DEVICES(BM_sum_all, ->Arg(1 << 16)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_sum_dim0, ->Arg(256));
