// spectral_norm launchers on cpu and cuda against a power iteration in double
// (support/spectral_norm_reference.h): training (1 and 3 iterations) and eval, matrix shapes that
// hit partial column tiles, rows that are not float4-sized, misaligned buffers, a separate weight
// layout for the scaled output, and the backward dw = g / sigma - (<g, W> / sigma^2) u v^T.
#include "ganengine/kernels/spectral_norm.h"

#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "support/spectral_norm_reference.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

// Floats of workspace for `dev` (at least 1, so the buffer exists): the CUDA launchers' size,
// asked only on CUDA, since the CPU launchers take none.
int64_t workspace_floats(Dev dev, int64_t (*size)(int64_t, int64_t), int64_t h, int64_t w) {
  return dev == Dev::Cuda ? std::max<int64_t>(size(h, w), 1) : 1;
}

std::vector<float> unit_vector(int64_t n, uint32_t seed) {
  return ::ge::testing::unit_length(lcg(n, seed));
}

std::vector<double> widened(const std::vector<float>& x) {
  return {x.begin(), x.end()};
}

// Only what every call needs: no copies of u and v, no scaled output.
SpectralNormArgs required_args(Buffer& mat, Buffer& u, Buffer& v, Buffer& sigma, Buffer& ws,
                               int64_t h, int64_t w) {
  return {.mat = mat.data(),
          .u = u.data(),
          .v = v.data(),
          .sigma = sigma.data(),
          .workspace = ws.data(),
          .h = h,
          .w = w};
}

struct Case {
  int64_t h, w;
  int iterations;
  int64_t shift;  // of W, the weight and the output: 1 forces the scalar paths
};

std::string describe(const Case& c) {
  return "[" + std::to_string(c.h) + ", " + std::to_string(c.w) + "] iterations " +
         std::to_string(c.iterations) + " shift " + std::to_string(c.shift);
}

class SpectralNormKernelTest : public KernelTest {
 protected:
  void run(const SpectralNormArgs& a) {
    launch([&] { cuda::spectral_norm(a, nullptr); }, [&] { cpu::spectral_norm(a); });
  }
  void run(const SpectralNormGradArgs& a) {
    launch([&] { cuda::spectral_norm_grad(a, nullptr); }, [&] { cpu::spectral_norm_grad(a); });
  }

  void check(const Case& c) {
    SCOPED_TRACE(describe(c));
    const Dev dev = GetParam();
    const int64_t n = c.h * c.w;
    const std::vector<float> mat = lcg(n, 21), weight = lcg(n, 22, -2.f, 2.f);
    const std::vector<float> u0 = unit_vector(c.h, 23), v0 = unit_vector(c.w, 24);
    const ::ge::testing::PowerIteration ref =
        ::ge::testing::power_iteration_ref(widened(mat), c.h, c.w, u0, v0, c.iterations, 1e-12);

    Buffer mb(dev, mat, c.shift), wb(dev, weight, c.shift), ub(dev, u0), vb(dev, v0);
    Buffer uc(dev, c.h), vc(dev, c.w), sigma(dev, 1), out(dev, n + c.shift);
    Buffer ws(dev, workspace_floats(dev, spectral_norm_workspace, c.h, c.w));
    const SpectralNormArgs a{.mat = mb.data(c.shift),
                             .weight = wb.data(c.shift),
                             .u = ub.data(),
                             .v = vb.data(),
                             .u_copy = uc.data(),
                             .v_copy = vc.data(),
                             .sigma = sigma.data(),
                             .out = out.data(c.shift),
                             .workspace = ws.data(),
                             .h = c.h,
                             .w = c.w,
                             .n_iterations = c.iterations};
    run(a);

    const double tol = 2e-5;
    EXPECT_TRUE(close(sigma.download(1), {ref.sigma}, tol, 1e-4)) << "sigma";
    EXPECT_TRUE(close(ub.download(c.h), ref.u, tol, 1e-4)) << "u";
    EXPECT_TRUE(close(vb.download(c.w), ref.v, tol, 1e-4)) << "v";
    EXPECT_TRUE(close(uc.download(c.h), ref.u, tol, 1e-4)) << "u copy";
    EXPECT_TRUE(close(vc.download(c.w), ref.v, tol, 1e-4)) << "v copy";
    std::vector<double> out_ref(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k)
      out_ref[k] = weight[k] / ref.sigma;
    EXPECT_TRUE(close(out.download(n, c.shift), out_ref, tol, 1e-4)) << "out";

    // Backward with the u, v, sigma the forward produced.
    const std::vector<float> g = lcg(n, 25);
    const std::vector<double> dw_ref = ::ge::testing::spectral_norm_grad_ref(
        widened(mat), widened(g), c.h, c.w, widened(uc.download(c.h)), widened(vc.download(c.w)),
        sigma.download(1)[0]);
    Buffer gb(dev, g, c.shift), dw(dev, n + c.shift);
    Buffer gws(dev, workspace_floats(dev, spectral_norm_grad_workspace, c.h, c.w));
    run(SpectralNormGradArgs{.grad = gb.data(c.shift),
                             .mat = a.mat,
                             .u = a.u_copy,
                             .v = a.v_copy,
                             .sigma = a.sigma,
                             .out = dw.data(c.shift),
                             .workspace = gws.data(),
                             .h = a.h,
                             .w = a.w});
    EXPECT_TRUE(close(dw.download(n, c.shift), dw_ref, tol, 1e-4)) << "backward";
  }
};

TEST_P(SpectralNormKernelTest, TrainingMatchesPowerIteration) {
  const Case cases[] = {
      {1, 1, 1, 0},    {3, 5, 1, 0}, {8, 12, 1, 0},  // tiny; w % 4 == 0 takes float4 rows
      {37, 70, 1, 0},                                // partial column tile, odd rows
      {16, 64, 3, 0},                                // several iterations
      {9, 40, 2, 1},                                 // misaligned: scalar paths
      {130, 36, 1, 0},                               // rows beyond one rows-pass block
      {5, 1100, 1, 0},                               // many column tiles, few rows
  };
  for (const Case& c : cases)
    check(c);
}

TEST_P(SpectralNormKernelTest, EvalUsesStoredVectors) {
  check({6, 20, 0, 0});
  check({11, 7, 0, 1});
}

// More rows and column tiles than the capped grids have blocks: the grid-stride loops and the
// sums over up to 1024 partials.
TEST_P(SpectralNormKernelTest, LargeMatrices) {
  check({4100, 3, 1, 0});
  check({2, 33000, 1, 0});
}

// eps bounds the normaliser: a zero weight gives zero vectors and sigma = 0.
TEST_P(SpectralNormKernelTest, ZeroWeightUsesEps) {
  const Dev dev = GetParam();
  const int64_t h = 4, w = 8;
  Buffer mb(dev, std::vector<float>(h * w, 0.f)), ub(dev, unit_vector(h, 1)),
      vb(dev, unit_vector(w, 2)), sigma(dev, 1),
      ws(dev, workspace_floats(dev, spectral_norm_workspace, h, w));
  run(required_args(mb, ub, vb, sigma, ws, h, w));
  EXPECT_TRUE(close(sigma.download(1), {0.0}));
  EXPECT_TRUE(close(ub.download(h), std::vector<double>(h, 0.0)));
  EXPECT_TRUE(close(vb.download(w), std::vector<double>(w, 0.0)));
}

TEST_P(SpectralNormKernelTest, RejectsBadArguments) {
  const Dev dev = GetParam();
  Buffer m(dev, 12), u(dev, 3), v(dev, 4), s(dev, 1),
      ws(dev, workspace_floats(dev, spectral_norm_workspace, 3, 4));
  SpectralNormArgs a = required_args(m, u, v, s, ws, 0, 4);
  EXPECT_THAT(error_of([&] { run(a); }),
              HasSubstr("spectral_norm: expected a non-empty matrix, got [0, 4]"));
  a.h = 3;
  a.n_iterations = -1;
  EXPECT_THAT(error_of([&] { run(a); }), HasSubstr("expected n_iterations >= 0, got -1"));
  a.n_iterations = 1;
  a.u = nullptr;
  EXPECT_THAT(error_of([&] { run(a); }), HasSubstr("expected non-null W, u, v and sigma"));
  a.u = u.data();
  a.out = m.data();
  EXPECT_THAT(error_of([&] { run(a); }), HasSubstr("expected the weight to scale into out"));
  a.out = nullptr;
  if (cuda()) {
    a.workspace = nullptr;
    EXPECT_THAT(error_of([&] { run(a); }),
                HasSubstr("expected a workspace of spectral_norm_workspace(3, 4)"));
  }
  SpectralNormGradArgs ga;
  ga.h = 3;
  ga.w = 4;
  EXPECT_THAT(error_of([&] { run(ga); }),
              HasSubstr("spectral_norm_grad: expected non-null g, W, u, v, sigma and out"));
}

GE_INSTANTIATE_KERNEL_TEST(SpectralNormKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
