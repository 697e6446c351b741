// pixel_norm on StyleGAN's two layouts: latents [64, 512] along dim 1 (rows), and a feature map
// [16, 512, 4, 4] along the channels (strided rows; batch 4 under the emulator); forward and
// forward + backward. Bytes counted are the compulsory traffic: forward reads x and writes y;
// the backward reads dy and x and writes dx.
#include "bench_util.h"
#include "ganengine/pixel_norm.h"

namespace {

constexpr int64_t kMapBatch = ge::bench::gpu_or_emulated(16, 4);
constexpr int64_t kFloat = sizeof(float);

const ge::Shape kLatents = {64, 512};
const ge::Shape kMap = {kMapBatch, 512, 4, 4};

void run(benchmark::State& state, ge::Device device, const ge::Shape& shape, bool backward) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor x = ge::randn(shape, ge::TensorOptions(device).requires_grad(backward));
  const ge::Tensor dy = ge::randn(shape, device);
  for (auto _ : state) {
    const ge::Tensor y = ge::pixel_norm(x, 1);
    if (backward) {
      const std::vector<ge::Tensor> g = ge::grad({y}, {x}, {dy});
      benchmark::DoNotOptimize(g[0].data_ptr());
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * (backward ? 5 : 2) * kFloat);
}

void BM_pixel_norm_latents(benchmark::State& state, ge::Device device) {
  run(state, device, kLatents, false);
}
void BM_pixel_norm_latents_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, kLatents, true);
}
void BM_pixel_norm_nchw(benchmark::State& state, ge::Device device) {
  run(state, device, kMap, false);
}
void BM_pixel_norm_nchw_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, kMap, true);
}

}  // namespace

GE_BENCH_DEVICES(BM_pixel_norm_latents, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_pixel_norm_latents_fwd_bwd, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_pixel_norm_nchw, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_pixel_norm_nchw_fwd_bwd, ->Unit(benchmark::kMicrosecond));
