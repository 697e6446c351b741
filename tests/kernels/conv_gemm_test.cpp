// The im2col/col2im + cuBLAS convolutions (cuda only) against the direct definitions in double
// (conv_reference.h): forward with its epilogue, transposed forward, weight gradient; batch 1
// (no permuting copy) and larger batches, groups, strides with output padding, odd and
// non-square sizes, TF32 math against the definition on rounded operands; and the refusals
// (PReLU, a short workspace).
#include <cmath>
#include <string>
#include <vector>

#include "conv_reference.h"
#include "ganengine/kernels/conv.h"
#include "kernel_test_util.h"
#include "support/tf32_reference.h"

namespace ge::kernels::testing {
namespace {

using ge::testing::tf32_rounded;
using ::testing::HasSubstr;

constexpr double kAtol = 2e-5, kRtol = 1e-5;

class ConvGemmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0)
      GTEST_SKIP() << "no CUDA device (nor the emulator) in this build";
  }

  void check(const ConvShape& s, const BiasActParams& p, bool with_bias, uint32_t seed,
             cuda::ConvMath math = cuda::ConvMath::Fp32) {
    const bool tf32 = math == cuda::ConvMath::Tf32;
    SCOPED_TRACE(describe(s) + " act " + name(p.act) + (with_bias ? " bias" : "") +
                 (tf32 ? " tf32" : ""));
    const std::vector<float> x = lcg(x_count(s), seed), w = lcg(w_count(s), seed + 1);
    const std::vector<float> y = lcg(y_count(s), seed + 2);
    const std::vector<float> b_out = lcg(s.out_c, seed + 3), b_in = lcg(s.in_c, seed + 4);
    Buffer bx(Dev::Cuda, x), bw(Dev::Cuda, w), by(Dev::Cuda, y), bbo(Dev::Cuda, b_out),
        bbi(Dev::Cuda, b_in);
    Buffer out_y(Dev::Cuda, y_count(s)), out_x(Dev::Cuda, x_count(s)), out_w(Dev::Cuda, w_count(s));
    const int64_t need = cuda::conv_gemm_workspace_floats(s);
    Buffer ws(Dev::Cuda, need);
    const ConvEpilogue ey{with_bias ? bbo.data() : nullptr, p};
    const ConvEpilogue ex{with_bias ? bbi.data() : nullptr, p};
    cuda::conv2d_forward_gemm(s, bx.data(), bw.data(), ey, out_y.data(), ws.data(), need, nullptr,
                              math);
    cuda::conv_transpose2d_forward_gemm(s, by.data(), bw.data(), ex, out_x.data(), ws.data(), need,
                                        nullptr, math);
    cuda::conv2d_weight_gemm(s, bx.data(), by.data(), out_w.data(), ws.data(), need, nullptr, math);
    GE_TEST_CUDA(cudaDeviceSynchronize());
    const float* bo = with_bias ? b_out.data() : nullptr;
    const float* bi = with_bias ? b_in.data() : nullptr;
    // With TF32 the GEMMs multiply TF32-rounded operands (the bias is added in FP32).
    const std::vector<float> rx = tf32 ? tf32_rounded(x) : x, rw = tf32 ? tf32_rounded(w) : w;
    const std::vector<float> ry = tf32 ? tf32_rounded(y) : y;
    EXPECT_TRUE(close(out_y.download(y_count(s)), conv2d_ref(s, rx, rw, bo, p), kAtol, kRtol))
        << "conv2d_forward_gemm";
    EXPECT_TRUE(
        close(out_x.download(x_count(s)), conv_transpose2d_ref(s, ry, rw, bi, p), kAtol, kRtol))
        << "conv_transpose2d_forward_gemm";
    EXPECT_TRUE(close(out_w.download(w_count(s)), conv2d_weight_ref(s, rx, ry), 1e-4, kRtol))
        << "conv2d_weight_gemm";
  }
};

BiasActParams act(BiasActFn f, float gain = 1.f, float clamp = -1.f) {
  return {.act = f, .alpha = 0.2f, .gain = gain, .clamp = clamp};
}

TEST_F(ConvGemmTest, DcganLayersAndBatchOne) {
  check(conv_shape(2, 3, 8, 8, 5, 4, 2, 1), act(BiasActFn::LeakyRelu, std::sqrt(2.f)), true, 1);
  check(conv_shape(1, 4, 14, 14, 2, 4, 2, 1), act(BiasActFn::Relu), true, 2);
  check(conv_shape(3, 2, 5, 6, 3, 3, 1, 1), act(BiasActFn::Linear), false, 3);
}

TEST_F(ConvGemmTest, StridesOutputPaddingGroupsAndOddSizes) {
  check(conv_shape(2, 3, 8, 9, 5, 3, 2, 1), act(BiasActFn::Tanh), true, 4);  // output_padding
  check(conv_shape(2, 4, 6, 6, 6, 3, 1, 1, 2), act(BiasActFn::Sigmoid), true, 5);
  check(conv_shape(2, 4, 8, 8, 4, 4, 2, 1, 4), act(BiasActFn::Linear), true, 6);  // depthwise
  check(non_square_conv_shape(), act(BiasActFn::LeakyRelu, 0.7f, 0.4f), true, 7);
}

TEST_F(ConvGemmTest, Tf32MultipliesRoundedOperands) {
  check(conv_shape(2, 3, 8, 8, 5, 4, 2, 1), act(BiasActFn::LeakyRelu), true, 8,
        cuda::ConvMath::Tf32);
  check(conv_shape(1, 4, 6, 6, 6, 3, 1, 1, 2), act(BiasActFn::Linear), false, 9,
        cuda::ConvMath::Tf32);
}

TEST_F(ConvGemmTest, RefusesPreluAndAShortWorkspace) {
  const ConvShape s = conv_shape(2, 3, 6, 6, 4, 3, 2, 1);
  const int64_t need = cuda::conv_gemm_workspace_floats(s);
  EXPECT_EQ(need, 3 * 9 * 2 * 9 + 4 * 2 * 9);  // the columns, then [O, N, L]
  Buffer x(Dev::Cuda, x_count(s)), w(Dev::Cuda, w_count(s)), y(Dev::Cuda, y_count(s)),
      ws(Dev::Cuda, need), slopes(Dev::Cuda, s.out_c);
  EXPECT_THAT(error_of([&] {
                cuda::conv2d_forward_gemm(s, x.data(), w.data(), {}, y.data(), ws.data(), need - 1,
                                          nullptr);
              }),
              HasSubstr("conv2d_forward_gemm: expected a workspace of at least " +
                        std::to_string(need) + " floats, got " + std::to_string(need - 1)));
  ConvEpilogue e;
  e.prelu = slopes.data();
  EXPECT_THAT(error_of([&] {
                cuda::conv2d_forward_gemm(s, x.data(), w.data(), e, y.data(), ws.data(), need,
                                          nullptr);
              }),
              HasSubstr("conv2d_forward_gemm: the im2col + GEMM convolution has no PReLU"));
}

}  // namespace
}  // namespace ge::kernels::testing
