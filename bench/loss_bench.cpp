// Fused losses: binary_cross_entropy_with_logits (tensor target) and softplus_loss, mean
// reduction, at a GAN discriminator's batch (64 logits: launch-bound) and at 1M elements
// (bandwidth-bound), forward and forward + backward, against the same loss from separate ops;
// mse_loss against a scalar target (least squares GAN) and l1_loss against a tensor (CycleGAN's
// cycle loss), the same way. Bytes counted are the fused kernels' compulsory traffic, the same
// for the unfused variant.
#include "bench_util.h"
#include "ganengine/loss.h"

namespace {

constexpr int64_t kFloat = sizeof(float);

void BM_bce_with_logits_mean(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t n = state.range(0);
  const ge::Tensor x = ge::randn({n}, device), t = ge::rand({n}, device);
  for (auto _ : state) {
    ge::Tensor l = ge::binary_cross_entropy_with_logits(x, t);
    ge::synchronize(device);
    benchmark::DoNotOptimize(l.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * n * 2 * kFloat);  // read x and t
}

void BM_softplus_loss_mean(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t n = state.range(0);
  const ge::Tensor x = ge::randn({n}, device);
  for (auto _ : state) {
    ge::Tensor l = ge::softplus_loss(x, -1.f);
    ge::synchronize(device);
    benchmark::DoNotOptimize(l.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * n * kFloat);  // read x
}

// mean(softplus(-x)) from separate ops: negate, softplus, mean.
void BM_softplus_loss_mean_unfused(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t n = state.range(0);
  const ge::Tensor x = ge::randn({n}, device);
  for (auto _ : state) {
    ge::Tensor l = ge::mean(ge::softplus(-x));
    ge::synchronize(device);
    benchmark::DoNotOptimize(l.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * n * kFloat);
}

template <bool Fused>
void softplus_fwd_bwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t n = state.range(0);
  const ge::Tensor x = ge::randn({n}, ge::TensorOptions(device).requires_grad(true));
  for (auto _ : state) {
    const ge::Tensor l = Fused ? ge::softplus_loss(x, -1.f) : ge::mean(ge::softplus(-x));
    const std::vector<ge::Tensor> g = ge::grad({l}, {x});
    ge::synchronize(device);
    benchmark::DoNotOptimize(g[0].data_ptr());
  }
  // Forward: read x. Backward: read x, write dx.
  state.SetBytesProcessed(state.iterations() * n * 3 * kFloat);
}

void BM_softplus_loss_mean_fwd_bwd(benchmark::State& state, ge::Device device) {
  softplus_fwd_bwd<true>(state, device);
}
void BM_softplus_loss_mean_fwd_bwd_unfused(benchmark::State& state, ge::Device device) {
  softplus_fwd_bwd<false>(state, device);
}

// mean((x - 1)^2), the least-squares generator loss.
template <bool Fused>
void mse_fwd_bwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t n = state.range(0);
  const ge::Tensor x = ge::randn({n}, ge::TensorOptions(device).requires_grad(true));
  for (auto _ : state) {
    const ge::Tensor l = Fused ? ge::mse_loss(x, 1.f) : ge::mean(ge::square(x - 1.f));
    const std::vector<ge::Tensor> g = ge::grad({l}, {x});
    ge::synchronize(device);
    benchmark::DoNotOptimize(g[0].data_ptr());
  }
  // Forward: read x. Backward: read x, write dx.
  state.SetBytesProcessed(state.iterations() * n * 3 * kFloat);
}

void BM_mse_loss_mean(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t n = state.range(0);
  const ge::Tensor x = ge::randn({n}, device);
  for (auto _ : state) {
    ge::Tensor l = ge::mse_loss(x, 1.f);
    ge::synchronize(device);
    benchmark::DoNotOptimize(l.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * n * kFloat);  // read x
}

void BM_mse_loss_mean_fwd_bwd(benchmark::State& state, ge::Device device) {
  mse_fwd_bwd<true>(state, device);
}
void BM_mse_loss_mean_fwd_bwd_unfused(benchmark::State& state, ge::Device device) {
  mse_fwd_bwd<false>(state, device);
}

// mean(|x - t|) with t a tensor, the cycle-consistency loss.
template <bool Fused>
void l1_fwd_bwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const int64_t n = state.range(0);
  const ge::Tensor x = ge::randn({n}, ge::TensorOptions(device).requires_grad(true));
  const ge::Tensor t = ge::randn({n}, device);
  for (auto _ : state) {
    const ge::Tensor l = Fused ? ge::l1_loss(x, t) : ge::mean(ge::abs(x - t));
    const std::vector<ge::Tensor> g = ge::grad({l}, {x});
    ge::synchronize(device);
    benchmark::DoNotOptimize(g[0].data_ptr());
  }
  // Forward: read x and t. Backward: read x and t, write dx.
  state.SetBytesProcessed(state.iterations() * n * 5 * kFloat);
}

void BM_l1_loss_mean_fwd_bwd(benchmark::State& state, ge::Device device) {
  l1_fwd_bwd<true>(state, device);
}
void BM_l1_loss_mean_fwd_bwd_unfused(benchmark::State& state, ge::Device device) {
  l1_fwd_bwd<false>(state, device);
}

}  // namespace

GE_BENCH_DEVICES(BM_bce_with_logits_mean, ->Arg(64)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_softplus_loss_mean, ->Arg(64)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_softplus_loss_mean_unfused, ->Arg(64)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_softplus_loss_mean_fwd_bwd, ->Arg(64)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_softplus_loss_mean_fwd_bwd_unfused, ->Arg(64)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_mse_loss_mean, ->Arg(64)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_mse_loss_mean_fwd_bwd, ->Arg(64)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_mse_loss_mean_fwd_bwd_unfused, ->Arg(64)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_l1_loss_mean_fwd_bwd, ->Arg(64)->Arg(1 << 20));
GE_BENCH_DEVICES(BM_l1_loss_mean_fwd_bwd_unfused, ->Arg(64)->Arg(1 << 20));
