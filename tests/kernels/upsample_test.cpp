// upsample launchers on cpu and cuda against double references: the forwards from PyTorch's
// index formulas, the backwards as the scatter-add adjoint of the forward (the kernels gather),
// nearest at scale 2 with and without the vector path, other scales, bilinear with
// align_corners both ways at odd sizes and on single-pixel axes.
#include "ganengine/kernels/upsample.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

enum class Kind { Nearest, Bilinear, BilinearAligned };

struct Case {
  int64_t planes, h, w, scale;
  int64_t shift;  // of every buffer: 1 breaks the vector path
};

std::string describe(Kind k, const Case& c) {
  const char* kind = k == Kind::Nearest ? "nearest" : k == Kind::Bilinear ? "bilinear" : "aligned";
  return std::string(kind) + " [" + std::to_string(c.planes) + "," + std::to_string(c.h) + "," +
         std::to_string(c.w) + "] x" + std::to_string(c.scale) + " shift " +
         std::to_string(c.shift);
}

// Taps of one output index along one axis: (index, weight) pairs.
std::vector<std::pair<int64_t, double>> taps(Kind k, int64_t dst, int64_t in, int64_t scale) {
  const int64_t out = in * scale;
  if (k == Kind::Nearest) return {{std::min(dst / scale, in - 1), 1.0}};
  double src = k == Kind::BilinearAligned
                   ? (out > 1 ? static_cast<double>(in - 1) / (out - 1) * dst : 0.0)
                   : std::max((dst + 0.5) / scale - 0.5, 0.0);
  const int64_t i0 = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
  const int64_t i1 = std::min(i0 + 1, in - 1);
  const double l1 = src - i0;
  return {{i0, 1.0 - l1}, {i1, l1}};
}

class UpsampleKernelTest : public KernelTest {
 protected:
  void check(Kind kind, const Case& c) {
    SCOPED_TRACE(describe(kind, c));
    const Dev dev = GetParam();
    const UpsampleShape s{c.planes, c.h, c.w, c.scale};
    const int64_t oh = s.out_h(), ow = s.out_w(), in_n = s.in_numel(), out_n = s.out_numel();
    const std::vector<float> x = lcg(in_n, 51), dy = lcg(out_n, 52);
    std::vector<double> y(out_n, 0.0), dx(in_n, 0.0);
    for (int64_t p = 0; p < c.planes; ++p)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          const size_t o = static_cast<size_t>((p * oh + i) * ow + j);
          for (const auto& [hi, hk] : taps(kind, i, c.h, c.scale))
            for (const auto& [wi, wk] : taps(kind, j, c.w, c.scale)) {
              const size_t at = static_cast<size_t>((p * c.h + hi) * c.w + wi);
              y[o] += hk * wk * x[at];
              dx[at] += hk * wk * dy[o];
            }
        }
    const bool align = kind == Kind::BilinearAligned;
    Buffer xb(dev, x, c.shift), dyb(dev, dy, c.shift), yb(dev, out_n + c.shift),
        dxb(dev, in_n + c.shift);
    if (cuda()) {
      if (kind == Kind::Nearest) {
        cuda::upsample_nearest2d(xb.data(c.shift), yb.data(c.shift), s, nullptr);
        cuda::upsample_nearest2d_backward(dyb.data(c.shift), dxb.data(c.shift), s, nullptr);
      } else {
        cuda::upsample_bilinear2d(xb.data(c.shift), yb.data(c.shift), s, align, nullptr);
        cuda::upsample_bilinear2d_backward(dyb.data(c.shift), dxb.data(c.shift), s, align, nullptr);
      }
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else if (kind == Kind::Nearest) {
      cpu::upsample_nearest2d(xb.data(c.shift), yb.data(c.shift), s);
      cpu::upsample_nearest2d_backward(dyb.data(c.shift), dxb.data(c.shift), s);
    } else {
      cpu::upsample_bilinear2d(xb.data(c.shift), yb.data(c.shift), s, align);
      cpu::upsample_bilinear2d_backward(dyb.data(c.shift), dxb.data(c.shift), s, align);
    }
    EXPECT_TRUE(close(yb.download(out_n, c.shift), y, 1e-6, 1e-5)) << "forward";
    EXPECT_TRUE(close(dxb.download(in_n, c.shift), dx, 1e-5, 1e-5)) << "backward";
  }
};

TEST_P(UpsampleKernelTest, NearestMatchesReference) {
  const Case cases[] = {
      {3, 4, 6, 2, 0},  // scale 2, even width: vector path
      {2, 4, 6, 2, 1},  // misaligned: generic path
      {2, 3, 5, 2, 0},  // odd width: generic path
      {2, 5, 4, 3, 0}, {1, 1, 1, 4, 0}, {2, 7, 3, 1, 0}, {1, 3, 2, 7, 0},
  };
  for (const Case& c : cases)
    check(Kind::Nearest, c);
}

TEST_P(UpsampleKernelTest, BilinearMatchesReference) {
  const Case cases[] = {
      {2, 4, 6, 2, 0}, {2, 5, 3, 3, 0}, {1, 7, 5, 2, 1}, {2, 1, 4, 2, 0}, {1, 3, 1, 4, 0},
      {1, 1, 1, 3, 0}, {2, 5, 7, 1, 0}, {1, 4, 3, 5, 0}, {1, 2, 3, 9, 0},  // more readers per input
                                                                           // than the CUDA gather
                                                                           // keeps: its fallback
  };
  for (const Case& c : cases) {
    check(Kind::Bilinear, c);
    check(Kind::BilinearAligned, c);
  }
}

TEST_P(UpsampleKernelTest, EmptyIsANoOp) {
  const UpsampleShape s{0, 4, 4, 2};
  if (cuda()) {
    EXPECT_NO_THROW(cuda::upsample_bilinear2d(nullptr, nullptr, s, false, nullptr));
  } else {
    EXPECT_NO_THROW(cpu::upsample_bilinear2d(nullptr, nullptr, s, false));
  }
}

TEST_P(UpsampleKernelTest, RejectsBadArguments) {
  Buffer x(GetParam(), 16), y(GetParam(), 64);
  auto run = [&](const UpsampleShape& s, float* out) {
    if (cuda()) {
      cuda::upsample_nearest2d(x.data(), out, s, nullptr);
    } else {
      cpu::upsample_nearest2d(x.data(), out, s);
    }
  };
  EXPECT_THAT(error_of([&] {
                run({1, 4, 4, 0}, y.data());
              }),
              HasSubstr("upsample_nearest2d: expected scale >= 1, got 0"));
  EXPECT_THAT(error_of([&] {
                run({1, -4, 4, 2}, y.data());
              }),
              HasSubstr("expected non-negative sizes, got [1, -4, 4]"));
  EXPECT_THAT(error_of([&] {
                run({1, 4, 4, 2}, nullptr);
              }),
              HasSubstr("expected non-null input and output for 16 input elements"));
}

GE_INSTANTIATE_KERNEL_TEST(UpsampleKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
