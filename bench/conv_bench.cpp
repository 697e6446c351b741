// DCGAN-MNIST convolution layers: FLOP/s counted as 2 * N * O * L * C/groups * kh * kw per
// direction of the layer's GEMM (forward), and three times that for forward + backward
// (input gradient and weight gradient each cost one forward's worth).
#include "bench_util.h"
#include "ganengine/conv.h"

namespace {

// Generator layer: conv_transpose2d 128 -> 64, 7x7 -> 14x14, k4 s2 p1, batch 64.
constexpr int64_t kN = 64, kLowC = 64, kHighC = 128, kSmall = 7, kLarge = 14, kK = 4;
constexpr double kLayerFlops = 2.0 * kN * kHighC * kSmall * kSmall * kLowC * kK * kK;

void run_layer(benchmark::State& state, ge::Device device, bool transposed, bool backward) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::Conv2dOptions opt(2, 1);
  // Both layers share the GEMM volume: the generator's 7x7x128 input side is the
  // discriminator's 7x7x128 output side.
  ge::Tensor x = transposed ? ge::randn({kN, kHighC, kSmall, kSmall}, device)
                            : ge::randn({kN, kLowC, kLarge, kLarge}, device);
  // [128, 64, 4, 4] is [C_in, C_out, kh, kw] for the generator and [C_out, C_in, kh, kw] for
  // the discriminator.
  ge::Tensor w = ge::randn({kHighC, kLowC, kK, kK}, device);
  ge::Tensor b = ge::zeros({transposed ? kLowC : kHighC}, device);
  if (backward) {
    x.requires_grad_();
    w.requires_grad_();
    b.requires_grad_();
  }
  for (auto _ : state) {
    ge::Tensor y = transposed ? ge::conv_transpose2d(x, w, b, opt) : ge::conv2d(x, w, b, opt);
    if (backward) {
      y.sum().backward();
      x.zero_grad();
      w.zero_grad();
      b.zero_grad();
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kLayerFlops * (backward ? 3 : 1),
                         benchmark::Counter::kIsRate);
}

void BM_conv_transpose2d_dcgan_g(benchmark::State& state, ge::Device device) {
  run_layer(state, device, true, false);
}
void BM_conv_transpose2d_dcgan_g_fwd_bwd(benchmark::State& state, ge::Device device) {
  run_layer(state, device, true, true);
}
void BM_conv2d_dcgan_d(benchmark::State& state, ge::Device device) {
  run_layer(state, device, false, false);
}
void BM_conv2d_dcgan_d_fwd_bwd(benchmark::State& state, ge::Device device) {
  run_layer(state, device, false, true);
}

}  // namespace

// No iteration cap for the cuda rows: under the emulator one iteration takes ~0.1-1 s, so
// Google Benchmark's 0.5 s minimum already stops after a few.
GE_BENCH_DEVICES(BM_conv_transpose2d_dcgan_g, ->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(BM_conv_transpose2d_dcgan_g_fwd_bwd, ->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(BM_conv2d_dcgan_d, ->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(BM_conv2d_dcgan_d_fwd_bwd, ->Unit(benchmark::kMillisecond));
