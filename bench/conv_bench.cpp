// DCGAN-MNIST convolution layers through the engine (both devices) and, on the CPU, the conv
// launchers alone next to an OpenBLAS sgemm of the layer's GEMM volume, so that one run reads
// off the fraction of sgemm throughput each launcher reaches. FLOP/s counted as 2 * N * O * L *
// C/groups * kh * kw per direction of the layer's GEMM (forward), and three times that for forward
// + backward (input gradient and weight gradient each cost one forward's worth).
#include <cstdint>
#include <vector>

#include "bench_util.h"
#include "ganengine/conv.h"
#include "ganengine/kernels/conv.h"
#include "ganengine/kernels/matmul.h"

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

namespace {

namespace gk = ge::kernels;

// The DCGAN-MNIST layers as conv2d geometries (for a conv_transpose2d layer, the conv2d whose
// input is the layer's output). k4 s2 p1, batch 64.
gk::ConvShape dcgan_shape(int64_t low_c, int64_t high_c, int64_t large) {
  gk::ConvShape s;
  s.batch = 64;
  s.in_c = low_c;
  s.in_h = s.in_w = large;
  s.out_c = high_c;
  s.out_h = s.out_w = large / 2;
  s.kh = s.kw = 4;
  s.stride_h = s.stride_w = 2;
  s.pad_h = s.pad_w = 1;
  return s;
}

// 64 <-> 128 channels at 14x14 <-> 7x7: generator layer 2 and discriminator layer 2.
const gk::ConvShape kWide = dcgan_shape(64, 128, 14);
// 1 <-> 64 channels at 28x28 <-> 14x14: generator output layer and discriminator input layer.
const gk::ConvShape kThin = dcgan_shape(1, 64, 28);

double conv_flops(const gk::ConvShape& s) {
  return 2.0 * s.batch * s.out_c * s.out_h * s.out_w * (s.in_c / s.groups) * s.kh * s.kw;
}

// Which launcher: conv2d's forward (also conv_transpose2d's input gradient), conv_transpose2d's
// forward (also conv2d's input gradient), or the weight gradient of either.
enum class Launcher { Conv2d, ConvTranspose2d, Weight };

void BM_conv_kernel_cpu(benchmark::State& state, gk::ConvShape s, Launcher which) {
  const int64_t nx = s.batch * s.in_c * s.in_h * s.in_w;
  const int64_t ny = s.batch * s.out_c * s.out_h * s.out_w;
  const int64_t nw = s.out_c * (s.in_c / s.groups) * s.kh * s.kw;
  std::vector<float> x(static_cast<size_t>(nx), 0.5f), y(static_cast<size_t>(ny), 0.25f),
      w(static_cast<size_t>(nw), 0.125f), bias(static_cast<size_t>(s.in_c + s.out_c), 0.1f),
      ws(static_cast<size_t>(gk::cpu::conv_workspace_floats(s)));
  gk::ConvEpilogue e;
  e.act.act = gk::BiasActFn::LeakyRelu;  // the DCGAN layers' activation, fused
  for (auto _ : state) {
    switch (which) {
      case Launcher::Conv2d:
        e.bias = bias.data();
        gk::cpu::conv2d_forward(s, x.data(), w.data(), e, y.data(), ws.data());
        break;
      case Launcher::ConvTranspose2d:
        e.bias = bias.data();
        gk::cpu::conv_transpose2d_forward(s, y.data(), w.data(), e, x.data(), ws.data());
        break;
      case Launcher::Weight:
        gk::cpu::conv2d_weight(s, x.data(), y.data(), w.data(), ws.data());
        break;
    }
    benchmark::ClobberMemory();
  }
  state.counters["FLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * conv_flops(s), benchmark::Counter::kIsRate);
}

// The ceiling: one OpenBLAS sgemm (its own threading) with a layer's whole-batch GEMM volume.
void BM_sgemm_cpu(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  std::vector<float> a(static_cast<size_t>(m * k), 0.5f), b(static_cast<size_t>(k * n), 0.25f),
      c(static_cast<size_t>(m * n));
  const gk::GemmArgs g = gk::packed_gemm(false, false, m, n, k, a.data(), b.data(), c.data());
  for (auto _ : state) {
    gk::cpu::gemm(g);
    benchmark::ClobberMemory();
  }
  state.counters["FLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2.0 * m * n * k, benchmark::Counter::kIsRate);
}

}  // namespace

#define GE_CONV_KERNEL_BENCH(label, shape, launcher)            \
  BENCHMARK_CAPTURE(BM_conv_kernel_cpu, label, shape, launcher) \
      ->UseRealTime()                                           \
      ->Unit(benchmark::kMillisecond)
// Per layer: forward, then the backward's input gradient (the other launcher) and weight
// gradient.
#define GE_CONV_LAYER_BENCH(layer, shape, forward, backward_input)          \
  GE_CONV_KERNEL_BENCH(layer##_fwd, shape, Launcher::forward);              \
  GE_CONV_KERNEL_BENCH(layer##_bwd_input, shape, Launcher::backward_input); \
  GE_CONV_KERNEL_BENCH(layer##_bwd_weight, shape, Launcher::Weight)
GE_CONV_LAYER_BENCH(g_ct128to64, kWide, ConvTranspose2d, Conv2d);
GE_CONV_LAYER_BENCH(g_ct64to1, kThin, ConvTranspose2d, Conv2d);
GE_CONV_LAYER_BENCH(d_c1to64, kThin, Conv2d, ConvTranspose2d);
GE_CONV_LAYER_BENCH(d_c64to128, kWide, Conv2d, ConvTranspose2d);
// [128 x 1024] x [1024 x 64*49]: the wide layers' GEMM; and a square 1024^3 for reference.
BENCHMARK(BM_sgemm_cpu)
    ->Args({128, 64 * 49, 1024})
    ->Args({1024, 1024, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
