// CUDA convolution algorithms side by side (native implicit GEMM, im2col + cuBLAS, cuDNN) on the
// layers the GAN models run, forward and forward + backward, plus the fused conv + bias_act
// against conv then bias_act on both devices, and the fused conv + PReLU (SRGAN's 64-channel
// 3x3 conv at 24x24, per-channel slopes) against conv then prelu.
//
// FLOP/s counts 2 * N * O * Ho * Wo * C/groups * kh * kw per GEMM in conv2d geometry (for a
// conv_transpose2d layer, the conv2d it transposes), three of those for forward + backward
// (the input and the weight gradient each cost one forward). A real GPU runs batch 64; the
// emulator runs batch 2 (one iteration there takes seconds).
#include <string>
#include <vector>

#include "bench_util.h"
#include "ganengine/bias_act.h"
#include "ganengine/prelu.h"
#include "ganengine/conv.h"
#include "ganengine/precision.h"

namespace {

constexpr int64_t kBatch = ge::bench::gpu_or_emulated(64, 2);

struct Layer {
  const char* name;
  bool transposed;
  int64_t in_c, out_c, in_hw;  // the op's own input channels, output channels, input size
  int64_t k, stride, pad;
};

const Layer kLayers[] = {
    // DCGAN-MNIST generator and discriminator (k4 s2 p1).
    {"dcgan_g 128->64 7->14", true, 128, 64, 7, 4, 2, 1},
    {"dcgan_g 64->1 14->28", true, 64, 1, 14, 4, 2, 1},
    {"dcgan_d 1->64 28->14", false, 1, 64, 28, 4, 2, 1},
    {"dcgan_d 64->128 14->7", false, 64, 128, 14, 4, 2, 1},
    // SNGAN's 3x3 blocks at 32x32 and StyleGAN-lite's low-resolution 3x3 convolutions.
    {"sngan 3x3 128 32x32", false, 128, 128, 32, 3, 1, 1},
    {"stylegan 3x3 256 8x8", false, 256, 256, 8, 3, 1, 1},
    {"stylegan 3x3 256 4x4", false, 256, 256, 4, 3, 1, 1},
};
constexpr int64_t kLayerCount = sizeof(kLayers) / sizeof(kLayers[0]);

int64_t out_size(const Layer& l) {
  return l.transposed ? (l.in_hw - 1) * l.stride - 2 * l.pad + l.k
                      : (l.in_hw + 2 * l.pad - l.k) / l.stride + 1;
}

double layer_flops(const Layer& l, int64_t batch) {
  // The conv2d geometry's output is the smaller side for a transposed layer.
  const int64_t small = l.transposed ? l.in_hw : out_size(l);
  const int64_t hi_c = l.transposed ? l.in_c : l.out_c, lo_c = l.transposed ? l.out_c : l.in_c;
  return 2.0 * batch * hi_c * small * small * lo_c * l.k * l.k;
}

struct Operands {
  ge::Tensor x, w, b;
};

Operands operands(const Layer& l, ge::Device device, bool grad) {
  const ge::TensorOptions opt = ge::TensorOptions(device).requires_grad(grad);
  Operands o;
  o.x = ge::randn({kBatch, l.in_c, l.in_hw, l.in_hw}, opt);
  // [in, out, k, k] for conv_transpose2d; [out, in, k, k] for conv2d.
  o.w = l.transposed ? ge::randn({l.in_c, l.out_c, l.k, l.k}, opt) * 0.05f
                     : ge::randn({l.out_c, l.in_c, l.k, l.k}, opt) * 0.05f;
  if (grad) o.w = o.w.detach().requires_grad_(true);
  o.b = ge::zeros({l.out_c}, opt);
  return o;
}

ge::BiasActOptions lrelu() {
  ge::BiasActOptions a;
  a.act = ge::Activation::LeakyRelu;
  return a;
}

ge::Tensor run(const Layer& l, const Operands& o, bool fused) {
  const ge::Conv2dOptions opt(l.stride, l.pad);
  if (fused) {
    return l.transposed ? ge::conv_transpose2d_bias_act(o.x, o.w, o.b, opt, lrelu())
                        : ge::conv2d_bias_act(o.x, o.w, o.b, opt, lrelu());
  }
  const ge::Tensor y = l.transposed ? ge::conv_transpose2d(o.x, o.w, ge::Tensor(), opt)
                                    : ge::conv2d(o.x, o.w, ge::Tensor(), opt);
  return ge::bias_act(y, o.b, lrelu());
}

// An algorithm and the TF32 policy it runs under (precision.h; the native kernels honour it).
struct Algo {
  ge::ConvAlgo algo;
  bool tf32;
};

// Restores the selected algorithm and TF32 policy when the benchmark ends.
class AlgoScope {
 public:
  explicit AlgoScope(Algo a) : saved_{ge::conv_algo(), ge::allow_tf32()} {
    ge::set_conv_algo(a.algo);
    ge::set_allow_tf32(a.tf32);
  }
  ~AlgoScope() {
    ge::set_conv_algo(saved_.algo);
    ge::set_allow_tf32(saved_.tf32);
  }
  AlgoScope(const AlgoScope&) = delete;
  AlgoScope& operator=(const AlgoScope&) = delete;

 private:
  Algo saved_;
};

void time_layer(benchmark::State& state, ge::Device device, bool backward, bool fused) {
  const Layer& l = kLayers[state.range(0)];
  state.SetLabel(std::string(l.name) + " batch " + std::to_string(kBatch) +
                 (device.is_cuda() ? " algo " + ge::to_string(ge::conv_algo()) +
                                         (ge::allow_tf32() ? " tf32" : " fp32")
                                   : ""));
  Operands o = operands(l, device, backward);
  for (auto _ : state) {
    const ge::Tensor y = run(l, o, fused);
    if (backward) {
      y.sum().backward();
      o.x.zero_grad();
      o.w.zero_grad();
      o.b.zero_grad();
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.counters["FLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * layer_flops(l, kBatch) * (backward ? 3 : 1),
      benchmark::Counter::kIsRate);
}

void time_algo(benchmark::State& state, Algo a, bool backward) {
  if (!ge::bench::device_ready(state, ge::kCUDA)) return;
  if (!ge::conv_algo_available(a.algo)) {
    state.SkipWithError(("conv algo " + ge::to_string(a.algo) + " is not in this build").c_str());
    return;
  }
  const AlgoScope scope(a);
  time_layer(state, ge::kCUDA, backward, true);
}

void BM_conv_algo(benchmark::State& state, Algo a) {
  time_algo(state, a, false);
}
void BM_conv_algo_fwd_bwd(benchmark::State& state, Algo a) {
  time_algo(state, a, true);
}

// Fused against unfused with the device's default algorithm (native on CUDA).
void BM_conv_bias_act_fused(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  time_layer(state, device, false, true);
}
void BM_conv_bias_act_unfused(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  time_layer(state, device, false, false);
}
void BM_conv_bias_act_fused_fwd_bwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  time_layer(state, device, true, true);
}
void BM_conv_bias_act_unfused_fwd_bwd(benchmark::State& state, ge::Device device) {
  if (!ge::bench::device_ready(state, device)) return;
  time_layer(state, device, true, false);
}

// SRGAN's residual-block conv: 64 -> 64, 3x3, stride 1, pad 1, at 24x24, then PReLU.
void time_conv_prelu(benchmark::State& state, ge::Device device, bool backward, bool fused) {
  if (!ge::bench::device_ready(state, device)) return;
  const ge::TensorOptions opt = ge::TensorOptions(device).requires_grad(backward);
  const ge::Tensor x = ge::randn({kBatch, 64, 24, 24}, opt);
  const ge::Tensor w = (ge::randn({64, 64, 3, 3}, device) * 0.05f).requires_grad_(backward);
  const ge::Tensor b = ge::zeros({64}, opt), a = ge::full({64}, 0.25f, opt);
  const ge::Conv2dOptions o(1, 1);
  for (auto _ : state) {
    const ge::Tensor y =
        fused ? ge::conv2d_prelu(x, w, b, a, o) : ge::prelu(ge::conv2d(x, w, b, o), a);
    if (backward) {
      const std::vector<ge::Tensor> g = ge::grad({y.sum()}, {x, w, b, a});
      benchmark::DoNotOptimize(g[0].data_ptr());
    }
    ge::synchronize(device);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  const double flops = 2.0 * kBatch * 64 * 24 * 24 * 64 * 9;
  state.counters["FLOP/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * flops * (backward ? 3 : 1),
                         benchmark::Counter::kIsRate);
}
void BM_conv_prelu_fused(benchmark::State& state, ge::Device device) {
  time_conv_prelu(state, device, false, true);
}
void BM_conv_prelu_unfused(benchmark::State& state, ge::Device device) {
  time_conv_prelu(state, device, false, false);
}
void BM_conv_prelu_fused_fwd_bwd(benchmark::State& state, ge::Device device) {
  time_conv_prelu(state, device, true, true);
}
void BM_conv_prelu_unfused_fwd_bwd(benchmark::State& state, ge::Device device) {
  time_conv_prelu(state, device, true, false);
}

}  // namespace

// The argument is the layer index in kLayers (the label names it). The native kernels and cuDNN
// follow the TF32 policy; im2col + cuBLAS runs FP32 FMA math whatever it says.
#define GE_CONV_ALGO_CASE(fn, name, algo, tf32) \
  BENCHMARK_CAPTURE(fn, name, Algo{algo, tf32}) \
      ->DenseRange(0, kLayerCount - 1)          \
      ->UseRealTime()                           \
      ->Unit(benchmark::kMillisecond)
#define GE_CONV_ALGO_BENCH(fn)                                     \
  GE_CONV_ALGO_CASE(fn, native_fp32, ge::ConvAlgo::Native, false); \
  GE_CONV_ALGO_CASE(fn, native_tf32, ge::ConvAlgo::Native, true);  \
  GE_CONV_ALGO_CASE(fn, gemm, ge::ConvAlgo::Gemm, false);          \
  GE_CONV_ALGO_CASE(fn, cudnn_fp32, ge::ConvAlgo::Cudnn, false);   \
  GE_CONV_ALGO_CASE(fn, cudnn_tf32, ge::ConvAlgo::Cudnn, true)

GE_CONV_ALGO_BENCH(BM_conv_algo);
GE_CONV_ALGO_BENCH(BM_conv_algo_fwd_bwd);

// The DCGAN layers (indices 0-3): where the activation traffic is the largest share.
GE_BENCH_DEVICES(BM_conv_bias_act_fused, ->DenseRange(0, 3)->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(BM_conv_bias_act_unfused, ->DenseRange(0, 3)->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(BM_conv_bias_act_fused_fwd_bwd, ->DenseRange(0, 3)->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(
    BM_conv_bias_act_unfused_fwd_bwd, ->DenseRange(0, 3)->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(BM_conv_prelu_fused, ->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(BM_conv_prelu_unfused, ->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(BM_conv_prelu_fused_fwd_bwd, ->Unit(benchmark::kMillisecond));
GE_BENCH_DEVICES(BM_conv_prelu_unfused_fwd_bwd, ->Unit(benchmark::kMillisecond));
