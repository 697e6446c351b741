// upsample x2 of a generator activation [16, 128, 16, 16] (batch 2 under the emulator), nearest
// and bilinear, forward and forward + backward. Bytes counted are the compulsory traffic:
// forward reads x and writes 4x as much; the backward reads the 4x gradient and writes dx.
#include "bench_util.h"
#include "ganengine/upsample.h"

namespace {

constexpr int64_t kBatch = ge::bench::gpu_or_emulated(16, 2);
const ge::Shape kShape = {kBatch, 128, 16, 16};
constexpr int64_t kIn = kBatch * 128 * 16 * 16;
constexpr int64_t kFloat = sizeof(float);

enum class Mode { Nearest, Bilinear };

void run(benchmark::State& state, ge::Device device, Mode mode, bool backward) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor x = ge::randn(kShape, ge::TensorOptions(device).requires_grad(backward));
  const ge::Tensor dy = ge::randn({kBatch, 128, 32, 32}, device);
  for (auto _ : state) {
    const ge::Tensor y =
        mode == Mode::Nearest ? ge::upsample_nearest2d(x, 2) : ge::upsample_bilinear2d(x, 2);
    if (backward) {
      const std::vector<ge::Tensor> g = ge::grad({y}, {x}, {dy});
      benchmark::DoNotOptimize(g[0].data_ptr());
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kIn * (backward ? 10 : 5) * kFloat);
}

void BM_upsample_nearest2d(benchmark::State& state, ge::Device device) {
  run(state, device, Mode::Nearest, false);
}
void BM_upsample_nearest2d_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, Mode::Nearest, true);
}
void BM_upsample_bilinear2d(benchmark::State& state, ge::Device device) {
  run(state, device, Mode::Bilinear, false);
}
void BM_upsample_bilinear2d_fwd_bwd(benchmark::State& state, ge::Device device) {
  run(state, device, Mode::Bilinear, true);
}

}  // namespace

GE_BENCH_DEVICES(BM_upsample_nearest2d, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_upsample_nearest2d_fwd_bwd, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_upsample_bilinear2d, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_upsample_bilinear2d_fwd_bwd, ->Unit(benchmark::kMicrosecond));
