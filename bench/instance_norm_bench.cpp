// instance_norm2d on CycleGAN-sized activations: the generator's residual blocks at 256 channels
// and 32x32 (batch 1, as CycleGAN trains) and an [8, 64, 32, 32] batch; forward, and forward +
// backward with affine parameters (dx, dweight, dbias). Under the emulator the channels are cut
// by 8. Bytes counted are the compulsory traffic: the forward reads x and writes y; the backward
// reads dy and x and writes dx.
#include "bench_util.h"
#include "ganengine/instance_norm.h"

namespace {

constexpr int64_t kFloat = sizeof(float);
constexpr int64_t kChannelDivisor = ge::bench::gpu_or_emulated(1, 8);

ge::Shape shape_of(const benchmark::State& state) {
  return {state.range(0), state.range(1) / kChannelDivisor, state.range(2), state.range(2)};
}

int64_t numel(const ge::Shape& s) {
  return s[0] * s[1] * s[2] * s[3];
}

void BM_instance_norm2d_fwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Shape s = shape_of(state);
  const ge::Tensor x = ge::randn(s, device);
  for (auto _ : state) {
    ge::Tensor y = ge::instance_norm2d(x, ge::Tensor(), ge::Tensor());
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * numel(s) * 2 * kFloat);
}

void BM_instance_norm2d_fwd_bwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Shape s = shape_of(state);
  const ge::TensorOptions o = ge::TensorOptions(device).requires_grad(true);
  const ge::Tensor x = ge::randn(s, o), w = ge::ones({s[1]}, o), b = ge::zeros({s[1]}, o);
  const ge::Tensor dy = ge::randn(s, device);
  for (auto _ : state) {
    const ge::Tensor y = ge::instance_norm2d(x, w, b);
    const std::vector<ge::Tensor> g = ge::grad({y}, {x, w, b}, {dy});
    ge::synchronize(device);
    benchmark::DoNotOptimize(g[0].data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * numel(s) * 5 * kFloat);
}

}  // namespace

// Args: N, C, H = W.
GE_BENCH_DEVICES(
    BM_instance_norm2d_fwd, ->Args({1, 256, 32})->Args({8, 64, 32})->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_instance_norm2d_fwd_bwd, ->Args({1, 256, 32})
                                                 ->Args({8, 64, 32})
                                                 ->Unit(benchmark::kMicrosecond));
