// CPU convolution launchers (conv2d, conv_transpose2d, conv2d weight gradient) against direct
// double-precision loops over the convolution's definition, with every epilogue activation,
// on each CPU instruction set, and check_conv_shape's errors.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "cpu/cpu_isa.h"
#include "ganengine/kernels/conv.h"
#include "ganengine/kernels/copy.h"
#include "ganengine/kernels/im2col.h"
#include "conv_reference.h"
#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

constexpr BiasActFn kFns[] = {BiasActFn::Linear, BiasActFn::Relu, BiasActFn::LeakyRelu,
                              BiasActFn::Tanh, BiasActFn::Sigmoid};

// A conv2d geometry from the input side; out_h/out_w follow, plus output_padding extra rows
// and columns on the input side (conv_transpose2d's output padding).
ConvShape make_shape(int64_t n, int64_t in_c, int64_t h, int64_t w, int64_t out_c, int64_t k,
                     int64_t stride, int64_t pad, int64_t groups, int64_t output_padding = 0) {
  ConvShape s = conv_shape(n, in_c, h, w, out_c, k, stride, pad, groups);
  // The smallest input that gives this output size, then the extra.
  s.in_h = (s.out_h - 1) * stride - 2 * pad + k + output_padding;
  s.in_w = (s.out_w - 1) * stride - 2 * pad + k + output_padding;
  return s;
}

struct Data {
  std::vector<float> x, y, w, bias_out, bias_in;
};

Data make_data(const ConvShape& s) {
  Data d;
  d.x = lcg(s.batch * s.in_c * s.in_h * s.in_w, 1);
  d.y = lcg(s.batch * s.out_c * s.out_h * s.out_w, 2);
  d.w = lcg(s.out_c * (s.in_c / s.groups) * s.kh * s.kw, 3, -0.5f, 0.5f);
  d.bias_out = lcg(s.out_c, 4);
  d.bias_in = lcg(s.in_c, 5);
  return d;
}

// Tolerances scale with the depth of the sums (float accumulation against double).
double atol_for(int64_t depth) {
  return 2e-6 * std::sqrt(static_cast<double>(depth)) + 1e-6;
}

// conv2d (x -> y) or conv_transpose2d (y -> x) with the epilogue e.
void check_conv(bool transposed, const ConvShape& s, const Data& d, const ConvEpilogue& e) {
  const std::vector<float>& in = transposed ? d.y : d.x;
  std::vector<float> out((transposed ? d.x : d.y).size(), std::numeric_limits<float>::quiet_NaN());
  std::vector<float> ws(static_cast<size_t>(cpu::conv_workspace_floats(s)));
  if (transposed)
    cpu::conv_transpose2d_forward(s, in.data(), d.w.data(), e, out.data(), ws.data());
  else
    cpu::conv2d_forward(s, in.data(), d.w.data(), e, out.data(), ws.data());
  const int64_t depth = (transposed ? s.out_c : s.in_c) / s.groups * s.kh * s.kw;
  EXPECT_TRUE(close(out, conv_ref(transposed, s, in, d.w, e.bias, e.act),
                    atol_for(depth) * std::fabs(e.act.gain), 1e-5))
      << (transposed ? "conv_transpose2d, " : "conv2d, ") << name(e.act.act);
}

void check_forward(const ConvShape& s, const Data& d, const ConvEpilogue& e) {
  check_conv(false, s, d, e);
}

void check_transpose(const ConvShape& s, const Data& d, const ConvEpilogue& e) {
  check_conv(true, s, d, e);
}

void check_weight(const ConvShape& s, const Data& d) {
  std::vector<float> dw(d.w.size(), std::numeric_limits<float>::quiet_NaN());
  std::vector<float> ws(static_cast<size_t>(cpu::conv_workspace_floats(s)));
  cpu::conv2d_weight(s, d.x.data(), d.y.data(), dw.data(), ws.data());
  EXPECT_TRUE(
      close(dw, conv2d_weight_ref(s, d.x, d.y), atol_for(s.batch * s.out_h * s.out_w), 1e-5))
      << "conv2d_weight";
}

// Every launcher and, for the two with an epilogue, every activation with and without bias.
void check_all(const ConvShape& s) {
  SCOPED_TRACE(describe(s));
  ASSERT_NO_THROW(check_conv_shape(s, "test"));
  const Data d = make_data(s);
  for (BiasActFn f : kFns) {
    for (bool with_bias : {false, true}) {
      ConvEpilogue e;
      e.act.act = f;
      e.act.alpha = 0.3f;
      e.act.gain = f == BiasActFn::Linear ? 1.f : 1.7f;
      check_forward(s, d, {with_bias ? d.bias_out.data() : nullptr, e.act});
      check_transpose(s, d, {with_bias ? d.bias_in.data() : nullptr, e.act});
    }
  }
  ConvEpilogue clamped;
  clamped.act.act = BiasActFn::LeakyRelu;
  clamped.act.gain = -1.4f;
  clamped.act.clamp = 0.6f;
  check_forward(s, d, {d.bias_out.data(), clamped.act});
  check_transpose(s, d, {d.bias_in.data(), clamped.act});
  check_weight(s, d);
}

// Every launcher on every instruction set of this CPU: depth 288 crosses the GEMM's 256-deep
// blocks, 20 output channels cut its register tiles short.
TEST(ConvCpuKernelTest, EveryInstructionSetMatchesReference) {
  on_each_cpu_isa([](cpu::CpuIsa) {
    check_all(make_shape(3, 32, 9, 11, 20, 3, 1, 1, 1));
    check_all(make_shape(2, 8, 14, 14, 36, 4, 2, 1, 2));
  });
}

TEST(ConvCpuKernelTest, OddSizes) {
  check_all(make_shape(3, 5, 9, 7, 6, 3, 1, 1, 1));
}

TEST(ConvCpuKernelTest, BatchOneKernel5Stride2) {
  check_all(make_shape(1, 3, 11, 13, 4, 5, 2, 2, 1));
}

TEST(ConvCpuKernelTest, Stride2WithOutputPadding) {
  // The input side is one row and column larger than the output size inverts to.
  const ConvShape s = make_shape(2, 6, 8, 10, 5, 4, 2, 1, 1, 1);
  ASSERT_EQ(s.in_h, 9);
  ASSERT_EQ(s.out_h, 4);
  check_all(s);
  check_all(make_shape(2, 3, 9, 9, 4, 3, 3, 0, 1, 2));
}

TEST(ConvCpuKernelTest, Groups2) {
  check_all(make_shape(2, 4, 6, 7, 6, 3, 1, 0, 2));
}

TEST(ConvCpuKernelTest, Groups4Kernel1) {
  check_all(make_shape(3, 8, 5, 5, 4, 1, 1, 0, 4));
  check_all(make_shape(2, 4, 7, 7, 8, 1, 2, 0, 4));  // 1x1 stride 2 skips pixels
}

TEST(ConvCpuKernelTest, Kernel4Stride2Pad1) {
  check_all(make_shape(4, 16, 8, 8, 32, 4, 2, 1, 1));
  check_all(make_shape(2, 6, 6, 6, 4, 3, 1, 2, 2));  // padding beyond half the kernel
}

TEST(ConvCpuKernelTest, TransposeByPhasesMatchesReference) {
  // 16 or more input channels a group: with AVX-512 the transposed convolution runs one GEMM per
  // stride phase. Phases with no tap (stride above the kernel), uneven phases (odd sizes, output
  // padding), padding beyond the kernel, groups, stride 1 and 3.
  check_all(make_shape(2, 16, 9, 11, 5, 4, 2, 1, 1));
  check_all(make_shape(2, 17, 8, 8, 6, 3, 2, 1, 1, 1));
  check_all(make_shape(3, 32, 7, 9, 8, 3, 3, 1, 2, 2));
  check_all(make_shape(1, 16, 9, 9, 4, 2, 3, 0, 1));
  check_all(make_shape(2, 20, 6, 6, 4, 3, 1, 2, 1));
  check_all(make_shape(2, 16, 5, 7, 3, 1, 2, 0, 1, 1));
  // Stride 1 with one sample a chunk (289 positions): the product written in place.
  check_all(make_shape(2, 16, 17, 17, 4, 3, 1, 1, 1));
  check_all(make_shape(2, 32, 17, 16, 4, 3, 1, 1, 2));
}

TEST(ConvCpuKernelTest, ThreadedChunksMatchReference) {
  // Large enough to split over threads, with several samples per chunk (7x7 outputs) and an
  // odd batch that does not divide evenly; the DCGAN discriminator/generator geometry.
  const ConvShape s = make_shape(9, 64, 14, 14, 128, 4, 2, 1, 1);
  SCOPED_TRACE(describe(s));
  const Data d = make_data(s);
  ConvEpilogue e;
  e.act.act = BiasActFn::LeakyRelu;
  check_forward(s, d, {d.bias_out.data(), e.act});
  check_transpose(s, d, {d.bias_in.data(), e.act});
  check_weight(s, d);
  // Large spatial size: one sample per chunk; and groups with threads.
  const ConvShape big = make_shape(5, 8, 30, 30, 16, 3, 1, 1, 2);
  SCOPED_TRACE(describe(big));
  const Data db = make_data(big);
  check_forward(big, db, {db.bias_out.data(), e.act});
  check_transpose(big, db, {nullptr, e.act});
  check_weight(big, db);
}

TEST(ConvCpuKernelTest, LargeIm2colCol2imAndCopy) {
  // Sizes past the point where the data-movement launchers split over threads.
  Im2colArgs a;
  a.batch = 3, a.channels = 16, a.height = 21, a.width = 19;
  a.kernel_h = a.kernel_w = 3;
  a.stride_h = 2, a.stride_w = 1;
  a.pad_h = a.pad_w = 1;
  a.col_h = (21 + 2 - 3) / 2 + 1, a.col_w = 19;
  const int64_t rows = a.channels * 9, l = a.col_h * a.col_w, plane = a.height * a.width;
  const std::vector<float> im = lcg(a.batch * a.channels * plane, 6);
  const std::vector<float> col = lcg(a.batch * rows * l, 7);
  const std::vector<float> bias = lcg(a.channels, 8);
  std::vector<double> col_ref(col.size(), 0.0), im_ref(im.size(), 0.0);
  for (int64_t n = 0; n < a.batch; ++n)
    for (int64_t c = 0; c < a.channels; ++c) {
      for (int64_t i = 0; i < plane; ++i)
        im_ref[static_cast<size_t>((n * a.channels + c) * plane + i)] =
            bias[static_cast<size_t>(c)];
      for (int64_t r = c * 9; r < c * 9 + 9; ++r)
        for (int64_t oy = 0; oy < a.col_h; ++oy)
          for (int64_t ox = 0; ox < a.col_w; ++ox) {
            const int64_t y = oy * 2 - 1 + r % 9 / 3, x = ox - 1 + r % 3;
            if (y < 0 || y >= a.height || x < 0 || x >= a.width) continue;
            const size_t ci = static_cast<size_t>((n * rows + r) * l + oy * a.col_w + ox);
            const size_t ii =
                static_cast<size_t>(((n * a.channels + c) * a.height + y) * a.width + x);
            col_ref[ci] = im[ii];
            im_ref[ii] += col[ci];
          }
    }
  std::vector<float> got_col(col.size(), NAN), got_im(im.size(), NAN);
  cpu::im2col(a, im.data(), got_col.data());
  EXPECT_TRUE(close(got_col, col_ref, 0, 0)) << "im2col";
  cpu::col2im(a, col.data(), bias.data(), got_im.data());
  EXPECT_TRUE(close(got_im, im_ref, 1e-5, 1e-6)) << "col2im";

  const std::vector<float> big = lcg(int64_t{1} << 19, 9);
  StridedShape flat;
  flat.ndim = 1;
  flat.shape[0] = static_cast<int64_t>(big.size());
  Strides unit;
  unit.v[0] = 1;
  std::vector<float> copied(big.size(), NAN);
  cpu::strided_copy(big.data(), unit, copied.data(), unit, flat);
  EXPECT_EQ(copied, big) << "dense strided_copy";
}

TEST(ConvCpuKernelTest, EmptyBatch) {
  ConvShape s = make_shape(0, 2, 5, 5, 3, 3, 1, 1, 1);
  std::vector<float> dw(2 * 3 * 9, 7.f);
  EXPECT_EQ(cpu::conv_workspace_floats(s), 0);
  EXPECT_NO_THROW(cpu::conv2d_forward(s, nullptr, nullptr, {}, nullptr, nullptr));
  EXPECT_NO_THROW(cpu::conv_transpose2d_forward(s, nullptr, nullptr, {}, nullptr, nullptr));
  cpu::conv2d_weight(s, nullptr, nullptr, dw.data(), nullptr);
  EXPECT_THAT(dw, ::testing::Each(0.f));
}

TEST(ConvCpuKernelTest, CheckConvShapeErrors) {
  const ConvShape good = make_shape(2, 4, 8, 8, 6, 3, 2, 1, 2);
  EXPECT_NO_THROW(check_conv_shape(good, "conv2d"));
  auto err = [](ConvShape s) { return error_of([&] { check_conv_shape(s, "conv2d"); }); };
  ConvShape s = good;
  s.out_h = 5;
  EXPECT_THAT(err(s), HasSubstr("conv2d: expected output size 4x4"));
  EXPECT_THAT(err(s), HasSubstr("got 5x4"));
  s = good;
  s.in_h = 10;  // more than stride - 1 past the inverted size (7)
  EXPECT_THAT(err(s), HasSubstr("expected output size 5x4"));
  s = good;
  s.groups = 3;
  EXPECT_THAT(err(s), HasSubstr("conv2d: expected groups >= 1 dividing in_c 4 and out_c 6, got 3"));
  s = good;
  s.stride_w = 0;
  EXPECT_THAT(err(s), HasSubstr("expected a positive stride, got 2x0"));
  s = good;
  s.pad_h = -1;
  EXPECT_THAT(err(s), HasSubstr("expected non-negative padding, got -1x1"));
  s = good;
  s.kh = 0;
  EXPECT_THAT(err(s), HasSubstr("expected a positive kernel size, got 0x3"));
  s = good;
  s.kh = s.kw = 11;
  EXPECT_THAT(err(s), HasSubstr("expected the padded image 9x9 to be at least the kernel 11x11"));
  s = good;
  s.in_c = 0;
  EXPECT_THAT(err(s), HasSubstr("expected at least one channel, got in_c 0, out_c 6"));
  s = good;
  s.batch = -1;
  EXPECT_THAT(err(s), HasSubstr("expected batch >= 0, got -1"));
  s = good;
  s.in_w = 0;
  EXPECT_THAT(err(s), HasSubstr("expected a non-empty image, got 7x0"));
  // The launchers check under their own names.
  s = good;
  s.out_w = 1;
  std::vector<float> buf(1024);
  EXPECT_THAT(error_of([&] {
                cpu::conv_transpose2d_forward(s, buf.data(), buf.data(), {}, buf.data(),
                                              buf.data());
              }),
              HasSubstr("conv_transpose2d: expected output size"));
  EXPECT_THAT(
      error_of([&] { cpu::conv2d_weight(s, buf.data(), buf.data(), buf.data(), buf.data()); }),
      HasSubstr("conv2d_weight: expected output size"));
  EXPECT_THAT(
      error_of([&] { cpu::conv2d_forward(good, buf.data(), buf.data(), {}, buf.data(), nullptr); }),
      HasSubstr("conv2d: expected non-null"));
}

}  // namespace
}  // namespace ge::kernels::testing
