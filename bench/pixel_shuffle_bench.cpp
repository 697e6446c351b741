// pixel_shuffle x2 of an SRGAN sub-pixel stage's conv output [16, 256, 24, 24] -> [16, 64, 48, 48]
// (batch 2 under the emulator) and pixel_unshuffle back, forward and forward + backward. Bytes
// counted are the compulsory traffic: each pass reads and writes the tensor once.
#include "bench_util.h"
#include "ganengine/pixel_shuffle.h"

namespace {

constexpr int64_t kBatch = ge::bench::gpu_or_emulated(16, 2);
constexpr int64_t kNumel = kBatch * 256 * 24 * 24;
constexpr int64_t kFloat = sizeof(float);

void run(benchmark::State& state, ge::Device device, bool shuffle, bool backward) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Shape deep = {kBatch, 256, 24, 24}, large = {kBatch, 64, 48, 48};
  const ge::Tensor x =
      ge::randn(shuffle ? deep : large, ge::TensorOptions(device).requires_grad(backward));
  const ge::Tensor dy = ge::randn(shuffle ? large : deep, device);
  for (auto _ : state) {
    const ge::Tensor y = shuffle ? ge::pixel_shuffle(x, 2) : ge::pixel_unshuffle(x, 2);
    if (backward) {
      const std::vector<ge::Tensor> g = ge::grad({y}, {x}, {dy});
      benchmark::DoNotOptimize(g[0].data_ptr());
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kNumel * (backward ? 4 : 2) * kFloat);
}

void BM_pixel_shuffle(benchmark::State& state, ge::Device device) {
  run(state, device, true, false);
}
void BM_pixel_shuffle_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, true, true);
}
void BM_pixel_unshuffle(benchmark::State& state, ge::Device device) {
  run(state, device, false, false);
}

}  // namespace

GE_BENCH_DEVICES(BM_pixel_shuffle, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_pixel_shuffle_fwd_bwd, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_pixel_unshuffle, ->Unit(benchmark::kMicrosecond));
