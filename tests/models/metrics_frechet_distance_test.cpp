// The Frechet distance and its symmetric eigensolver against closed forms.
#include "ganengine/models/metrics/frechet_distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/ops.h"

namespace ge::models::metrics {
namespace {

using ge::testing::lcg_values;
using optest::throws_with;

Gaussian gaussian(const std::vector<double>& mean, const std::vector<double>& cov) {
  Gaussian g;
  g.dim = static_cast<int64_t>(mean.size());
  g.mean = mean;
  g.cov = cov;
  return g;
}

std::vector<double> identity(int64_t n) {
  std::vector<double> q(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    q[static_cast<size_t>(i * n + i)] = 1.0;
  return q;
}

// An orthogonal matrix: a product of plane rotations over every pair (i, j).
std::vector<double> rotation(int64_t n) {
  std::vector<double> q = identity(n);
  double angle = 0.3;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j, angle += 0.7) {
      const double c = std::cos(angle), s = std::sin(angle);
      for (int64_t k = 0; k < n; ++k) {
        const double x = q[static_cast<size_t>(k * n + i)], y = q[static_cast<size_t>(k * n + j)];
        q[static_cast<size_t>(k * n + i)] = c * x - s * y;
        q[static_cast<size_t>(k * n + j)] = s * x + c * y;
      }
    }
  return q;
}

// Q diag(d) Q^T.
std::vector<double> conjugate(const std::vector<double>& q, const std::vector<double>& d) {
  const int64_t n = static_cast<int64_t>(d.size());
  std::vector<double> out(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < n; ++k)
        out[static_cast<size_t>(i * n + j)] += q[static_cast<size_t>(i * n + k)] *
                                               d[static_cast<size_t>(k)] *
                                               q[static_cast<size_t>(j * n + k)];
  return out;
}

TEST(FrechetDistanceTest, OneDimensionalGaussians) {
  // (m1 - m2)^2 + (s1 - s2)^2.
  EXPECT_NEAR(frechet_distance(gaussian({1.0}, {4.0}), gaussian({-2.0}, {0.25})), 9.0 + 1.5 * 1.5,
              1e-12);
  // From samples: {0, 2} has mean 1 and variance 2 (divisor N - 1); {1, 1, 4, 4} mean 2.5,
  // variance 4 * 2.25 / 3 = 3.
  const double expected = 1.5 * 1.5 + std::pow(std::sqrt(2.0) - std::sqrt(3.0), 2);
  EXPECT_NEAR(
      frechet_distance(from_vector({0.f, 2.f}, {2, 1}), from_vector({1.f, 1.f, 4.f, 4.f}, {4, 1})),
      expected, 1e-12);
}

TEST(FrechetDistanceTest, FitGaussianMatchesHandComputation) {
  // Rows (1, 2), (3, 6), (5, 4): mean (3, 4), centred (-2, -2), (0, 2), (2, 0).
  const Gaussian g = fit_gaussian(from_vector({1.f, 2.f, 3.f, 6.f, 5.f, 4.f}, {3, 2}));
  EXPECT_EQ(g.dim, 2);
  EXPECT_EQ(g.mean, (std::vector<double>{3.0, 4.0}));
  EXPECT_EQ(g.cov, (std::vector<double>{4.0, 2.0, 2.0, 4.0}));
}

TEST(FrechetDistanceTest, DiagonalCovariances) {
  const std::vector<double> ma = {0.5, -1.0, 2.0}, mb = {0.0, 1.0, 2.5};
  const std::vector<double> va = {1.0, 4.0, 0.09}, vb = {9.0, 1.0, 0.16};
  double expected = 0;
  for (int i = 0; i < 3; ++i)
    expected += std::pow(ma[i] - mb[i], 2) + std::pow(std::sqrt(va[i]) - std::sqrt(vb[i]), 2);
  const auto diag = [](const std::vector<double>& v) {
    return std::vector<double>{v[0], 0, 0, 0, v[1], 0, 0, 0, v[2]};
  };
  EXPECT_NEAR(frechet_distance(gaussian(ma, diag(va)), gaussian(mb, diag(vb))), expected, 1e-12);
}

TEST(FrechetDistanceTest, RotatedCommutingCovariances) {
  // S_a and S_b share the eigenvectors Q, so the trace term is sum (sqrt(a_i) - sqrt(b_i))^2.
  const int64_t n = 6;
  const std::vector<double> q = rotation(n);
  const std::vector<double> a = {0.5, 1.0, 2.0, 3.0, 0.25, 7.0};
  const std::vector<double> b = {2.0, 1.0, 0.1, 5.0, 0.25, 1.0};
  double expected = 0;
  for (int64_t i = 0; i < n; ++i)
    expected +=
        std::pow(std::sqrt(a[static_cast<size_t>(i)]) - std::sqrt(b[static_cast<size_t>(i)]), 2);
  const std::vector<double> zero(static_cast<size_t>(n), 0.0);
  const double fd =
      frechet_distance(gaussian(zero, conjugate(q, a)), gaussian(zero, conjugate(q, b)));
  EXPECT_NEAR(fd, expected, 1e-10);
  EXPECT_GT(expected, 1.0);
}

TEST(FrechetDistanceTest, NonCommuting2x2ClosedForm) {
  // For 2x2 PSD M, tr sqrt(M) = sqrt(tr M + 2 sqrt(det M)); with M = S_a^1/2 S_b S_a^1/2,
  // tr M = tr(S_a S_b) and det M = det S_a det S_b.
  const std::vector<double> sa = {2.0, 0.5, 0.5, 1.0}, sb = {1.0, -0.3, -0.3, 3.0};
  const double tr_ab = sa[0] * sb[0] + sa[1] * sb[2] + sa[2] * sb[1] + sa[3] * sb[3];
  const double det_a = sa[0] * sa[3] - sa[1] * sa[2], det_b = sb[0] * sb[3] - sb[1] * sb[2];
  const double root = std::sqrt(tr_ab + 2 * std::sqrt(det_a * det_b));
  const double expected = 1.0 + 4.0 + (sa[0] + sa[3]) + (sb[0] + sb[3]) - 2 * root;
  EXPECT_NEAR(frechet_distance(gaussian({1.0, 2.0}, sa), gaussian({0.0, 0.0}, sb)), expected,
              1e-12);
}

TEST(FrechetDistanceTest, ShiftAndScaleOf128Features) {
  // 300 samples of 128 features: y = x + 0.5 shares x's covariance, so the distance is the mean
  // term 128 * 0.25; y = 2x has S_b = 4 S_a, so the trace term is tr S_a + 4 tr S_a - 4 tr S_a.
  const int64_t n = 300, f = 128;
  std::vector<float> x = lcg_values(n * f, 11, -1.f, 1.f);
  for (int64_t i = 0; i < n; ++i)  // correlated columns, so the covariance is not diagonal
    for (int64_t j = 1; j < f; ++j)
      x[static_cast<size_t>(i * f + j)] += 0.5f * x[static_cast<size_t>(i * f + j - 1)];
  std::vector<float> shifted = x, doubled = x;
  for (float& v : shifted)
    v += 0.5f;
  for (float& v : doubled)
    v *= 2.f;
  const Tensor tx = from_vector(x, {n, f});
  EXPECT_NEAR(frechet_distance(tx, from_vector(shifted, {n, f})), 32.0, 1e-6);

  double mean_sq = 0, trace = 0;
  for (int64_t j = 0; j < f; ++j) {
    double m = 0;
    for (int64_t i = 0; i < n; ++i)
      m += x[static_cast<size_t>(i * f + j)];
    m /= n;
    double v = 0;
    for (int64_t i = 0; i < n; ++i)
      v += std::pow(x[static_cast<size_t>(i * f + j)] - m, 2);
    mean_sq += m * m;
    trace += v / (n - 1);
  }
  EXPECT_NEAR(frechet_distance(tx, from_vector(doubled, {n, f})), mean_sq + trace,
              1e-8 * (mean_sq + trace));
}

TEST(FrechetDistanceTest, IdenticalSetsAreAtZero) {
  const Tensor x = from_vector(lcg_values(500 * 16, 3, -2.f, 2.f), {500, 16});
  const double fd = frechet_distance(x, x);
  EXPECT_GE(fd, 0.0);
  EXPECT_LT(fd, 1e-9);
  // Fewer samples than features: singular covariances, whose rounding-negative eigenvalues
  // clamp to 0.
  const Tensor few = from_vector(lcg_values(20 * 64, 5, -1.f, 1.f), {20, 64});
  const double singular = frechet_distance(few, few);
  EXPECT_GE(singular, 0.0);
  EXPECT_LT(singular, 1e-5);
}

TEST(SymmetricEigenTest, Reconstructs20x20) {
  const int64_t n = 20;
  const std::vector<float> r = lcg_values(n * n, 17, -1.f, 1.f);
  std::vector<double> a(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      a[static_cast<size_t>(i * n + j)] = static_cast<double>(r[static_cast<size_t>(i * n + j)]) +
                                          r[static_cast<size_t>(j * n + i)];
  std::vector<double> values, v;
  symmetric_eigen(a, n, values, v);
  ASSERT_EQ(values.size(), static_cast<size_t>(n));
  ASSERT_EQ(v.size(), static_cast<size_t>(n * n));
  double trace = 0, sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    trace += a[static_cast<size_t>(i * n + i)];
    sum += values[static_cast<size_t>(i)];
    if (i > 0) {
      EXPECT_LE(values[static_cast<size_t>(i - 1)], values[static_cast<size_t>(i)]);
    }
  }
  EXPECT_NEAR(sum, trace, 1e-12);
  double worst_rebuild = 0, worst_ortho = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double rebuilt = 0, dot = 0;
      for (int64_t k = 0; k < n; ++k) {
        rebuilt += v[static_cast<size_t>(i * n + k)] * values[static_cast<size_t>(k)] *
                   v[static_cast<size_t>(j * n + k)];
        dot += v[static_cast<size_t>(k * n + i)] * v[static_cast<size_t>(k * n + j)];
      }
      worst_rebuild =
          std::max(worst_rebuild, std::abs(rebuilt - a[static_cast<size_t>(i * n + j)]));
      worst_ortho = std::max(worst_ortho, std::abs(dot - (i == j ? 1.0 : 0.0)));
    }
  EXPECT_LT(worst_rebuild, 1e-11);
  EXPECT_LT(worst_ortho, 1e-12);
}

TEST(SymmetricEigenTest, KnownSpectra) {
  std::vector<double> values, v;
  symmetric_eigen({2.0, 1.0, 1.0, 2.0}, 2, values, v);
  EXPECT_NEAR(values[0], 1.0, 1e-15);
  EXPECT_NEAR(values[1], 3.0, 1e-15);
  // The eigenvector of 3 is (1, 1) / sqrt 2, up to sign.
  EXPECT_NEAR(std::abs(v[1]), std::sqrt(0.5), 1e-15);
  EXPECT_NEAR(v[1] * v[3], 0.5, 1e-15);
  // Repeated eigenvalues behind a rotation come back sorted.
  const std::vector<double> d = {2.0, -1.0, 2.0, 0.5, -1.0};
  symmetric_eigen(conjugate(rotation(5), d), 5, values, v);
  const std::vector<double> sorted = {-1.0, -1.0, 0.5, 2.0, 2.0};
  for (size_t i = 0; i < sorted.size(); ++i)
    EXPECT_NEAR(values[i], sorted[i], 1e-13);
  // Diagonal input: no rotation needed.
  symmetric_eigen({3.0, 0.0, 0.0, -4.0}, 2, values, v);
  EXPECT_EQ(values, (std::vector<double>{-4.0, 3.0}));
  EXPECT_EQ(std::abs(v[1]), 1.0);
}

TEST(FrechetDistanceErrorsTest, RefusesBadInput) {
  EXPECT_TRUE(throws_with(
      [] {
        fit_gaussian(from_vector({1.f, 2.f}, {2}));
      },
      {"fit_gaussian", "[N, F]", "[2]"}));
  EXPECT_TRUE(throws_with(
      [] {
        fit_gaussian(from_vector({1.f, 2.f}, {1, 2}));
      },
      {"N >= 2", "[1, 2]"}));
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(throws_with(
      [&] {
        fit_gaussian(from_vector({1.f, 2.f, inf, 0.f}, {2, 2}));
      },
      {"finite", "inf", "row 1", "column 0"}));
  EXPECT_TRUE(throws_with(
      [] {
        frechet_distance(from_vector({1.f, 2.f, 3.f, 4.f}, {2, 2}),
                         from_vector({1.f, 2.f}, {2, 1}));
      },
      {"same F", "[2, 2]", "[2, 1]"}));
  EXPECT_TRUE(throws_with(
      [] {
        frechet_distance(gaussian({0.0}, {1.0}), gaussian({0.0, 0.0}, {1, 0, 0, 1}));
      },
      {"same dimension", "1 and 2"}));
  EXPECT_TRUE(throws_with(
      [] {
        frechet_distance(gaussian({0.0, 0.0}, {1.0}), gaussian({0.0}, {1.0}));
      },
      {"Gaussian a", "dimension 2"}));
  std::vector<double> values, v;
  EXPECT_TRUE(throws_with(
      [&] {
        symmetric_eigen({1.0, 2.0, 3.0}, 2, values, v);
      },
      {"symmetric_eigen", "2x2", "got 3"}));
  EXPECT_TRUE(throws_with(
      [&] {
        symmetric_eigen({1.0, std::numeric_limits<double>::quiet_NaN(), 0.0, 1.0}, 2, values, v);
      },
      {"finite", "(0, 1)"}));
}

}  // namespace
}  // namespace ge::models::metrics
