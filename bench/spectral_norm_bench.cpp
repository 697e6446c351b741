// spectral_norm with one power iteration on SNGAN-sized conv weights, [512, 256, 4, 4] and
// [128, 64, 4, 4]: the forward (power iteration + sigma + weight / sigma) and forward + backward.
// Bytes counted are the compulsory traffic of the fused kernels: the forward reads W twice (W^T u
// and W v) plus the weight once more and writes the output, 4 passes; the backward reads g and W
// (for <g, W>) then g again and writes dW, 4 more.
#include "bench_util.h"
#include "ganengine/spectral_norm.h"

namespace {

constexpr int64_t kFloat = sizeof(float);

ge::Shape weight_shape(const benchmark::State& state) {
  return {state.range(0), state.range(1), 4, 4};
}

void BM_spectral_norm(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor weight = ge::randn(weight_shape(state), device);
  const auto [u, v] = ge::spectral_norm_buffers(weight);
  for (auto _ : state) {
    ge::Tensor y = ge::spectral_norm(weight, u, v);
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * weight.numel() * 4 * kFloat);
}

void BM_spectral_norm_fwd_bwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor weight =
      ge::randn(weight_shape(state), ge::TensorOptions(device).requires_grad(true));
  const ge::Tensor dy = ge::randn(weight_shape(state), device);
  const auto [u, v] = ge::spectral_norm_buffers(weight);
  for (auto _ : state) {
    const std::vector<ge::Tensor> g = ge::grad({ge::spectral_norm(weight, u, v)}, {weight}, {dy});
    ge::synchronize(device);
    benchmark::DoNotOptimize(g[0].data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * weight.numel() * 8 * kFloat);
}

}  // namespace

GE_BENCH_DEVICES(BM_spectral_norm, ->Args({512, 256})->Args({128, 64}));
GE_BENCH_DEVICES(BM_spectral_norm_fwd_bwd, ->Args({512, 256})->Args({128, 64}));
