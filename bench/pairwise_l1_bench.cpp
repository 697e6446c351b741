// pairwise_l1 at minibatch discrimination's size (B = 100 kernels of C = 5 dimensions) on a
// batch of 128 (16 under the emulator): the distances alone, and forward + backward (the
// adjoint). Bytes counted are the compulsory traffic: the forward reads m [N, B, C] and writes
// d [N, N, B]; the backward reads m and g [N, N, B] and writes [N, B, C].
#include "bench_util.h"
#include "ganengine/autograd.h"
#include "ganengine/pairwise_l1.h"

namespace {

constexpr int64_t kN = ge::bench::gpu_or_emulated(128, 16);
constexpr int64_t kB = 100, kC = 5;
constexpr int64_t kRows = kN * kB * kC, kPairs = kN * kN * kB;
constexpr int64_t kFloat = sizeof(float);

void run(benchmark::State& state, ge::Device device, bool backward) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor m = ge::randn({kN, kB, kC}, ge::TensorOptions(device).requires_grad(backward));
  const ge::Tensor g = ge::randn({kN, kN, kB}, device);
  for (auto _ : state) {
    const ge::Tensor d = ge::pairwise_l1(m);
    if (backward) {
      const std::vector<ge::Tensor> dm = ge::grad({d}, {m}, {g});
      benchmark::DoNotOptimize(dm[0].data_ptr());
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(d.data_ptr());
  }
  const int64_t bytes = (kRows + kPairs) + (backward ? 2 * kRows + kPairs : 0);
  state.SetBytesProcessed(state.iterations() * bytes * kFloat);
}

void BM_pairwise_l1(benchmark::State& state, ge::Device device) {
  run(state, device, false);
}
void BM_pairwise_l1_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, true);
}

}  // namespace

GE_BENCH_DEVICES(BM_pairwise_l1, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_pairwise_l1_fwd_bwd, ->Unit(benchmark::kMicrosecond));
