// im2col / col2im launchers on cpu and cuda against naive host loops: im2col by its gather
// definition, col2im by the scatter definition (each column entry added to the pixel it came
// from), so the kernels' gather formulation is checked against an independent one.
#include "ganengine/kernels/im2col.h"

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

Im2colArgs make_args(int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t s,
                     int64_t p, int64_t d = 1, bool batch_inner = false) {
  Im2colArgs a;
  a.batch = n, a.channels = c, a.height = h, a.width = w;
  a.kernel_h = kh, a.kernel_w = kw;
  a.stride_h = s, a.stride_w = s;
  a.pad_h = p, a.pad_w = p;
  a.dilation_h = d, a.dilation_w = d;
  a.col_h = out_size(h, kh, s, p, d);
  a.col_w = out_size(w, kw, s, p, d);
  if (batch_inner) {
    a.col_sample_stride = a.col_h * a.col_w;
    a.col_row_stride = n * a.col_h * a.col_w;
  }
  return a;
}

int64_t sample_stride(const Im2colArgs& a) {
  return a.col_sample_stride ? a.col_sample_stride
                             : a.channels * a.kernel_h * a.kernel_w * a.col_h * a.col_w;
}
int64_t row_stride(const Im2colArgs& a) {
  return a.col_row_stride ? a.col_row_stride : a.col_h * a.col_w;
}
int64_t col_len(const Im2colArgs& a) {
  return a.batch * a.channels * a.kernel_h * a.kernel_w * a.col_h * a.col_w;
}

// Calls f(col_offset, image_offset or -1 for padding) for every column element.
template <typename F>
void for_each_column(const Im2colArgs& a, F&& f) {
  for (int64_t n = 0; n < a.batch; ++n)
    for (int64_t c = 0; c < a.channels; ++c)
      for (int64_t ki = 0; ki < a.kernel_h; ++ki)
        for (int64_t kj = 0; kj < a.kernel_w; ++kj)
          for (int64_t oy = 0; oy < a.col_h; ++oy)
            for (int64_t ox = 0; ox < a.col_w; ++ox) {
              const int64_t y = oy * a.stride_h - a.pad_h + ki * a.dilation_h;
              const int64_t x = ox * a.stride_w - a.pad_w + kj * a.dilation_w;
              const int64_t r = (c * a.kernel_h + ki) * a.kernel_w + kj;
              const int64_t co = n * sample_stride(a) + r * row_stride(a) + oy * a.col_w + ox;
              const bool inside = y >= 0 && y < a.height && x >= 0 && x < a.width;
              f(co, inside ? ((n * a.channels + c) * a.height + y) * a.width + x : -1);
            }
}

class Im2colTest : public KernelTest {
 protected:
  void check_im2col(const Im2colArgs& a) {
    const int64_t im_len = a.batch * a.channels * a.height * a.width;
    const std::vector<float> im = lcg(im_len, 5);
    std::vector<double> want(static_cast<size_t>(col_len(a)));
    for_each_column(a, [&](int64_t co, int64_t io) { want[co] = io < 0 ? 0.0 : im[io]; });
    Buffer ib(GetParam(), im), cb(GetParam(), lcg(col_len(a), 6));  // garbage in col
    if (cuda()) {
      cuda::im2col(a, ib.data(), cb.data(), nullptr);
    } else {
      cpu::im2col(a, ib.data(), cb.data());
    }
    EXPECT_TRUE(close(cb.download(col_len(a)), want, 0, 0));
  }

  void check_col2im(const Im2colArgs& a, bool with_bias) {
    const int64_t im_len = a.batch * a.channels * a.height * a.width;
    const std::vector<float> col = lcg(col_len(a), 7);
    const std::vector<float> bias = lcg(a.channels, 8);
    std::vector<double> want(static_cast<size_t>(im_len), 0.0);
    for (int64_t i = 0; i < im_len; ++i)
      if (with_bias) want[i] = bias[i / (a.height * a.width) % a.channels];
    for_each_column(a, [&](int64_t co, int64_t io) {
      if (io >= 0) want[io] += col[co];
    });
    Buffer cb(GetParam(), col), bb(GetParam(), bias), ib(GetParam(), lcg(im_len, 9));
    const float* bp = with_bias ? bb.data() : nullptr;
    if (cuda()) {
      cuda::col2im(a, cb.data(), bp, ib.data(), nullptr);
    } else {
      cpu::col2im(a, cb.data(), bp, ib.data());
    }
    // At most kh*kw float terms per pixel, each in [-1, 1].
    EXPECT_TRUE(close(ib.download(im_len), want, 1e-5, 1e-5));
  }

  void check_both(const Im2colArgs& a) {
    SCOPED_TRACE(::testing::Message()
                 << "n " << a.batch << " c " << a.channels << " " << a.height << "x" << a.width
                 << " k " << a.kernel_h << "x" << a.kernel_w << " s " << a.stride_h << " p "
                 << a.pad_h << " d " << a.dilation_h << " rows " << a.col_row_stride);
    check_im2col(a);
    check_col2im(a, false);
    check_col2im(a, true);
  }
};

TEST_P(Im2colTest, ThreeByThreeSamePadding) {
  check_both(make_args(2, 3, 5, 5, 3, 3, 1, 1));
}

TEST_P(Im2colTest, DcganStrideTwo) {
  check_both(make_args(1, 2, 14, 14, 4, 4, 2, 1));
  check_both(make_args(3, 2, 7, 7, 4, 4, 2, 1));
}

TEST_P(Im2colTest, OddAndNonSquare) {
  check_both(make_args(1, 2, 5, 9, 5, 3, 1, 0));
  check_both(make_args(2, 1, 7, 4, 3, 2, 3, 2));  // stride larger than the kernel: gaps
  Im2colArgs a = make_args(1, 2, 6, 5, 3, 3, 1, 1);
  a.stride_w = 2;
  a.pad_w = 0;
  a.col_w = out_size(5, 3, 2, 0, 1);
  check_both(a);
}

TEST_P(Im2colTest, Dilation) {
  check_both(make_args(1, 2, 7, 6, 3, 2, 1, 2, 2));
}

// Every size differs between the axes, so a divisor taken for the wrong axis shows.
TEST_P(Im2colTest, EverySizeDiffersBetweenTheAxes) {
  Im2colArgs a = make_args(2, 3, 9, 7, 3, 2, 1, 0);
  a.stride_h = 2, a.stride_w = 3;
  a.pad_h = 1, a.pad_w = 2;
  a.dilation_h = 1, a.dilation_w = 2;
  a.col_h = out_size(a.height, a.kernel_h, a.stride_h, a.pad_h, a.dilation_h);
  a.col_w = out_size(a.width, a.kernel_w, a.stride_w, a.pad_w, a.dilation_w);
  check_both(a);
}

TEST_P(Im2colTest, BatchInnerColumnLayout) {
  check_both(make_args(3, 2, 6, 5, 3, 3, 2, 1, 1, true));
}

TEST_P(Im2colTest, EmptyColumnsStillDefineTheImage) {
  Im2colArgs a = make_args(1, 2, 3, 3, 3, 3, 1, 1);
  a.col_h = 0;
  const std::vector<float> bias{0.5f, -2.f};
  Buffer bb(GetParam(), bias), ib(GetParam(), lcg(18, 3)), cb(GetParam(), 1);
  if (cuda()) {
    cuda::col2im(a, cb.data(), bb.data(), ib.data(), nullptr);
  } else {
    cpu::col2im(a, cb.data(), bb.data(), ib.data());
  }
  std::vector<double> want(18, 0.5);
  for (size_t i = 9; i < 18; ++i)
    want[i] = -2.0;
  EXPECT_TRUE(close(ib.download(18), want, 0, 0));
}

TEST_P(Im2colTest, RejectsBadArguments) {
  Im2colArgs a = make_args(1, 1, 3, 3, 3, 3, 1, 1);
  a.stride_h = 0;
  Buffer b(GetParam(), 128);
  const auto run = [&] {
    if (cuda()) {
      cuda::im2col(a, b.data(), b.data(), nullptr);
    } else {
      cpu::im2col(a, b.data(), b.data());
    }
  };
  EXPECT_THAT(error_of(run), HasSubstr("im2col: expected positive kernel, stride"));
  a.stride_h = 1;
  a.pad_w = -1;
  EXPECT_THAT(error_of(run), HasSubstr("non-negative padding"));
}

GE_INSTANTIATE_KERNEL_TEST(Im2colTest);

}  // namespace
}  // namespace ge::kernels::testing
