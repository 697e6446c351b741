// PSNR and SSIM on the Y channel against values derived by hand and against a direct (not
// separable) windowed SSIM written here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/metrics/image_quality.h"

namespace ge::testing {
namespace {

using models::metrics::luma_y;
using models::metrics::psnr;
using models::metrics::ssim;

// The [-1, 1] value whose 8-bit level is `level`.
float at_level(int level) {
  return static_cast<float>(level) / 127.5f - 1.f;
}

TEST(MetricsImageQuality, LumaIsBt601OfTheEightBitLevels) {
  // One pixel: R 200, G 100, B 50.
  const std::vector<float> rgb = {at_level(200), at_level(100), at_level(50)};
  const std::vector<double> y = luma_y(rgb, 3, 1, 1);
  EXPECT_NEAR(y[0], 16.0 + (65.481 * 200 + 128.553 * 100 + 24.966 * 50) / 255.0, 1e-9);
  // Gray is its own luma; values between levels round to the nearest, outside [-1, 1] clamp.
  const std::vector<double> g = luma_y({at_level(77) + 0.3f / 127.5f, 1.5f, -3.f}, 1, 1, 3);
  EXPECT_EQ(g, (std::vector<double>{77, 255, 0}));
}

TEST(MetricsImageQuality, PsnrOfAConstantDifference) {
  const int64_t h = 12, w = 10;
  std::vector<double> a(h * w), b(h * w);
  for (int64_t i = 0; i < h * w; ++i) {
    a[i] = static_cast<double>(i % 200);
    b[i] = a[i] + 5.0;
  }
  EXPECT_NEAR(psnr(a, b, h, w, 0), 10 * std::log10(255.0 * 255.0 / 25.0), 1e-9);
  // Only the border differs: cropped away, the images are equal.
  std::vector<double> c = a;
  for (int64_t x = 0; x < w; ++x)
    c[x] += 40;
  EXPECT_TRUE(std::isinf(psnr(a, c, h, w, 1)));
  EXPECT_NEAR(psnr(a, c, h, w, 0), 10 * std::log10(255.0 * 255.0 / (1600.0 * w / (h * w))), 1e-9);
}

TEST(MetricsImageQuality, SsimOfConstantImagesIsTheLuminanceTerm) {
  const int64_t h = 16, w = 14;
  const double c1 = std::pow(0.01 * 255, 2);
  const std::vector<double> a(h * w, 100.0), b(h * w, 140.0);
  EXPECT_NEAR(ssim(a, b, h, w, 1), (2 * 100.0 * 140.0 + c1) / (100.0 * 100 + 140.0 * 140 + c1),
              1e-12);
  EXPECT_NEAR(ssim(a, a, h, w, 0), 1.0, 1e-12);
}

// Wang et al.'s SSIM with the 2-D window applied directly at every valid place.
double direct_ssim(const std::vector<double>& a, const std::vector<double>& b, int64_t h,
                   int64_t w) {
  const double c1 = std::pow(0.01 * 255, 2), c2 = std::pow(0.03 * 255, 2);
  double win[11][11], total = 0;
  for (int i = 0; i < 11; ++i)
    for (int j = 0; j < 11; ++j) {
      win[i][j] = std::exp(-((i - 5) * (i - 5) + (j - 5) * (j - 5)) / (2 * 1.5 * 1.5));
      total += win[i][j];
    }
  double sum = 0;
  int64_t count = 0;
  for (int64_t y = 0; y + 11 <= h; ++y)
    for (int64_t x = 0; x + 11 <= w; ++x) {
      double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
      for (int i = 0; i < 11; ++i)
        for (int j = 0; j < 11; ++j) {
          const double k = win[i][j] / total, u = a[(y + i) * w + x + j],
                       v = b[(y + i) * w + x + j];
          mx += k * u;
          my += k * v;
          sxx += k * u * u;
          syy += k * v * v;
          sxy += k * u * v;
        }
      const double vx = sxx - mx * mx, vy = syy - my * my, cov = sxy - mx * my;
      sum += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      ++count;
    }
  return sum / static_cast<double>(count);
}

TEST(MetricsImageQuality, SsimMatchesTheDirectWindow) {
  const int64_t h = 23, w = 19, border = 3;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> level(0, 255);
  std::vector<double> a(h * w), b(h * w);
  for (int64_t i = 0; i < h * w; ++i) {
    a[i] = level(rng);
    b[i] = std::min(255.0, std::max(0.0, a[i] + level(rng) / 2.0 - 64.0));
  }
  std::vector<double> ca, cb;
  for (int64_t y = border; y < h - border; ++y)
    for (int64_t x = border; x < w - border; ++x) {
      ca.push_back(a[y * w + x]);
      cb.push_back(b[y * w + x]);
    }
  const double expected = direct_ssim(ca, cb, h - 2 * border, w - 2 * border);
  EXPECT_NEAR(ssim(a, b, h, w, border), expected, 1e-10);
  EXPECT_LT(expected, 0.99);
  EXPECT_GT(expected, 0.2);
}

TEST(MetricsImageQuality, BadSizesAreRefused) {
  const std::vector<double> a(100, 1.0);
  EXPECT_THROW(psnr(a, a, 10, 11, 0), Error);  // 100 values are not 10x11
  EXPECT_THROW(psnr(a, a, 10, 10, 5), Error);  // nothing left after the border
  EXPECT_THROW(ssim(a, a, 10, 10, 0), Error);  // smaller than the 11x11 window
  EXPECT_THROW(luma_y(std::vector<float>(12), 2, 2, 3), Error);
}

}  // namespace
}  // namespace ge::testing
