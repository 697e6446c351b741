// instance_norm2d on CycleGAN-sized activations: the generator's residual blocks on 128x128
// images, [1, 256, 32, 32] (batch 1, as CycleGAN trains), and an [8, 64, 32, 32] batch; forward,
// and forward + backward with affine parameters (dx, dweight, dbias). The emulated CUDA device,
// about 100x slower, runs 1/8 of the channels (and says so in its label). Bytes counted are the
// compulsory traffic: the forward reads x and writes y; the backward reads dy and x and writes dx.
#include <string>
#include <vector>

#include "bench_util.h"
#include "ganengine/instance_norm.h"

namespace {

constexpr int64_t kFloat = sizeof(float);
constexpr int64_t kEmulatedChannelDivisor = ge::bench::gpu_or_emulated(1, 8);

// The shape the arguments name, with fewer channels on the emulated device.
ge::Shape shape_of(benchmark::State& state, ge::Device device) {
  int64_t channels = state.range(1);
  if (device.is_cuda() && kEmulatedChannelDivisor > 1) {
    channels /= kEmulatedChannelDivisor;
    state.SetLabel("cuda (emulator), channels / " + std::to_string(kEmulatedChannelDivisor));
  }
  return {state.range(0), channels, state.range(2), state.range(2)};
}

int64_t numel(const ge::Shape& s) {
  return s[0] * s[1] * s[2] * s[3];
}

void BM_instance_norm2d_fwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Shape s = shape_of(state, device);
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
  const ge::Shape s = shape_of(state, device);
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
