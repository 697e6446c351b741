// Multi-tensor Adam, RMSprop, weight clipping and EMA over a DCGAN-sized parameter list (40
// tensors, 1.13M floats: conv weights, biases and norm parameters of uneven sizes). Adam and
// clipping against the same update done per tensor with separate in-place ops, the way a loop
// over params without a multi-tensor kernel would do it. Bytes counted are the fused kernel's
// compulsory traffic (Adam: read param, grad and both moments, write param and both moments;
// RMSprop: read param, grad and square_avg, write param and square_avg; clipping: read and write
// the param; EMA: read both, write the average), the same for both variants of an update, so
// bytes/s compares them directly.
#include <cmath>
#include <vector>

#include "bench_util.h"
#include "ganengine/optim.h"

namespace {

constexpr int64_t kFloat = sizeof(float);

// 40 shapes, 1.13M elements in all: 10 blocks of (conv weight, bias, norm weight, norm bias).
std::vector<ge::Shape> model_shapes() {
  std::vector<ge::Shape> shapes;
  const int64_t channels[] = {16, 32, 48, 64, 64, 96, 96, 96, 64, 16};
  int64_t in = 3;
  for (int64_t out : channels) {
    shapes.push_back({out, in, 5, 5});
    shapes.push_back({out});
    shapes.push_back({out});
    shapes.push_back({out});
    in = out;
  }
  shapes[36] = {128, 1024};  // a dense head in place of the last conv
  return shapes;
}

int64_t total_numel(const std::vector<ge::Tensor>& ts) {
  int64_t n = 0;
  for (const ge::Tensor& t : ts)
    n += t.numel();
  return n;
}

std::vector<ge::Tensor> randn_list(const std::vector<ge::Shape>& shapes, ge::Device device) {
  std::vector<ge::Tensor> out;
  for (const ge::Shape& s : shapes)
    out.push_back(ge::randn(s, device));
  return out;
}

std::vector<ge::Tensor> zeros_list(const std::vector<ge::Shape>& shapes, ge::Device device) {
  std::vector<ge::Tensor> out;
  for (const ge::Shape& s : shapes)
    out.push_back(ge::zeros(s, device));
  return out;
}

void BM_adam_step(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const std::vector<ge::Shape> shapes = model_shapes();
  const std::vector<ge::Tensor> p = randn_list(shapes, device), g = randn_list(shapes, device);
  const std::vector<ge::Tensor> m = zeros_list(shapes, device), v = zeros_list(shapes, device);
  ge::optim::AdamOptions o;
  o.weight_decay = 0.01f;
  o.decoupled_weight_decay = true;
  int64_t step = 0;
  for (auto _ : state) {
    ge::optim::adam_step(p, g, m, v, ++step, o);
    ge::synchronize(device);
  }
  state.counters["tensors"] = static_cast<double>(shapes.size());
  state.counters["params"] = static_cast<double>(total_numel(p));
  state.SetBytesProcessed(state.iterations() * total_numel(p) * 7 * kFloat);
}

// The same AdamW update from per-tensor in-place ops: about ten launches per tensor.
void BM_adam_per_tensor_ops(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const std::vector<ge::Shape> shapes = model_shapes();
  const std::vector<ge::Tensor> p = randn_list(shapes, device), g = randn_list(shapes, device);
  const std::vector<ge::Tensor> m = zeros_list(shapes, device), v = zeros_list(shapes, device);
  const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f;
  int64_t step = 0;
  ge::NoGradGuard no_grad;
  for (auto _ : state) {
    ++step;
    const float bc1 = 1.f - std::pow(b1, static_cast<float>(step));
    const float bc2_sqrt = std::sqrt(1.f - std::pow(b2, static_cast<float>(step)));
    for (size_t i = 0; i < p.size(); ++i) {
      ge::Tensor pi = p[i], mi = m[i], vi = v[i];
      pi.mul_(1.f - lr * wd);
      mi.mul_(b1).add_(g[i], 1.f - b1);
      vi.mul_(b2).add_(g[i] * g[i], 1.f - b2);
      pi.add_(mi / (ge::sqrt(vi) / bc2_sqrt + eps), -lr / bc1);
    }
    ge::synchronize(device);
  }
  state.SetBytesProcessed(state.iterations() * total_numel(p) * 7 * kFloat);
}

void BM_rmsprop_step(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const std::vector<ge::Shape> shapes = model_shapes();
  const std::vector<ge::Tensor> p = randn_list(shapes, device), g = randn_list(shapes, device);
  const std::vector<ge::Tensor> v = zeros_list(shapes, device);
  ge::optim::RmspropOptions o;
  o.lr = 5e-5f;
  for (auto _ : state) {
    ge::optim::rmsprop_step(p, g, v, o);
    ge::synchronize(device);
  }
  state.SetBytesProcessed(state.iterations() * total_numel(p) * 5 * kFloat);
}

void BM_clip_weights(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const std::vector<ge::Tensor> p = randn_list(model_shapes(), device);
  for (auto _ : state) {
    ge::optim::clip_weights(p, 0.01f);
    ge::synchronize(device);
  }
  state.SetBytesProcessed(state.iterations() * total_numel(p) * 2 * kFloat);
}

// The same clipping tensor by tensor, as `for p in netD.parameters(): p.data.clamp_(-c, c)` does
// it; the engine has no in-place clamp, so each tensor takes a clamp and a copy back.
void BM_clip_per_tensor_ops(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const std::vector<ge::Tensor> p = randn_list(model_shapes(), device);
  ge::NoGradGuard no_grad;
  for (auto _ : state) {
    for (const ge::Tensor& t : p)
      ge::Tensor(t).copy_(ge::clamp(t, -0.01f, 0.01f));
    ge::synchronize(device);
  }
  state.SetBytesProcessed(state.iterations() * total_numel(p) * 2 * kFloat);
}

void BM_ema_update(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const std::vector<ge::Shape> shapes = model_shapes();
  const std::vector<ge::Tensor> avg = randn_list(shapes, device);
  const std::vector<ge::Tensor> src = randn_list(shapes, device);
  for (auto _ : state) {
    ge::optim::ema_update(avg, src, 0.999f);
    ge::synchronize(device);
  }
  state.SetBytesProcessed(state.iterations() * total_numel(avg) * 3 * kFloat);
}

}  // namespace

GE_BENCH_DEVICES(BM_adam_step, );
GE_BENCH_DEVICES(BM_adam_per_tensor_ops, );
GE_BENCH_DEVICES(BM_rmsprop_step, );
GE_BENCH_DEVICES(BM_clip_weights, );
GE_BENCH_DEVICES(BM_clip_per_tensor_ops, );
GE_BENCH_DEVICES(BM_ema_update, );
