#include "ganengine/models/metrics/mode_coverage.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ganengine/error.h"

namespace ge::models::metrics {
namespace {

constexpr int64_t kStackedChannels = 3;
constexpr int64_t kDigits = 10;

}  // namespace

std::vector<int64_t> class_histogram(const std::vector<int64_t>& labels, int64_t num_classes) {
  GE_CHECK(num_classes >= 1, "class_histogram: expected num_classes >= 1, got ", num_classes);
  std::vector<int64_t> h(static_cast<size_t>(num_classes), 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    const int64_t l = labels[i];
    GE_CHECK(l >= 0 && l < num_classes, "class_histogram: label ", l, " at index ", i,
             " is out of range [0, ", num_classes, ")");
    ++h[static_cast<size_t>(l)];
  }
  return h;
}

double kl_to_uniform(const std::vector<int64_t>& histogram) {
  GE_CHECK(!histogram.empty(), "kl_to_uniform: expected a non-empty histogram");
  int64_t total = 0;
  for (size_t i = 0; i < histogram.size(); ++i) {
    GE_CHECK(histogram[i] >= 0, "kl_to_uniform: expected counts >= 0, got ", histogram[i],
             " at index ", i);
    total += histogram[i];
  }
  GE_CHECK(total > 0, "kl_to_uniform: the histogram's counts sum to 0");
  const double k = static_cast<double>(histogram.size());
  double kl = 0;
  for (int64_t c : histogram) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) / static_cast<double>(total);
    kl += p * std::log(p * k);
  }
  // Rounding can leave -1e-17 for a uniform histogram; the divergence is never negative.
  return std::max(kl, 0.0);
}

ModeCoverage mode_coverage(const std::vector<int64_t>& labels, int64_t num_classes) {
  ModeCoverage m;
  m.num_modes = num_classes;
  m.histogram = class_histogram(labels, num_classes);
  for (int64_t c : m.histogram)
    m.modes_hit += c > 0 ? 1 : 0;
  m.kl_to_uniform = kl_to_uniform(m.histogram);
  return m;
}

ModeCoverage stacked_mnist_coverage(const std::vector<int64_t>& channel_labels) {
  GE_CHECK(!channel_labels.empty() && channel_labels.size() % kStackedChannels == 0,
           "stacked_mnist_coverage: expected 3 digit labels per sample, got ",
           channel_labels.size(), " labels");
  std::vector<int64_t> modes(channel_labels.size() / kStackedChannels);
  for (size_t i = 0; i < modes.size(); ++i) {
    int64_t mode = 0;
    for (int64_t c = 0; c < kStackedChannels; ++c) {
      const int64_t d = channel_labels[i * kStackedChannels + static_cast<size_t>(c)];
      GE_CHECK(d >= 0 && d < kDigits, "stacked_mnist_coverage: digit ", d, " of sample ", i,
               ", channel ", c, " is out of range [0, 10)");
      mode = mode * kDigits + d;
    }
    modes[i] = mode;
  }
  return mode_coverage(modes, kDigits * kDigits * kDigits);
}

MixtureQuality mixture_quality(const Tensor& points, const data::MixtureSpec& spec, float num_std) {
  constexpr const char* op = "mixture_quality";
  GE_CHECK(points.defined(), op, ": expected points [N, 2], got an undefined tensor");
  GE_CHECK(points.dim() == 2 && points.size(1) == 2 && points.size(0) >= 1, op,
           ": expected points [N, 2] with N >= 1, got shape ", to_string(points.shape()));
  GE_CHECK(!spec.means.empty(), op, ": expected a mixture with at least one mode");
  GE_CHECK(std::isfinite(spec.stddev) && spec.stddev > 0.f, op,
           ": expected a positive mixture stddev, got ", spec.stddev);
  GE_CHECK(std::isfinite(num_std) && num_std > 0.f, op, ": expected num_std > 0, got ", num_std);
  const std::vector<float> v = points.detach().to_vector();
  MixtureQuality q;
  q.num_samples = points.size(0);
  q.num_modes = static_cast<int64_t>(spec.means.size());
  q.high_quality_per_mode.assign(spec.means.size(), 0);
  const double radius = static_cast<double>(num_std) * spec.stddev;
  int64_t high_quality = 0;
  for (int64_t i = 0; i < q.num_samples; ++i) {
    const double x = v[static_cast<size_t>(2 * i)], y = v[static_cast<size_t>(2 * i + 1)];
    GE_CHECK(std::isfinite(x) && std::isfinite(y), op, ": expected finite points, got (", x, ", ",
             y, ") at row ", i);
    size_t nearest = 0;
    double best = std::numeric_limits<double>::infinity();
    for (size_t m = 0; m < spec.means.size(); ++m) {
      const double dx = x - spec.means[m].first, dy = y - spec.means[m].second;
      const double d2 = dx * dx + dy * dy;
      if (d2 < best) {
        best = d2;
        nearest = m;
      }
    }
    if (std::sqrt(best) <= radius) {
      ++high_quality;
      ++q.high_quality_per_mode[nearest];
    }
  }
  for (int64_t c : q.high_quality_per_mode)
    q.modes_captured += c > 0 ? 1 : 0;
  q.high_quality_fraction = static_cast<double>(high_quality) / static_cast<double>(q.num_samples);
  return q;
}

}  // namespace ge::models::metrics
