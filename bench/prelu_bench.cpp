// prelu with per-channel slopes on an SRGAN residual-block activation [16, 64, 96, 96] (batch 2
// under the emulator), forward and forward + backward to x and the slopes. Bytes counted are the
// compulsory traffic: forward reads x and writes y; the backward reads dy and x twice (the input
// gradient and the slope terms) and writes dx and the terms, which the per-channel sum reads.
#include "bench_util.h"
#include "ganengine/prelu.h"

namespace {

constexpr int64_t kBatch = ge::bench::gpu_or_emulated(16, 2);
constexpr int64_t kNumel = kBatch * 64 * 96 * 96;
constexpr int64_t kFloat = sizeof(float);

void run(benchmark::State& state, ge::Device device, bool backward) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::TensorOptions opts = ge::TensorOptions(device).requires_grad(backward);
  const ge::Tensor x = ge::randn({kBatch, 64, 96, 96}, opts);
  const ge::Tensor w = ge::full({64}, 0.25f, opts);
  const ge::Tensor dy = ge::randn({kBatch, 64, 96, 96}, device);
  for (auto _ : state) {
    const ge::Tensor y = ge::prelu(x, w);
    if (backward) {
      const std::vector<ge::Tensor> g = ge::grad({y}, {x, w}, {dy});
      benchmark::DoNotOptimize(g[0].data_ptr());
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kNumel * (backward ? 9 : 2) * kFloat);
}

void BM_prelu(benchmark::State& state, ge::Device device) {
  run(state, device, false);
}
void BM_prelu_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, true);
}

}  // namespace

GE_BENCH_DEVICES(BM_prelu, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_prelu_fwd_bwd, ->Unit(benchmark::kMicrosecond));
