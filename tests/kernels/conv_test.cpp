// Convolution launchers (cpu, and the cuda implicit-GEMM kernels with every tile) against direct
// definitions in double (conv_reference.h): the 7-deep loop of conv2d, the scatter of
// conv_transpose2d, and the weight gradient as a sum over samples and output pixels; plus the
// shared index math (FastDiv, stride phases) against brute force.
#include "ganengine/kernels/conv.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/conv.h"
#include "conv_reference.h"
#include "kernel_test_util.h"

#if defined(GE_CUDA_EMULATOR)
#include "ganengine/emu/emulator.h"
#endif

namespace ge::kernels::testing {
namespace {

using ge::testing::tf32_rounded;
using ::testing::HasSubstr;

BiasActParams act(BiasActFn f, float gain = 1.f, float clamp = -1.f, float alpha = 0.2f) {
  return {.act = f, .alpha = alpha, .gain = gain, .clamp = clamp};
}

constexpr BiasActFn kFns[] = {BiasActFn::Linear, BiasActFn::Relu, BiasActFn::LeakyRelu,
                              BiasActFn::Tanh, BiasActFn::Sigmoid};

// Sums of up to a few hundred products of values in [-1, 1]: float rounding stays near 1e-5.
constexpr double kAtol = 2e-5, kRtol = 1e-5;

// Which launcher runs a case: the cpu one, or the cuda one with a tile, on the FP32 cores or the
// tensor cores (TF32).
struct Variant {
  Dev dev;
  cuda::ConvTile tile;
  cuda::ConvMath math = cuda::ConvMath::Fp32;
};

std::string variant_name(const ::testing::TestParamInfo<Variant>& info) {
  if (info.param.dev == Dev::Cpu) return "cpu";
  const std::string prefix = info.param.math == cuda::ConvMath::Tf32 ? "cuda_tf32_" : "cuda_";
  switch (info.param.tile) {
    case cuda::ConvTile::Auto:
      return prefix + "auto";
    case cuda::ConvTile::Wide:
      return prefix + "wide";
    case cuda::ConvTile::Tall:
      return prefix + "tall";
    case cuda::ConvTile::Thin:
      return prefix + "thin";
  }
  return "?";
}

constexpr cuda::ConvMath kTf32 = cuda::ConvMath::Tf32;

class ConvKernelTest : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    int count = 0;
    if (cuda() && (cudaGetDeviceCount(&count) != cudaSuccess || count == 0)) {
      GTEST_SKIP() << "no CUDA device (nor the emulator) in this build";
    }
  }
  bool cuda() const { return GetParam().dev == Dev::Cuda; }
  Dev dev() const { return GetParam().dev; }
  cuda::ConvTile tile() const { return GetParam().tile; }
  cuda::ConvMath math() const { return GetParam().math; }
  bool tf32() const { return math() == cuda::ConvMath::Tf32; }

  // Runs the forward and transposed launchers with epilogue p (and a bias when with_bias) and
  // the weight gradient, each from buffers shifted by `shift` floats, and compares.
  void check(const ConvShape& s, const BiasActParams& p, bool with_bias, uint32_t seed,
             int64_t shift = 0) {
    SCOPED_TRACE(describe(s) + " act " + name(p.act) + " gain " + std::to_string(p.gain) +
                 " clamp " + std::to_string(p.clamp) + (with_bias ? " bias" : "") + " shift " +
                 std::to_string(shift));
    const std::vector<float> x = lcg(x_count(s), seed), w = lcg(w_count(s), seed + 1);
    const std::vector<float> y = lcg(y_count(s), seed + 2);
    const std::vector<float> b_out = lcg(s.out_c, seed + 3), b_in = lcg(s.in_c, seed + 4);
    Buffer bx(dev(), x, shift), bw(dev(), w, shift), by(dev(), y, shift);
    Buffer bbo(dev(), b_out, shift), bbi(dev(), b_in, shift);
    Buffer out_y(dev(), y_count(s) + shift), out_x(dev(), x_count(s) + shift);
    Buffer out_w(dev(), w_count(s) + shift);

    ConvEpilogue ey{with_bias ? bbo.data(shift) : nullptr, p};
    ConvEpilogue ex{with_bias ? bbi.data(shift) : nullptr, p};
    if (cuda()) {
      cuda::conv2d_forward(s, bx.data(shift), bw.data(shift), ey, out_y.data(shift), nullptr,
                           tile(), math());
      cuda::conv_transpose2d_forward(s, by.data(shift), bw.data(shift), ex, out_x.data(shift),
                                     nullptr, tile(), math());
      const cuda::ConvTile wt = tile() == cuda::ConvTile::Thin ? cuda::ConvTile::Auto : tile();
      Buffer ws(dev(), cuda::conv2d_weight_workspace_floats(s, wt));
      cuda::conv2d_weight(s, bx.data(shift), by.data(shift), out_w.data(shift), ws.data(), nullptr,
                          wt, math());
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      Buffer ws(dev(), cpu::conv_workspace_floats(s));
      cpu::conv2d_forward(s, bx.data(shift), bw.data(shift), ey, out_y.data(shift), ws.data());
      cpu::conv_transpose2d_forward(s, by.data(shift), bw.data(shift), ex, out_x.data(shift),
                                    ws.data());
      cpu::conv2d_weight(s, bx.data(shift), by.data(shift), out_w.data(shift), ws.data());
    }
    const float* bo = with_bias ? b_out.data() : nullptr;
    const float* bi = with_bias ? b_in.data() : nullptr;
    // On the tensor cores the products are of TF32-rounded inputs, summed in FP32: the reference
    // rounds the inputs the same way (not the bias, added in FP32), and the FP32 tolerance holds.
    const std::vector<float> rx = tf32() ? tf32_rounded(x) : x, rw = tf32() ? tf32_rounded(w) : w;
    const std::vector<float> ry = tf32() ? tf32_rounded(y) : y;
    EXPECT_TRUE(
        close(out_y.download(y_count(s), shift), conv2d_ref(s, rx, rw, bo, p), kAtol, kRtol))
        << "conv2d_forward";
    EXPECT_TRUE(close(out_x.download(x_count(s), shift), conv_transpose2d_ref(s, ry, rw, bi, p),
                      kAtol, kRtol))
        << "conv_transpose2d_forward";
    EXPECT_TRUE(close(out_w.download(w_count(s), shift), conv2d_weight_ref(s, rx, ry), 1e-4, kRtol))
        << "conv2d_weight";
  }
};

TEST_P(ConvKernelTest, DcganLayers) {
  // k4 s2 p1: 8x8 <-> 4x4 (the transposed direction is DCGAN's generator upsampling).
  check(conv_shape(2, 3, 8, 8, 5, 4, 2, 1), act(BiasActFn::LeakyRelu, std::sqrt(2.f)), true, 1);
  check(conv_shape(1, 4, 14, 14, 2, 4, 2, 1), act(BiasActFn::Relu), true, 2);
  check(conv_shape(2, 1, 8, 8, 3, 4, 2, 1), act(BiasActFn::Tanh), true, 3);
}

TEST_P(ConvKernelTest, ThreeByThreeSamePadding) {
  check(conv_shape(1, 3, 7, 7, 4, 3, 1, 1), act(BiasActFn::Linear), true, 4);
  check(conv_shape(2, 4, 4, 4, 4, 3, 1, 1), act(BiasActFn::Sigmoid, 1.f), true, 5);
  check(conv_shape(3, 2, 5, 6, 3, 3, 1, 1), act(BiasActFn::Linear), false, 6);
}

TEST_P(ConvKernelTest, KernelOneAndFive) {
  check(conv_shape(2, 4, 4, 4, 6, 1, 1, 0), act(BiasActFn::Relu), true, 7);
  check(conv_shape(1, 3, 5, 5, 2, 1, 2, 0), act(BiasActFn::Linear), true,
        8);  // phases without taps
  check(conv_shape(1, 2, 9, 7, 3, 5, 1, 2), act(BiasActFn::LeakyRelu), true, 9);
  check(conv_shape(1, 2, 10, 10, 3, 5, 2, 2), act(BiasActFn::Tanh, 1.5f), true, 10);
}

TEST_P(ConvKernelTest, StrideTwoWithOutputPadding) {
  // In the transposed direction these sizes exceed (out - 1) * 2 - 2 * pad + k: output_padding.
  check(conv_shape(2, 3, 8, 9, 5, 3, 2, 1), act(BiasActFn::LeakyRelu), true, 11);  // 1 and 0
  check(conv_shape(1, 2, 10, 11, 2, 4, 2, 1), act(BiasActFn::Linear), true, 12);   // 1 and 1
  check(conv_shape(3, 1, 5, 5, 1, 3, 2, 0), act(BiasActFn::Sigmoid), true, 13);
}

TEST_P(ConvKernelTest, Groups) {
  check(conv_shape(2, 4, 6, 6, 6, 3, 1, 1, 2), act(BiasActFn::Relu), true, 14);
  check(conv_shape(1, 8, 5, 5, 8, 3, 1, 1, 4), act(BiasActFn::LeakyRelu), true, 15);
  check(conv_shape(2, 4, 8, 8, 4, 4, 2, 1, 4), act(BiasActFn::Linear), true, 16);  // depthwise
  check(conv_shape(1, 4, 6, 6, 8, 1, 1, 0, 2), act(BiasActFn::Tanh), false, 17);
}

TEST_P(ConvKernelTest, OddSizesAndBatchOne) {
  check(conv_shape(1, 1, 1, 1, 1, 1, 1, 0), act(BiasActFn::Linear), true, 18);
  check(conv_shape(1, 3, 3, 11, 2, 3, 1, 0), act(BiasActFn::Sigmoid), true, 19);
  check(non_square_conv_shape(), act(BiasActFn::Relu), true, 20);
}

TEST_P(ConvKernelTest, EveryEpilogue) {
  const ConvShape s = conv_shape(2, 3, 6, 6, 4, 3, 2, 1);
  for (BiasActFn f : kFns) {
    check(s, act(f), true, 21);
    check(s, act(f, 0.7f, 0.4f, 0.1f), true, 22);  // gain and clamp both bite
    check(s, act(f, -1.3f), false, 23);
  }
}

// The PReLU epilogue: out = z > 0 ? z : slope[c] * z and z itself written beside it, z being
// the reference conv2d + bias; with per-channel slopes (one negative, one zero), with and without
// the pre-activation output, aligned and misaligned (the scalar store path).
TEST_P(ConvKernelTest, PreluEpilogue) {
  const ConvShape shapes[] = {conv_shape(2, 3, 6, 6, 4, 3, 2, 1),
                              conv_shape(1, 4, 5, 7, 6, 3, 1, 1),
                              conv_shape(2, 4, 4, 4, 4, 1, 1, 0, 2)};
  for (const ConvShape& s : shapes) {
    for (int64_t shift : {0, 1}) {
      SCOPED_TRACE(describe(s) + " shift " + std::to_string(shift));
      const std::vector<float> x = lcg(x_count(s), 31), w = lcg(w_count(s), 32);
      const std::vector<float> b = lcg(s.out_c, 33);
      std::vector<float> slopes = lcg(s.out_c, 34, -0.5f, 1.5f);
      slopes[0] = -0.75f;
      slopes[1] = 0.f;
      const int64_t n = y_count(s);
      Buffer bx(dev(), x, shift), bw(dev(), w, shift), bb(dev(), b), bs(dev(), slopes);
      Buffer out(dev(), n + shift), pre(dev(), n + shift), out_only(dev(), n + shift);
      ConvEpilogue e{bb.data(), {}, bs.data(), pre.data(shift)};
      ConvEpilogue no_pre{bb.data(), {}, bs.data(), nullptr};
      if (cuda()) {
        cuda::conv2d_forward(s, bx.data(shift), bw.data(shift), e, out.data(shift), nullptr,
                             tile());
        cuda::conv2d_forward(s, bx.data(shift), bw.data(shift), no_pre, out_only.data(shift),
                             nullptr, tile());
        GE_TEST_CUDA(cudaDeviceSynchronize());
      } else {
        Buffer ws(dev(), cpu::conv_workspace_floats(s));
        cpu::conv2d_forward(s, bx.data(shift), bw.data(shift), e, out.data(shift), ws.data());
        cpu::conv2d_forward(s, bx.data(shift), bw.data(shift), no_pre, out_only.data(shift),
                            ws.data());
      }
      const std::vector<double> z = conv2d_ref(s, x, w, b.data(), act(BiasActFn::Linear));
      std::vector<double> y(z.size());
      const int64_t plane = s.out_h * s.out_w;
      for (size_t i = 0; i < z.size(); ++i) {
        const double sl = slopes[static_cast<size_t>(static_cast<int64_t>(i) / plane % s.out_c)];
        y[i] = z[i] > 0 ? z[i] : sl * z[i];
      }
      EXPECT_TRUE(close(pre.download(n, shift), z, kAtol, kRtol)) << "pre-activation";
      EXPECT_TRUE(close(out.download(n, shift), y, kAtol, kRtol)) << "output";
      EXPECT_TRUE(close(out_only.download(n, shift), y, kAtol, kRtol)) << "output without z";
    }
  }
}

TEST_P(ConvKernelTest, PreluEpilogueErrors) {
  const ConvShape s = conv_shape(1, 2, 4, 4, 2, 3, 1, 1);
  Buffer x(dev(), x_count(s)), w(dev(), w_count(s)), y(dev(), y_count(s)), sl(dev(), 2);
  Buffer ws(dev(), cuda() ? 1 : cpu::conv_workspace_floats(s));
  auto forward = [&](const ConvEpilogue& e) {
    if (cuda()) {
      cuda::conv2d_forward(s, x.data(), w.data(), e, y.data(), nullptr, tile());
    } else {
      cpu::conv2d_forward(s, x.data(), w.data(), e, y.data(), ws.data());
    }
  };
  auto transposed = [&](const ConvEpilogue& e) {
    if (cuda()) {
      cuda::conv_transpose2d_forward(s, y.data(), w.data(), e, x.data(), nullptr, tile());
    } else {
      cpu::conv_transpose2d_forward(s, y.data(), w.data(), e, x.data(), ws.data());
    }
  };
  EXPECT_THAT(error_of([&] {
                forward({nullptr, act(BiasActFn::Relu), sl.data(), nullptr});
              }),
              HasSubstr("expected the identity activation with a prelu epilogue, got relu"));
  EXPECT_THAT(error_of([&] {
                forward({nullptr, {}, nullptr, y.data()});
              }),
              HasSubstr("expected pre_activation only with a prelu epilogue"));
  EXPECT_THAT(error_of([&] {
                transposed({nullptr, {}, sl.data(), nullptr});
              }),
              HasSubstr("expected no prelu epilogue (conv2d_forward's only)"));
}

TEST_P(ConvKernelTest, MisalignedBuffers) {
  // The vector paths (float4 weight loads, float4 stores) fall back to scalars.
  check(conv_shape(2, 4, 4, 4, 4, 3, 1, 1), act(BiasActFn::Relu), true, 24, 1);
  check(conv_shape(2, 4, 4, 4, 4, 1, 1, 0), act(BiasActFn::Linear), true, 25, 2);
}

TEST_P(ConvKernelTest, LongWeightReduction) {
  // batch * out_h * out_w well past one K split: the weight gradient's partials are summed.
  check(conv_shape(4, 2, 12, 12, 3, 3, 1, 1), act(BiasActFn::Linear), false, 26);
}

TEST_P(ConvKernelTest, EmptyBatch) {
  const ConvShape s = conv_shape(0, 2, 4, 4, 3, 3, 1, 1);
  Buffer dw(dev(), std::vector<float>(static_cast<size_t>(w_count(s)), 7.f));
  if (cuda()) {
    cuda::conv2d_forward(s, nullptr, nullptr, {}, nullptr, nullptr, tile(), math());
    cuda::conv_transpose2d_forward(s, nullptr, nullptr, {}, nullptr, nullptr, tile(), math());
    cuda::conv2d_weight(s, nullptr, nullptr, dw.data(), nullptr, nullptr, cuda::ConvTile::Auto,
                        math());
    GE_TEST_CUDA(cudaDeviceSynchronize());
  } else {
    Buffer ws(dev(), cpu::conv_workspace_floats(s));
    cpu::conv2d_weight(s, nullptr, nullptr, dw.data(), ws.data());
  }
  EXPECT_TRUE(close(dw.download(w_count(s)), std::vector<double>(w_count(s), 0.0)));
}

INSTANTIATE_TEST_SUITE_P(Variants, ConvKernelTest,
                         ::testing::Values(Variant{Dev::Cpu, cuda::ConvTile::Auto},
                                           Variant{Dev::Cuda, cuda::ConvTile::Auto},
                                           Variant{Dev::Cuda, cuda::ConvTile::Wide},
                                           Variant{Dev::Cuda, cuda::ConvTile::Tall},
                                           Variant{Dev::Cuda, cuda::ConvTile::Thin},
                                           Variant{Dev::Cuda, cuda::ConvTile::Auto, kTf32},
                                           Variant{Dev::Cuda, cuda::ConvTile::Wide, kTf32},
                                           Variant{Dev::Cuda, cuda::ConvTile::Tall, kTf32},
                                           Variant{Dev::Cuda, cuda::ConvTile::Thin, kTf32}),
                         variant_name);

// ---- cuda-only properties -----------------------------------------------------------------

class ConvCudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
      GTEST_SKIP() << "no CUDA device (nor the emulator) in this build";
    }
  }
};

TEST_F(ConvCudaTest, WeightGradientIsBitwiseReproducible) {
  const ConvShape s = conv_shape(4, 2, 12, 12, 3, 3, 1, 1);
  ASSERT_GT(cuda::conv2d_weight_workspace_floats(s), 0) << "expected a split reduction";
  Buffer x(Dev::Cuda, lcg(x_count(s), 31)), dy(Dev::Cuda, lcg(y_count(s), 32));
  Buffer a(Dev::Cuda, w_count(s)), b(Dev::Cuda, w_count(s));
  Buffer ws(Dev::Cuda, cuda::conv2d_weight_workspace_floats(s));
  cuda::conv2d_weight(s, x.data(), dy.data(), a.data(), ws.data(), nullptr);
  cuda::conv2d_weight(s, x.data(), dy.data(), b.data(), ws.data(), nullptr);
  GE_TEST_CUDA(cudaDeviceSynchronize());
  const std::vector<float> va = a.download(w_count(s)), vb = b.download(w_count(s));
  for (size_t i = 0; i < va.size(); ++i)
    ASSERT_EQ(std::memcmp(&va[i], &vb[i], sizeof(float)), 0) << "element " << i;
}

// Layer shapes of the models: DCGAN's k4 s2 down and up, the 3x3 convolutions of SNGAN and
// StyleGAN-lite, an RGB input layer.
struct Tf32Case {
  ConvShape s;
  const char* what;
};
const Tf32Case kTf32Cases[] = {
    {conv_shape(2, 64, 16, 16, 128, 4, 2, 1), "DCGAN D 64->128 k4 s2"},
    {conv_shape(2, 32, 8, 8, 48, 3, 1, 1), "SNGAN/StyleGAN 3x3 32->48"},
    {conv_shape(1, 3, 12, 12, 40, 3, 1, 1), "RGB input layer"},
};

// The three convolutions of one shape on TF32 tensor cores: run(x, w, y, out_y, out_x, out_w)
// computes conv2d(x, w), conv_transpose2d(y, w) and the weight gradient for (x, y) into the
// out_ buffers. Each result is held against the exact FP32 reference in double within the bound
// TF32 allows: an input with a relative error of at most u makes a product off by at most
// (2u + u^2) of its magnitude, and FP32 summation of K terms adds at most K 2^-24 of the sum of
// magnitudes. u = 2^-11 for inputs rounded to nearest (ours), 2^-10 for truncated ones.
template <class Run>
void expect_within_tf32_bound(const ConvShape& s, double u, Run&& run) {
  const std::vector<float> x = lcg(x_count(s), 41), w = lcg(w_count(s), 42);
  const std::vector<float> y = lcg(y_count(s), 43);
  const auto magnitude = [](const std::vector<float>& v) {
    std::vector<float> a(v.size());
    for (size_t i = 0; i < v.size(); ++i)
      a[i] = std::fabs(v[i]);
    return a;
  };
  const BiasActParams linear{};
  const std::vector<float> ax = magnitude(x), aw = magnitude(w), ay = magnitude(y);
  struct Expect {
    std::vector<double> exact, size;
    int64_t k;
  };
  const Expect fwd{conv2d_ref(s, x, w, nullptr, linear), conv2d_ref(s, ax, aw, nullptr, linear),
                   s.in_c * s.kh * s.kw};
  const Expect tr{conv_transpose2d_ref(s, y, w, nullptr, linear),
                  conv_transpose2d_ref(s, ay, aw, nullptr, linear), s.out_c * s.kh * s.kw};
  const Expect wg{conv2d_weight_ref(s, x, y), conv2d_weight_ref(s, ax, ay),
                  s.batch * s.out_h * s.out_w};
  const auto within = [&](const std::vector<float>& got, const Expect& e, const char* op) {
    const double fp32 = static_cast<double>(e.k) * 0x1p-24;
    for (size_t i = 0; i < got.size(); ++i) {
      const double bound = (2 * u + u * u + fp32) * e.size[i] + 1e-7;
      if (std::fabs(got[i] - e.exact[i]) > bound) {
        ADD_FAILURE() << op << "[" << i << "] = " << got[i] << ", exact " << e.exact[i]
                      << ", bound " << bound;
        return;
      }
    }
  };
  Buffer bx(Dev::Cuda, x), bw(Dev::Cuda, w), by(Dev::Cuda, y);
  Buffer out_y(Dev::Cuda, y_count(s)), out_x(Dev::Cuda, x_count(s)), out_w(Dev::Cuda, w_count(s));
  run(bx.data(), bw.data(), by.data(), out_y.data(), out_x.data(), out_w.data());
  GE_TEST_CUDA(cudaDeviceSynchronize());
  within(out_y.download(y_count(s)), fwd, "conv2d_forward");
  within(out_x.download(x_count(s)), tr, "conv_transpose2d_forward");
  within(out_w.download(w_count(s)), wg, "conv2d_weight");
}

// The native tensor-core kernels, in the emulator in each thread order; their result is not the
// FP32 kernels' (the inputs really are rounded).
TEST_F(ConvCudaTest, Tf32StaysWithinTheRoundingBoundOfFp32) {
#if defined(GE_CUDA_EMULATOR)
  const emu::ThreadOrder orders[] = {emu::ThreadOrder::forward, emu::ThreadOrder::reverse,
                                     emu::ThreadOrder::random};
#else
  const int orders[] = {0};
#endif
  for (const Tf32Case& c : kTf32Cases) {
    const ConvShape& s = c.s;
    SCOPED_TRACE(std::string(c.what) + ": " + describe(s));
    Buffer ws(Dev::Cuda, cuda::conv2d_weight_workspace_floats(s));
    Buffer fp32_y(Dev::Cuda, y_count(s));
    for (const auto order : orders) {
#if defined(GE_CUDA_EMULATOR)
      emu::ScopedSchedule scoped({order, 11});
#else
      (void)order;
#endif
      std::vector<float> tf32_y;
      expect_within_tf32_bound(
          s, 0x1p-11,
          [&](const float* x, const float* w, const float* y, float* out_y, float* out_x,
              float* out_w) {
            const auto tc = cuda::ConvMath::Tf32;
            const auto tile = cuda::ConvTile::Auto;
            cuda::conv2d_forward(s, x, w, {}, out_y, nullptr, tile, tc);
            cuda::conv_transpose2d_forward(s, y, w, {}, out_x, nullptr, tile, tc);
            cuda::conv2d_weight(s, x, y, out_w, ws.data(), nullptr, tile, tc);
            cuda::conv2d_forward(s, x, w, {}, fp32_y.data(), nullptr);
            GE_TEST_CUDA(cudaDeviceSynchronize());
            tf32_y.resize(static_cast<size_t>(y_count(s)));
            GE_TEST_CUDA(cudaMemcpy(tf32_y.data(), out_y, tf32_y.size() * sizeof(float),
                                    cudaMemcpyDeviceToHost));
          });
      EXPECT_NE(tf32_y, fp32_y.download(y_count(s)));
    }
  }
}

// cuDNN with TF32 allowed (a GPU build with cuDNN only), within the bound for truncated inputs,
// which covers whichever rounding cuDNN applies.
TEST_F(ConvCudaTest, CudnnTf32StaysWithinTheRoundingBoundOfFp32) {
  if (!cuda::cudnn_available()) GTEST_SKIP() << "cuDNN is not available in this build";
  using cuda::CudnnConvOp;
  for (const Tf32Case& c : kTf32Cases) {
    const ConvShape& s = c.s;
    SCOPED_TRACE(std::string(c.what) + ": " + describe(s));
    const auto tc = cuda::ConvMath::Tf32;
    const size_t bytes =
        std::max({cuda::cudnn_workspace_bytes(CudnnConvOp::Forward, s, tc),
                  cuda::cudnn_workspace_bytes(CudnnConvOp::TransposeForward, s, tc),
                  cuda::cudnn_workspace_bytes(CudnnConvOp::Weight, s, tc)});
    Buffer ws(Dev::Cuda, static_cast<int64_t>((bytes + 3) / 4));
    expect_within_tf32_bound(
        s, 0x1p-10,
        [&](const float* x, const float* w, const float* y, float* out_y, float* out_x,
            float* out_w) {
          cuda::cudnn_conv2d_forward(s, x, w, {}, out_y, ws.data(), bytes, nullptr, tc);
          cuda::cudnn_conv_transpose2d_forward(s, y, w, {}, out_x, ws.data(), bytes, nullptr, tc);
          cuda::cudnn_conv2d_weight(s, x, y, out_w, ws.data(), bytes, nullptr, tc);
        });
  }
}

TEST_F(ConvCudaTest, Errors) {
  ConvShape s = conv_shape(1, 2, 5, 5, 3, 3, 1, 1);
  s.out_h = 4;
  std::string msg =
      error_of([&] { cuda::conv2d_forward(s, nullptr, nullptr, {}, nullptr, nullptr); });
  EXPECT_THAT(msg, HasSubstr("conv2d_forward(cuda): ")) << msg;  // check_conv_shape's words
  EXPECT_THAT(msg, HasSubstr("4x5")) << msg;

  s = conv_shape(1, 2, 5, 5, 3, 3, 1, 1);
  msg = error_of([&] { cuda::conv2d_forward(s, nullptr, nullptr, {}, nullptr, nullptr); });
  EXPECT_THAT(msg, HasSubstr("conv2d_forward(cuda): expected non-null x, w and y")) << msg;

  ConvEpilogue bad;
  bad.act.act = BiasActFn::LeakyRelu;
  bad.act.alpha = -0.5f;
  Buffer x(Dev::Cuda, x_count(s)), w(Dev::Cuda, w_count(s)), y(Dev::Cuda, y_count(s));
  msg = error_of(
      [&] { cuda::conv_transpose2d_forward(s, y.data(), w.data(), bad, x.data(), nullptr); });
  EXPECT_THAT(msg, HasSubstr("conv_transpose2d_forward(cuda): expected alpha >= 0 for lrelu"))
      << msg;

  const ConvShape big = conv_shape(4, 2, 12, 12, 3, 3, 1, 1);
  Buffer bx(Dev::Cuda, x_count(big)), by(Dev::Cuda, y_count(big)), bw(Dev::Cuda, w_count(big));
  msg = error_of(
      [&] { cuda::conv2d_weight(big, bx.data(), by.data(), bw.data(), nullptr, nullptr); });
  EXPECT_THAT(msg, HasSubstr("conv2d_weight(cuda): expected a workspace of ")) << msg;
  EXPECT_THAT(msg, HasSubstr("conv2d_weight_workspace_floats")) << msg;

  msg = error_of([&] { cuda::conv2d_weight_workspace_floats(big, cuda::ConvTile::Thin); });
  EXPECT_THAT(msg, HasSubstr("expected tile Auto, Wide or Tall, got Thin")) << msg;
}

TEST_F(ConvCudaTest, CudnnAvailability) {
  if (cuda::cudnn_available()) {
#if defined(GE_CUDA_EMULATOR)
    FAIL() << "the emulator build has no cuDNN";
#endif
    GTEST_SKIP() << "cuDNN is present; its results are compared in CudnnMatchesReference";
  }
  const ConvShape s = conv_shape(1, 2, 5, 5, 3, 3, 1, 1);
  const std::string msg = error_of(
      [&] { cuda::cudnn_conv2d_forward(s, nullptr, nullptr, {}, nullptr, nullptr, 0, nullptr); });
  EXPECT_THAT(msg, HasSubstr("cudnn_conv2d_forward: cuDNN is not available in this build")) << msg;
}

TEST_F(ConvCudaTest, CudnnMatchesReference) {
  if (!cuda::cudnn_available()) GTEST_SKIP() << "cuDNN is not available in this build";
  for (const ConvShape& s :
       {conv_shape(2, 3, 8, 9, 5, 3, 2, 1), conv_shape(2, 4, 6, 6, 6, 3, 1, 1, 2)}) {
    SCOPED_TRACE(describe(s));
    const std::vector<float> x = lcg(x_count(s), 41), w = lcg(w_count(s), 42);
    const std::vector<float> y = lcg(y_count(s), 43), b = lcg(s.out_c, 44), bi = lcg(s.in_c, 45);
    Buffer bx(Dev::Cuda, x), bw(Dev::Cuda, w), by(Dev::Cuda, y), bb(Dev::Cuda, b);
    Buffer bbi(Dev::Cuda, bi);
    Buffer oy(Dev::Cuda, y_count(s)), ox(Dev::Cuda, x_count(s)), ow(Dev::Cuda, w_count(s));
    const BiasActParams p = act(BiasActFn::LeakyRelu, 1.4f);
    using cuda::CudnnConvOp;
    const size_t bytes = std::max({cuda::cudnn_workspace_bytes(CudnnConvOp::Forward, s),
                                   cuda::cudnn_workspace_bytes(CudnnConvOp::TransposeForward, s),
                                   cuda::cudnn_workspace_bytes(CudnnConvOp::Weight, s), size_t{4}});
    Buffer ws(Dev::Cuda, static_cast<int64_t>(bytes / sizeof(float) + 1));
    cuda::cudnn_conv2d_forward(s, bx.data(), bw.data(), {bb.data(), p}, oy.data(), ws.data(), bytes,
                               nullptr);
    cuda::cudnn_conv_transpose2d_forward(s, by.data(), bw.data(), {bbi.data(), p}, ox.data(),
                                         ws.data(), bytes, nullptr);
    cuda::cudnn_conv2d_weight(s, bx.data(), by.data(), ow.data(), ws.data(), bytes, nullptr);
    GE_TEST_CUDA(cudaDeviceSynchronize());
    EXPECT_TRUE(close(oy.download(y_count(s)), conv2d_ref(s, x, w, b.data(), p), kAtol, kRtol));
    EXPECT_TRUE(
        close(ox.download(x_count(s)), conv_transpose2d_ref(s, y, w, bi.data(), p), kAtol, kRtol));
    EXPECT_TRUE(close(ow.download(w_count(s)), conv2d_weight_ref(s, x, y), 1e-4, kRtol));
  }
}

// ---- shared index math --------------------------------------------------------------------

TEST(ConvIndexMath, FastDivMatchesDivision) {
  for (uint32_t d : {1u, 2u, 3u, 5u, 7u, 9u, 16u, 25u, 49u, 100u, 196u, 784u, 4095u, 65537u,
                     1000003u, 0x7fffffffu}) {
    const FastDiv f(d);
    for (uint32_t n = 0; n < 5000; ++n)
      ASSERT_EQ(f.div(n), n / d) << n << " / " << d;
    for (uint32_t n : {0x7fffffffu, 0x7ffffffeu, 0x40000000u, 123456789u, d - 1, d, d + 1}) {
      if (n > 0x7fffffffu) continue;
      ASSERT_EQ(f.div(n), n / d) << n << " / " << d;
      int q = 0, r = 0;
      f.divmod(static_cast<int>(n), q, r);
      ASSERT_EQ(q, static_cast<int>(n / d));
      ASSERT_EQ(r, static_cast<int>(n % d));
    }
  }
}

// Every (output pixel, kernel tap) pair that conv_transpose2d connects to an input pixel is met
// by exactly one phase, with the input pixel the definition gives.
TEST(ConvIndexMath, StridePhasesCoverEveryTapOnce) {
  for (int64_t stride : {1, 2, 3})
    for (int64_t k : {1, 2, 3, 4, 5})
      for (int64_t pad : {0, 1, 2})
        for (int64_t in : {4, 5, 7, 8}) {
          ConvShape s = conv_shape(1, 1, in, in + 1, 1, k, stride, pad);
          if (in + 2 * pad < k) continue;
          SCOPED_TRACE(describe(s));
          // hits[(yy * in_w + xx) * kh * kw + ki * kw + kj] counts phase visits.
          std::vector<int> hits(static_cast<size_t>(s.in_h * s.in_w * k * k), 0);
          for (int64_t p = 0; p < s.stride_h * s.stride_w; ++p) {
            const ConvPhase ph = conv_transpose_phase(s, p);
            for (int64_t i = 0; i < ph.rows; ++i)
              for (int64_t j = 0; j < ph.cols; ++j)
                for (int64_t t = 0; t < ph.taps_h; ++t)
                  for (int64_t u = 0; u < ph.taps_w; ++u) {
                    const int64_t yy = ph.y0 + i * stride, xx = ph.x0 + j * stride;
                    const int64_t ki = ph.ry + t * stride, kj = ph.rx + u * stride;
                    const int64_t oy = ph.qy0 + i - t, ox = ph.qx0 + j - u;
                    ASSERT_LT(yy, s.in_h);
                    ASSERT_LT(ki, s.kh);
                    if (oy < 0 || oy >= s.out_h || ox < 0 || ox >= s.out_w) continue;
                    ASSERT_EQ(oy * stride - pad + ki, yy);
                    ASSERT_EQ(ox * stride - pad + kj, xx);
                    ++hits[static_cast<size_t>(((yy * s.in_w + xx) * k + ki) * k + kj)];
                  }
          }
          for (int64_t yy = 0; yy < s.in_h; ++yy)
            for (int64_t xx = 0; xx < s.in_w; ++xx)
              for (int64_t ki = 0; ki < k; ++ki)
                for (int64_t kj = 0; kj < k; ++kj) {
                  const int64_t ny = yy + pad - ki, nx = xx + pad - kj;
                  const bool connected = ny >= 0 && nx >= 0 && ny % stride == 0 &&
                                         nx % stride == 0 && ny / stride < s.out_h &&
                                         nx / stride < s.out_w;
                  ASSERT_EQ(hits[static_cast<size_t>(((yy * s.in_w + xx) * k + ki) * k + kj)],
                            connected ? 1 : 0)
                      << "pixel " << yy << "," << xx << " tap " << ki << "," << kj;
                }
        }
}

}  // namespace
}  // namespace ge::kernels::testing
