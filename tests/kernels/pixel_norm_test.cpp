// pixel_norm launchers on cpu and cuda against double references, forward and backward, on each
// CUDA layout: rows (inner == 1) by a warp or, when long, a block; strided rows (inner > 1) with
// and without float4; misaligned buffers (scalar paths).
#include "ganengine/kernels/pixel_norm.h"

#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

struct Case {
  int64_t outer, r, inner;
  int64_t shift, x_shift;  // of dy and out, and of x: x_shift != shift breaks the vector paths
};

std::string describe(const Case& c) {
  return "[" + std::to_string(c.outer) + "," + std::to_string(c.r) + "," + std::to_string(c.inner) +
         "] shifts " + std::to_string(c.shift) + "/" + std::to_string(c.x_shift);
}

class PixelNormKernelTest : public KernelTest {
 protected:
  void check(const Case& k) {
    SCOPED_TRACE(describe(k));
    const Dev dev = GetParam();
    const PixelNormShape s{k.outer, k.r, k.inner};
    const int64_t n = s.numel();
    const float eps = 1e-4f;
    const std::vector<float> x = lcg(n, 31, -2.f, 2.f), dy = lcg(n, 32);
    std::vector<double> y(n), dx(n);
    for (int64_t o = 0; o < k.outer; ++o)
      for (int64_t i = 0; i < k.inner; ++i) {
        auto at = [&](int64_t j) { return static_cast<size_t>((o * k.r + j) * k.inner + i); };
        double sq = 0, gy = 0;
        for (int64_t j = 0; j < k.r; ++j)
          sq += static_cast<double>(x[at(j)]) * x[at(j)];
        const double rs = 1.0 / std::sqrt(sq / k.r + eps);
        for (int64_t j = 0; j < k.r; ++j) {
          y[at(j)] = x[at(j)] * rs;
          gy += dy[at(j)] * y[at(j)];
        }
        for (int64_t j = 0; j < k.r; ++j)
          dx[at(j)] = rs * (dy[at(j)] - y[at(j)] * gy / k.r);
      }
    Buffer xb(dev, x, k.x_shift), dyb(dev, dy, k.shift), out(dev, n + k.shift);
    if (cuda()) {
      cuda::pixel_norm_forward(xb.data(k.x_shift), out.data(k.shift), s, eps, nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::pixel_norm_forward(xb.data(k.x_shift), out.data(k.shift), s, eps);
    }
    EXPECT_TRUE(close(out.download(n, k.shift), y, 1e-6, 1e-5)) << "forward";
    if (cuda()) {
      cuda::pixel_norm_backward(dyb.data(k.shift), xb.data(k.x_shift), out.data(k.shift), s, eps,
                                nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::pixel_norm_backward(dyb.data(k.shift), xb.data(k.x_shift), out.data(k.shift), s, eps);
    }
    EXPECT_TRUE(close(out.download(n, k.shift), dx, 1e-5, 1e-4)) << "backward";
  }
};

TEST_P(PixelNormKernelTest, RowsMatchReference) {
  const Case cases[] = {
      {5, 512, 1, 0, 0},   // latents: a warp per row, float4
      {7, 37, 1, 0, 0},    // odd rows: scalar
      {3, 64, 1, 2, 2},    // misaligned together: scalar
      {2, 3000, 1, 0, 0},  // long rows: a block per row, float4
      {2, 3001, 1, 0, 0},  // long odd rows: a block per row, scalar
      {1, 1, 1, 0, 0},    {20, 8, 1, 0, 1},
  };
  for (const Case& c : cases)
    check(c);
}

TEST_P(PixelNormKernelTest, StridedRowsMatchReference) {
  const Case cases[] = {
      {2, 6, 16, 0, 0},                     // NCHW dim 1, float4
      {2, 5, 9, 0, 0},                      // odd HW: scalar
      {3, 13, 132, 0, 0},                   // several tiles, the last partial
      {2, 4, 8, 1, 1},                      // misaligned: scalar
      {1, 3, 2, 0, 0},    {2, 1, 4, 0, 0},  // a single channel
  };
  for (const Case& c : cases)
    check(c);
}

TEST_P(PixelNormKernelTest, EmptyIsANoOp) {
  if (cuda()) {
    EXPECT_NO_THROW(cuda::pixel_norm_forward(nullptr, nullptr, {0, 4, 4}, 1e-8f, nullptr));
  } else {
    EXPECT_NO_THROW(cpu::pixel_norm_forward(nullptr, nullptr, {3, 0, 4}, 1e-8f));
  }
}

TEST_P(PixelNormKernelTest, RejectsBadArguments) {
  Buffer x(GetParam(), 8);
  auto forward = [&](const PixelNormShape& s, float eps, float* out) {
    if (cuda()) {
      cuda::pixel_norm_forward(x.data(), out, s, eps, nullptr);
    } else {
      cpu::pixel_norm_forward(x.data(), out, s, eps);
    }
  };
  EXPECT_THAT(error_of([&] {
                forward({2, 4, 1}, -1.f, x.data());
              }),
              HasSubstr("pixel_norm_forward: expected eps >= 0, got -1"));
  EXPECT_THAT(error_of([&] {
                forward({2, -4, 1}, 0.f, x.data());
              }),
              HasSubstr("pixel_norm_forward: expected non-negative sizes, got [2, -4, 1]"));
  EXPECT_THAT(error_of([&] {
                forward({2, 4, 1}, 0.f, nullptr);
              }),
              HasSubstr("expected non-null inputs and output for 8 elements"));
}

GE_INSTANTIATE_KERNEL_TEST(PixelNormKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
