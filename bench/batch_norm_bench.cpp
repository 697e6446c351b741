// batch_norm2d in training mode (batch statistics, running-stat update, normalise + affine) on
// a DCGAN-discriminator-sized activation [64, 128, 14, 14] (batch 4 under the emulator), forward
// and forward + backward, plus eval mode. Bytes counted are the compulsory traffic: forward reads
// x and writes y; the backward reads dy and x and writes dx.
#include "bench_util.h"
#include "ganengine/batch_norm.h"

namespace {

constexpr int64_t kBatch = ge::bench::gpu_or_emulated(64, 4);
constexpr int64_t kC = 128, kHW = 14;
constexpr int64_t kNumel = kBatch * kC * kHW * kHW;
constexpr int64_t kFloat = sizeof(float);

struct Inputs {
  ge::Tensor x, weight, bias, running_mean, running_var;
};

Inputs make_inputs(ge::Device device, bool requires_grad) {
  const ge::TensorOptions o = ge::TensorOptions(device).requires_grad(requires_grad);
  return {ge::randn({kBatch, kC, kHW, kHW}, o), ge::ones({kC}, o), ge::zeros({kC}, o),
          ge::zeros({kC}, device), ge::ones({kC}, device)};
}

void forward(benchmark::State& state, ge::Device device, bool training) {
  if (!ge::bench::device_ready(state, device)) return;
  const Inputs in = make_inputs(device, false);
  for (auto _ : state) {
    ge::Tensor y =
        ge::batch_norm2d(in.x, in.weight, in.bias, in.running_mean, in.running_var, training);
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kNumel * 2 * kFloat);
}

void BM_batch_norm2d_train(benchmark::State& state, ge::Device device) {
  forward(state, device, true);
}
void BM_batch_norm2d_eval(benchmark::State& state, ge::Device device) {
  forward(state, device, false);
}

void BM_batch_norm2d_train_fwd_bwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  const Inputs in = make_inputs(device, true);
  const ge::Tensor dy = ge::randn({kBatch, kC, kHW, kHW}, device);
  for (auto _ : state) {
    const ge::Tensor y =
        ge::batch_norm2d(in.x, in.weight, in.bias, in.running_mean, in.running_var, true);
    const std::vector<ge::Tensor> g = ge::grad({y}, {in.x, in.weight, in.bias}, {dy});
    ge::synchronize(device);
    benchmark::DoNotOptimize(g[0].data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kNumel * 5 * kFloat);
}

}  // namespace

GE_BENCH_DEVICES(BM_batch_norm2d_train, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_batch_norm2d_eval, ->Unit(benchmark::kMicrosecond));
GE_BENCH_DEVICES(BM_batch_norm2d_train_fwd_bwd, ->Unit(benchmark::kMicrosecond));
