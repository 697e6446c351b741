#include "ganengine/models/metrics/image_quality.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/image_io.h"

namespace ge::models::metrics {
namespace {

constexpr int64_t kWindow = 11;
constexpr double kSigma = 1.5;
constexpr double kC1 = (0.01 * 255) * (0.01 * 255);
constexpr double kC2 = (0.03 * 255) * (0.03 * 255);

// The [h, w] plane of `a` without `border` pixels on each side.
std::vector<double> crop(const std::vector<double>& a, int64_t height, int64_t width,
                         int64_t border, const char* op) {
  GE_CHECK(static_cast<int64_t>(a.size()) == height * width, op, ": expected a plane of ", height,
           "x", width, " = ", height * width, " values, got ", a.size());
  GE_CHECK(border >= 0 && height > 2 * border && width > 2 * border, op, ": cannot crop ", border,
           " pixels from each side of a ", height, "x", width, " image");
  const int64_t h = height - 2 * border, w = width - 2 * border;
  std::vector<double> out(static_cast<size_t>(h * w));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      out[static_cast<size_t>(y * w + x)] =
          a[static_cast<size_t>((y + border) * width + x + border)];
  return out;
}

// The valid correlation of an [h, w] plane with the separable normalised Gaussian window.
std::vector<double> gaussian_filter(const std::vector<double>& a, int64_t h, int64_t w) {
  double g[kWindow], total = 0;
  for (int64_t i = 0; i < kWindow; ++i) {
    const double d = static_cast<double>(i - kWindow / 2);
    g[i] = std::exp(-d * d / (2 * kSigma * kSigma));
    total += g[i];
  }
  for (double& v : g)
    v /= total;
  const int64_t oh = h - kWindow + 1, ow = w - kWindow + 1;
  std::vector<double> rows(static_cast<size_t>(h * ow)), out(static_cast<size_t>(oh * ow));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < ow; ++x) {
      double s = 0;
      for (int64_t k = 0; k < kWindow; ++k)
        s += g[k] * a[static_cast<size_t>(y * w + x + k)];
      rows[static_cast<size_t>(y * ow + x)] = s;
    }
  for (int64_t y = 0; y < oh; ++y)
    for (int64_t x = 0; x < ow; ++x) {
      double s = 0;
      for (int64_t k = 0; k < kWindow; ++k)
        s += g[k] * rows[static_cast<size_t>((y + k) * ow + x)];
      out[static_cast<size_t>(y * ow + x)] = s;
    }
  return out;
}

}  // namespace

std::vector<double> luma_y(const std::vector<float>& image, int64_t channels, int64_t height,
                           int64_t width) {
  constexpr const char* op = "luma_y";
  GE_CHECK(channels == 1 || channels == 3, op, ": expected 1 or 3 channels, got ", channels);
  const int64_t plane = height * width;
  GE_CHECK(height >= 1 && width >= 1 && static_cast<int64_t>(image.size()) == channels * plane, op,
           ": expected ", channels, "x", height, "x", width, " values, got ", image.size());
  std::vector<double> y(static_cast<size_t>(plane));
  for (int64_t i = 0; i < plane; ++i) {
    if (channels == 1) {
      y[static_cast<size_t>(i)] = to_byte(image[static_cast<size_t>(i)]);
    } else {
      const double r = to_byte(image[static_cast<size_t>(i)]);
      const double g = to_byte(image[static_cast<size_t>(plane + i)]);
      const double b = to_byte(image[static_cast<size_t>(2 * plane + i)]);
      y[static_cast<size_t>(i)] = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
    }
  }
  return y;
}

double psnr(const std::vector<double>& a, const std::vector<double>& b, int64_t height,
            int64_t width, int64_t border) {
  const std::vector<double> x = crop(a, height, width, border, "psnr");
  const std::vector<double> y = crop(b, height, width, border, "psnr");
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sum += (x[i] - y[i]) * (x[i] - y[i]);
  const double mse = sum / static_cast<double>(x.size());
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

double ssim(const std::vector<double>& a, const std::vector<double>& b, int64_t height,
            int64_t width, int64_t border) {
  const std::vector<double> x = crop(a, height, width, border, "ssim");
  const std::vector<double> y = crop(b, height, width, border, "ssim");
  const int64_t h = height - 2 * border, w = width - 2 * border;
  GE_CHECK(h >= kWindow && w >= kWindow, "ssim: the ", h, "x", w, " image left after cropping ",
           border, " pixels is smaller than the ", kWindow, "x", kWindow, " window");
  std::vector<double> xx(x.size()), yy(x.size()), xy(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const std::vector<double> mx = gaussian_filter(x, h, w), my = gaussian_filter(y, h, w);
  const std::vector<double> sxx = gaussian_filter(xx, h, w), syy = gaussian_filter(yy, h, w);
  const std::vector<double> sxy = gaussian_filter(xy, h, w);
  double total = 0;
  for (size_t i = 0; i < mx.size(); ++i) {
    const double vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i];
    const double cov = sxy[i] - mx[i] * my[i];
    total += ((2 * mx[i] * my[i] + kC1) * (2 * cov + kC2)) /
             ((mx[i] * mx[i] + my[i] * my[i] + kC1) * (vx + vy + kC2));
  }
  return total / static_cast<double>(mx.size());
}

}  // namespace ge::models::metrics
