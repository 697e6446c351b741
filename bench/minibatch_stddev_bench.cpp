// minibatch_stddev with StyleGAN2-ADA's defaults (group 4, one channel) on the discriminator's
// last block input [32, 512, 4, 4] (batch 8 under the emulator), forward and forward + backward.
// Bytes counted are the compulsory traffic: forward reads x and writes [N, C + 1, 4, 4]; the
// backward reads dout and x and writes dx.
#include "bench_util.h"
#include "ganengine/minibatch_stddev.h"

namespace {

constexpr int64_t kBatch = ge::bench::gpu_or_emulated(32, 8);
constexpr int64_t kC = 512, kHW = 4;
constexpr int64_t kIn = kBatch * kC * kHW * kHW, kOut = kBatch * (kC + 1) * kHW * kHW;
constexpr int64_t kFloat = sizeof(float);

void run(benchmark::State& state, ge::Device device, bool backward) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor x =
      ge::randn({kBatch, kC, kHW, kHW}, ge::TensorOptions(device).requires_grad(backward));
  const ge::Tensor dout = ge::randn({kBatch, kC + 1, kHW, kHW}, device);
  for (auto _ : state) {
    const ge::Tensor y = ge::minibatch_stddev(x, 4, 1);
    if (backward) {
      const std::vector<ge::Tensor> g = ge::grad({y}, {x}, {dout});
      benchmark::DoNotOptimize(g[0].data_ptr());
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  const int64_t bytes = (kIn + kOut) + (backward ? kOut + 2 * kIn : 0);
  state.SetBytesProcessed(state.iterations() * bytes * kFloat);
}

void BM_minibatch_stddev(benchmark::State& state, ge::Device device) {
  run(state, device, false);
}
void BM_minibatch_stddev_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, true);
}

}  // namespace

GE_BENCH_DEVICES(BM_minibatch_stddev, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_minibatch_stddev_fwd_bwd, ->Unit(benchmark::kMicrosecond));
