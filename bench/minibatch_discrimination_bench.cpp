// minibatch_discrimination (a matmul, the fused pairwise_l1, exp and a sum) at the paper's size
// (B = 100 kernels of C = 5 dimensions) on a DCGAN discriminator's flattened 32x32 features
// (width 64: A = 4096) and a batch of 64 (16 under the emulator), forward and forward + backward
// (to the features and T). Items counted are the N^2 B C pairwise terms per pass.
#include "bench_util.h"
#include "ganengine/autograd.h"
#include "ganengine/minibatch_discrimination.h"

namespace {

constexpr int64_t kBatch = ge::bench::gpu_or_emulated(64, 16);
constexpr int64_t kA = 4096, kB = 100, kC = 5;

void run(benchmark::State& state, ge::Device device, bool backward) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::TensorOptions opts = ge::TensorOptions(device).requires_grad(backward);
  const ge::Tensor x = ge::randn({kBatch, kA}, opts);
  ge::Tensor t = ge::randn({kA, kB, kC}, device) * 0.05f;
  t.requires_grad_(backward);
  const ge::Tensor dout = ge::randn({kBatch, kB}, device);
  for (auto _ : state) {
    const ge::Tensor y = ge::minibatch_discrimination(x, t);
    if (backward) {
      const std::vector<ge::Tensor> g = ge::grad({y}, {x, t}, {dout});
      benchmark::DoNotOptimize(g[0].data_ptr());
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kBatch * kBatch * kB * kC);
}

void BM_minibatch_discrimination(benchmark::State& state, ge::Device device) {
  run(state, device, false);
}
void BM_minibatch_discrimination_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, true);
}

}  // namespace

GE_BENCH_DEVICES(BM_minibatch_discrimination, ->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(BM_minibatch_discrimination_fwd_bwd, ->Unit(benchmark::kMillisecond));
