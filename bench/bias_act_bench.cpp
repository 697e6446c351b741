// bias_act with lrelu (StyleGAN2's default): the fused op against the same math from separate ops
// (add, leaky relu as maximum(u, alpha * u), gain), for forward and forward + backward, on a
// [64, 128, 16, 16] activation, plus the [64, 64, 14, 14] case of the LibTorch peer benchmark
// (bench/peer), timed the way it times it: forward, then backward into x.grad and b.grad. Bytes
// counted are the fused op's compulsory traffic, the same for both variants, so bytes/s compares
// them directly.
#include "bench_util.h"
#include "ganengine/bias_act.h"

namespace {

const ge::Shape kShape = {64, 128, 16, 16};
const ge::Shape kPeerShape = {64, 64, 14, 14};
constexpr int64_t kFloat = sizeof(float);

int64_t numel(const ge::Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

ge::Tensor fused(const ge::Tensor& x, const ge::Tensor& b) {
  ge::BiasActOptions o;
  o.act = ge::Activation::LeakyRelu;
  return ge::bias_act(x, b, o);
}

ge::Tensor unfused(const ge::Tensor& x, const ge::Tensor& b) {
  const ge::Tensor u = x + b.view({1, -1, 1, 1});
  return ge::maximum(u, u * 0.2f) * 1.41421356f;
}

template <ge::Tensor (*Op)(const ge::Tensor&, const ge::Tensor&)>
void BM_forward(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor x = ge::randn(kShape, device), b = ge::randn({kShape[1]}, device);
  for (auto _ : state) {
    ge::Tensor y = Op(x, b);
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  // Read x, write y.
  state.SetBytesProcessed(state.iterations() * numel(kShape) * 2 * kFloat);
}

template <ge::Tensor (*Op)(const ge::Tensor&, const ge::Tensor&)>
void BM_forward_backward(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor x = ge::randn(kShape, ge::TensorOptions(device).requires_grad(true));
  const ge::Tensor b = ge::randn({kShape[1]}, ge::TensorOptions(device).requires_grad(true));
  const ge::Tensor dy = ge::randn(kShape, device);
  for (auto _ : state) {
    const std::vector<ge::Tensor> g = ge::grad({Op(x, b)}, {x, b}, {dy});
    ge::synchronize(device);
    benchmark::DoNotOptimize(g[0].data_ptr());
  }
  // Forward: read x, write y. Backward: read dy and y, write dx, read dx for the bias sum.
  state.SetBytesProcessed(state.iterations() * numel(kShape) * 6 * kFloat);
}

// The peer benchmark's loop: y.backward(dy) fills x.grad and b.grad, zero_grad drops them.
template <ge::Tensor (*Op)(const ge::Tensor&, const ge::Tensor&)>
void BM_peer_forward_backward(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor x = ge::randn(kPeerShape, ge::TensorOptions(device).requires_grad(true));
  const ge::Tensor b = ge::randn({kPeerShape[1]}, ge::TensorOptions(device).requires_grad(true));
  const ge::Tensor dy = ge::randn(kPeerShape, device);
  for (auto _ : state) {
    Op(x, b).backward(dy);
    ge::synchronize(device);
    benchmark::DoNotOptimize(x.grad().data_ptr());
    x.zero_grad();
    b.zero_grad();
  }
  state.SetBytesProcessed(state.iterations() * numel(kPeerShape) * 6 * kFloat);
}

// The bias gradient alone: dx summed over every dim but the channel dim.
void BM_bias_act_bias_grad_sum(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Tensor dx = ge::randn(kPeerShape, device);
  for (auto _ : state) {
    ge::Tensor db = ge::sum(dx, {0, 2, 3});
    ge::synchronize(device);
    benchmark::DoNotOptimize(db.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * numel(kPeerShape) * kFloat);
}

void BM_bias_act_lrelu(benchmark::State& state, ge::Device device) {
  BM_forward<fused>(state, device);
}
void BM_bias_act_lrelu_unfused(benchmark::State& state, ge::Device device) {
  BM_forward<unfused>(state, device);
}
void BM_bias_act_lrelu_fwd_bwd(benchmark::State& state, ge::Device device) {
  BM_forward_backward<fused>(state, device);
}
void BM_bias_act_lrelu_fwd_bwd_unfused(benchmark::State& state, ge::Device device) {
  BM_forward_backward<unfused>(state, device);
}
void BM_bias_act_lrelu_fwd_bwd_peer_shape(benchmark::State& state, ge::Device device) {
  BM_peer_forward_backward<fused>(state, device);
}

}  // namespace

GE_BENCH_DEVICES(BM_bias_act_lrelu, );
GE_BENCH_DEVICES(BM_bias_act_lrelu_unfused, );
GE_BENCH_DEVICES(BM_bias_act_lrelu_fwd_bwd, );
GE_BENCH_DEVICES(BM_bias_act_lrelu_fwd_bwd_unfused, );
GE_BENCH_DEVICES(BM_bias_act_lrelu_fwd_bwd_peer_shape, );
GE_BENCH_DEVICES(BM_bias_act_bias_grad_sum, );
