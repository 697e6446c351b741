// 2-D Gaussian mixtures: the modes as the literature defines them, and sample statistics
// (counts, means, spread, shape) within several standard errors.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "support/reference.h"

namespace ge::models::data {
namespace {

using ge::testing::error_of;

std::vector<float> all_points(const Dataset& d) {
  std::vector<float> p(static_cast<size_t>(2 * d.size()));
  for (int64_t i = 0; i < d.size(); ++i)
    d.get(i, p.data() + 2 * i);
  return p;
}

TEST(DataGaussianMixture, Ring8Modes) {
  const MixtureSpec spec = gaussian_mixture_spec("ring8");
  ASSERT_EQ(spec.means.size(), 8u);
  EXPECT_FLOAT_EQ(spec.stddev, 0.01f);
  for (int i = 0; i < 8; ++i) {
    EXPECT_NEAR(spec.means[static_cast<size_t>(i)].first, std::cos(std::numbers::pi * i / 4), 1e-6);
    EXPECT_NEAR(spec.means[static_cast<size_t>(i)].second, std::sin(std::numbers::pi * i / 4),
                1e-6);
  }
}

TEST(DataGaussianMixture, Grid25Modes) {
  const MixtureSpec spec = gaussian_mixture_spec("grid25");
  EXPECT_FLOAT_EQ(spec.stddev, 0.05f);
  std::set<std::pair<float, float>> got(spec.means.begin(), spec.means.end()), want;
  for (float x : {-4.f, -2.f, 0.f, 2.f, 4.f})
    for (float y : {-4.f, -2.f, 0.f, 2.f, 4.f})
      want.insert({x, y});
  EXPECT_EQ(spec.means.size(), 25u);
  EXPECT_EQ(got, want);
}

void check_statistics(const std::string& kind, int64_t count) {
  const MixtureSpec spec = gaussian_mixture_spec(kind);
  const auto d = make_gaussian_mixture(kind, count, 11);
  ASSERT_EQ(d->name(), kind);
  ASSERT_EQ(d->size(), count);
  ASSERT_EQ(d->sample_shape(), (Shape{2}));
  const size_t k = spec.means.size();
  ASSERT_EQ(d->num_classes(), static_cast<int64_t>(k));
  const std::vector<float> p = all_points(*d);
  std::vector<double> n(k), sx(k), sy(k), sxx(k), syy(k);
  int64_t within_one_sigma = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t m = d->label(i);
    ASSERT_GE(m, 0);
    ASSERT_LT(m, static_cast<int64_t>(k));
    const size_t mi = static_cast<size_t>(m);
    const double x = p[static_cast<size_t>(2 * i)], y = p[static_cast<size_t>(2 * i + 1)];
    n[mi] += 1;
    sx[mi] += x;
    sy[mi] += y;
    const double dx = x - spec.means[mi].first, dy = y - spec.means[mi].second;
    sxx[mi] += dx * dx;
    syy[mi] += dy * dy;
    if (std::abs(dx) < spec.stddev) ++within_one_sigma;
  }
  const double expected = static_cast<double>(count) / static_cast<double>(k);
  const double count_sigma = std::sqrt(expected * (1 - 1.0 / static_cast<double>(k)));
  for (size_t m = 0; m < k; ++m) {
    EXPECT_NEAR(n[m], expected, 5 * count_sigma) << kind << " mode " << m;
    const double mean_sigma = spec.stddev / std::sqrt(n[m]);
    EXPECT_NEAR(sx[m] / n[m], spec.means[m].first, 5 * mean_sigma) << kind << " mode " << m;
    EXPECT_NEAR(sy[m] / n[m], spec.means[m].second, 5 * mean_sigma) << kind << " mode " << m;
    // The relative standard error of a sample std is about 1 / sqrt(2 n).
    const double std_tol = 5 * spec.stddev / std::sqrt(2 * n[m]);
    EXPECT_NEAR(std::sqrt(sxx[m] / n[m]), spec.stddev, std_tol) << kind << " mode " << m;
    EXPECT_NEAR(std::sqrt(syy[m] / n[m]), spec.stddev, std_tol) << kind << " mode " << m;
  }
  // Gaussian, not merely the right variance: P(|x - mu| < sigma) = 0.6827.
  const double frac = static_cast<double>(within_one_sigma) / static_cast<double>(count);
  EXPECT_NEAR(frac, 0.6827, 5 * std::sqrt(0.6827 * 0.3173 / static_cast<double>(count)));
}

TEST(DataGaussianMixture, Ring8Statistics) {
  check_statistics("ring8", 40000);
}

TEST(DataGaussianMixture, Grid25Statistics) {
  check_statistics("grid25", 50000);
}

TEST(DataGaussianMixture, SeedDeterminesSamples) {
  const auto a = make_gaussian_mixture("ring8", 100, 5);
  const auto b = make_gaussian_mixture("ring8", 100, 5);
  const auto c = make_gaussian_mixture("ring8", 100, 6);
  EXPECT_EQ(all_points(*a), all_points(*b));
  EXPECT_NE(all_points(*a), all_points(*c));
  for (int64_t i = 0; i < 100; ++i)
    EXPECT_EQ(a->label(i), b->label(i));
}

TEST(DataGaussianMixture, ErrorsNameTheInput) {
  const std::string msg = error_of([] { make_gaussian_mixture("ring9"); });
  EXPECT_NE(msg.find("\"ring9\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("ring8"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { make_gaussian_mixture("grid25", 0); }).find("count"), std::string::npos);
  const auto d = make_gaussian_mixture("grid25", 10);
  float out[2];
  EXPECT_NE(error_of([&] { d->get(10, out); }).find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace ge::models::data
