// gradient_penalty launchers on cpu and cuda against references in double: the interpolation,
// the per-sample norms and penalty (short samples, long samples, a zero sample), and the
// backward, on aligned and misaligned buffers (float4 and scalar paths).
#include "ganengine/kernels/gradient_penalty.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

struct Case {
  int64_t n, d;
  int64_t shift;  // of every per-element buffer: 1 forces the scalar paths
};

std::string describe(const Case& c) {
  return "[" + std::to_string(c.n) + ", " + std::to_string(c.d) + "] shift " +
         std::to_string(c.shift);
}

class GradientPenaltyKernelTest : public KernelTest {
 protected:
  void interpolate(const float* r, const float* f, const float* a, float* out, int64_t n,
                   int64_t d) {
    if (cuda()) {
      cuda::gradient_penalty_interpolate(r, f, a, out, n, d, nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::gradient_penalty_interpolate(r, f, a, out, n, d);
    }
  }
  void forward(const float* x, float* norms, float* out, int64_t n, int64_t d, float lambda) {
    if (cuda()) {
      const int64_t need = cuda::gradient_penalty_workspace(n, d);
      Buffer workspace(GetParam(), std::max<int64_t>(need, 1));
      cuda::gradient_penalty_forward(x, norms, out, n, d, lambda, workspace.data(), need, nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::gradient_penalty_forward(x, norms, out, n, d, lambda);
    }
  }
  void backward(const float* x, const float* norms, const float* gout, float* dx, int64_t n,
                int64_t d, float lambda) {
    if (cuda()) {
      cuda::gradient_penalty_backward(x, norms, gout, dx, n, d, lambda, nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::gradient_penalty_backward(x, norms, gout, dx, n, d, lambda);
    }
  }

  void check(const Case& c, bool zero_sample = false) {
    SCOPED_TRACE(describe(c) + (zero_sample ? " with a zero sample" : ""));
    const Dev dev = GetParam();
    const int64_t total = c.n * c.d;
    const float lambda = 7.5f, gout = 0.6f;
    const std::vector<float> real = lcg(total, 31), fake = lcg(total, 32, -3.f, 3.f);
    const std::vector<float> alpha = lcg(c.n, 33, 0.f, 1.f);
    std::vector<float> x = lcg(total, 34, -0.2f, 0.2f);
    if (zero_sample)
      for (int64_t i = 0; i < c.d; ++i)
        x[c.d + i] = 0.f;  // sample 1

    std::vector<double> interp_ref(static_cast<size_t>(total)), norms_ref(c.n),
        dx_ref(static_cast<size_t>(total));
    double penalty_ref = 0.0;
    for (int64_t k = 0; k < c.n; ++k) {
      double ss = 0.0;
      for (int64_t i = k * c.d; i < (k + 1) * c.d; ++i) {
        interp_ref[i] = real[i] + static_cast<double>(alpha[k]) * (fake[i] - real[i]);
        ss += static_cast<double>(x[i]) * x[i];
      }
      const double r = std::sqrt(ss);
      norms_ref[k] = r;
      penalty_ref += (r - 1.0) * (r - 1.0);
      for (int64_t i = k * c.d; i < (k + 1) * c.d; ++i)
        dx_ref[i] = r > 0 ? gout * lambda * 2.0 / c.n * (r - 1.0) / r * x[i] : 0.0;
    }
    penalty_ref *= lambda / static_cast<double>(c.n);

    Buffer rb(dev, real, c.shift), fb(dev, fake, c.shift), ab(dev, alpha),
        out(dev, total + c.shift);
    interpolate(rb.data(c.shift), fb.data(c.shift), ab.data(), out.data(c.shift), c.n, c.d);
    EXPECT_TRUE(close(out.download(total, c.shift), interp_ref, 1e-6, 1e-6)) << "interpolate";

    Buffer xb(dev, x, c.shift), norms(dev, c.n), pen(dev, 1), gb(dev, std::vector<float>{gout}),
        dx(dev, total + c.shift);
    forward(xb.data(c.shift), norms.data(), pen.data(), c.n, c.d, lambda);
    EXPECT_TRUE(close(norms.download(c.n), norms_ref, 1e-6, 1e-5)) << "norms";
    EXPECT_TRUE(close(pen.download(1), {penalty_ref}, 1e-6, 1e-5)) << "penalty";
    backward(xb.data(c.shift), norms.data(), gb.data(), dx.data(c.shift), c.n, c.d, lambda);
    EXPECT_TRUE(close(dx.download(total, c.shift), dx_ref, 1e-6, 1e-5)) << "backward";
  }
};

TEST_P(GradientPenaltyKernelTest, MatchesReference) {
  const Case cases[] = {
      {1, 1, 0},    {4, 8, 0}, {3, 7, 0},  // tiny; d % 4 == 0 takes the float4 paths
      {5, 12, 1},                          // misaligned: scalar paths
      {6, 256, 0},                         // the longest warp-per-sample rows
      {3, 784, 0},                         // MNIST-sized: a block per sample
      {2, 1001, 1},                        // block per sample, scalar, odd length
      {300, 2, 0},                         // many short samples (2-D toy data)
  };
  for (const Case& c : cases)
    check(c);
}

TEST_P(GradientPenaltyKernelTest, ZeroSampleTakesSubgradientZero) {
  check({3, 16, 0}, true);
  check({3, 400, 0}, true);
}

// More samples than the capped grids have blocks: each block and warp loops over samples.
// Few long samples: on CUDA each is cut into slices whose sums the penalty block adds.
TEST_P(GradientPenaltyKernelTest, LongSamplesSplitAcrossBlocks) {
  const Case cases[] = {
      {2, 12288, 0},  // 64x64 RGB critic inputs: 3 float4 slices
      {3, 8195, 1},   // scalar, odd length: 2 slices, the last shorter
      {1, 40000, 0},  // 9 slices
  };
  for (const Case& c : cases) {
    if (cuda()) {
      EXPECT_GT(cuda::gradient_penalty_splits(c.n, c.d), 1) << describe(c);
    }
    check(c);
  }
  check({2, 12288, 0}, true);
}

TEST_P(GradientPenaltyKernelTest, ManySamples) {
  check({40000, 1, 0});
  check({4300, 260, 0});
}

TEST_P(GradientPenaltyKernelTest, EmptySamplesHaveZeroNorm) {
  const Dev dev = GetParam();
  Buffer norms(dev, 2), pen(dev, 1);
  forward(nullptr, norms.data(), pen.data(), 2, 0, 3.f);
  EXPECT_TRUE(close(norms.download(2), {0.0, 0.0}));
  EXPECT_TRUE(close(pen.download(1), {3.0}));
  EXPECT_NO_THROW(interpolate(nullptr, nullptr, nullptr, nullptr, 0, 5));
}

TEST_P(GradientPenaltyKernelTest, RejectsBadArguments) {
  const Dev dev = GetParam();
  Buffer x(dev, 8), norms(dev, 2), pen(dev, 1);
  EXPECT_THAT(error_of([&] { forward(x.data(), norms.data(), pen.data(), 0, 4, 1.f); }),
              HasSubstr("gradient_penalty_forward: expected n >= 1 and d >= 0, got 0, 4"));
  EXPECT_THAT(error_of([&] { forward(nullptr, norms.data(), pen.data(), 2, 4, 1.f); }),
              HasSubstr("gradient_penalty_forward: expected non-null x and norms for [2, 4]"));
  EXPECT_THAT(error_of([&] { forward(x.data(), norms.data(), nullptr, 2, 4, 1.f); }),
              HasSubstr("gradient_penalty_forward: expected a non-null out"));
  EXPECT_THAT(error_of([&] { backward(x.data(), norms.data(), nullptr, x.data(), 2, 4, 1.f); }),
              HasSubstr("gradient_penalty_backward: expected non-null gout and dx"));
  EXPECT_THAT(error_of([&] { interpolate(x.data(), nullptr, norms.data(), x.data(), 2, 4); }),
              HasSubstr("gradient_penalty_interpolate: expected non-null real, fake, alpha and out "
                        "for [2, 4]"));
  EXPECT_THAT(error_of([&] { interpolate(x.data(), x.data(), x.data(), x.data(), -1, 4); }),
              HasSubstr("gradient_penalty_interpolate: expected n, d >= 0, got -1, 4"));
  if (cuda()) {
    // A split shape without its workspace (x is never read: the check comes first).
    ASSERT_GT(cuda::gradient_penalty_workspace(2, 12288), 0);
    EXPECT_THAT(error_of([&] {
                  cuda::gradient_penalty_forward(x.data(), norms.data(), pen.data(), 2, 12288, 1.f,
                                                 nullptr, 0, nullptr);
                }),
                HasSubstr("gradient_penalty_forward: expected a workspace of at least " +
                          std::to_string(cuda::gradient_penalty_workspace(2, 12288)) +
                          " floats for [2, 12288], got 0 (null)"));
  }
}

GE_INSTANTIATE_KERNEL_TEST(GradientPenaltyKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
