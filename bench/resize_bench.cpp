// Bicubic resize of SRGAN's image batches, 16 x 3 x 96 x 96 (batch 2 under the emulator): the x4
// upscale of the 24x24 low-resolution images (the baseline every super-resolution result is
// compared with) and the x4 antialiased downscale that makes them, forward and forward +
// backward. Bytes counted are the compulsory traffic: the forward reads x and writes y; the
// backward reads dy and writes dx.
#include "bench_util.h"
#include "ganengine/resize.h"

namespace {

constexpr int64_t kBatch = ge::bench::gpu_or_emulated(16, 2);
constexpr int64_t kHigh = 96, kLow = 24;
constexpr int64_t kFloat = sizeof(float);

void run(benchmark::State& state, ge::Device device, bool up, bool backward) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t in = up ? kLow : kHigh, out = up ? kHigh : kLow;
  const ge::BicubicOptions options{false, !up};
  const ge::Tensor x =
      ge::randn({kBatch, 3, in, in}, ge::TensorOptions(device).requires_grad(backward));
  const ge::Tensor dy = ge::randn({kBatch, 3, out, out}, device);
  for (auto _ : state) {
    const ge::Tensor y = ge::resize_bicubic2d(x, {out, out}, options);
    if (backward) {
      const std::vector<ge::Tensor> g = ge::grad({y}, {x}, {dy});
      benchmark::DoNotOptimize(g[0].data_ptr());
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  const int64_t moved = kBatch * 3 * (in * in + out * out);
  state.SetBytesProcessed(state.iterations() * moved * (backward ? 2 : 1) * kFloat);
}

void BM_resize_bicubic2d_up4(benchmark::State& state, ge::Device device) {
  run(state, device, true, false);
}
void BM_resize_bicubic2d_up4_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, true, true);
}
void BM_resize_bicubic2d_down4_antialias(benchmark::State& state, ge::Device device) {
  run(state, device, false, false);
}
void BM_resize_bicubic2d_down4_antialias_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, false, true);
}

}  // namespace

GE_BENCH_DEVICES(BM_resize_bicubic2d_up4, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_resize_bicubic2d_up4_fwd_bwd, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_resize_bicubic2d_down4_antialias, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_resize_bicubic2d_down4_antialias_fwd_bwd, ->Unit(benchmark::kMicrosecond));
