// The critic-free part of a WGAN-GP step on MNIST-sized batches [64, 1, 28, 28]: the fused
// interpolation, and the penalty forward + backward on a given input gradient. Bytes counted are
// the fused kernels' compulsory traffic: interpolate reads real and fake and writes x_hat (3
// passes); the penalty reads grad for the norms, then reads it again and writes dgrad (3 passes).
#include "bench_util.h"
#include "ganengine/gradient_penalty.h"

namespace {

const ge::Shape kShape = {64, 1, 28, 28};
constexpr int64_t kNumel = 64 * 28 * 28;
constexpr int64_t kFloat = sizeof(float);

void BM_gp_interpolate(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor real = ge::randn(kShape, device), fake = ge::randn(kShape, device);
  const ge::Tensor alpha = ge::rand({kShape[0]}, device);
  for (auto _ : state) {
    ge::Tensor x = ge::gradient_penalty_interpolate(real, fake, alpha);
    ge::synchronize(device);
    benchmark::DoNotOptimize(x.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kNumel * 3 * kFloat);
}

void BM_gp_penalty_fwd_bwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor g = ge::randn(kShape, ge::TensorOptions(device).requires_grad(true));
  for (auto _ : state) {
    const std::vector<ge::Tensor> d = ge::grad({ge::gradient_penalty(g)}, {g});
    ge::synchronize(device);
    benchmark::DoNotOptimize(d[0].data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kNumel * 3 * kFloat);
}

// Interpolation, then the penalty and its gradient: the step minus the critic.
void BM_gp_step(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor real = ge::randn(kShape, device), fake = ge::randn(kShape, device);
  const ge::Tensor g = ge::randn(kShape, ge::TensorOptions(device).requires_grad(true));
  for (auto _ : state) {
    const ge::Tensor alpha = ge::rand({kShape[0]}, device);
    ge::Tensor x = ge::gradient_penalty_interpolate(real, fake, alpha);
    const std::vector<ge::Tensor> d = ge::grad({ge::gradient_penalty(g)}, {g});
    ge::synchronize(device);
    benchmark::DoNotOptimize(x.data_ptr());
    benchmark::DoNotOptimize(d[0].data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kNumel * 6 * kFloat);
}

}  // namespace

GE_BENCH_DEVICES(BM_gp_interpolate, );
GE_BENCH_DEVICES(BM_gp_penalty_fwd_bwd, );
GE_BENCH_DEVICES(BM_gp_step, );
