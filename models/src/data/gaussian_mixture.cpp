// 2-D Gaussian mixtures, the toy data of mode-collapse studies (ring of 8 as in Metz et al.'s
// unrolled GAN, grid of 25 as in Srivastava et al.'s VEEGAN).
#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"

namespace ge::models::data {
namespace {

constexpr const char* kOp = "make_gaussian_mixture";

class GaussianMixture final : public Dataset {
 public:
  GaussianMixture(std::string kind, std::vector<float> points, std::vector<int64_t> modes,
                  int64_t num_modes)
      : kind_(std::move(kind)),
        points_(std::move(points)),
        modes_(std::move(modes)),
        num_modes_(num_modes) {}

  std::string name() const override { return kind_; }
  int64_t size() const override { return static_cast<int64_t>(modes_.size()); }
  Shape sample_shape() const override { return {2}; }
  int64_t num_classes() const override { return num_modes_; }
  void get(int64_t index, float* out) const override {
    check_index(index);
    out[0] = points_[static_cast<size_t>(2 * index)];
    out[1] = points_[static_cast<size_t>(2 * index + 1)];
  }
  int64_t label(int64_t index) const override {
    check_index(index);
    return modes_[static_cast<size_t>(index)];
  }

 private:
  void check_index(int64_t index) const {
    GE_CHECK(index >= 0 && index < size(), kind_, ": sample index ", index, " is out of range [0, ",
             size(), ")");
  }

  std::string kind_;
  std::vector<float> points_;  // [N, 2]
  std::vector<int64_t> modes_;
  int64_t num_modes_;
};

// Uniform in [0, 1) from the top 53 bits: the same numbers with every standard library, unlike
// std::uniform_real_distribution, whose algorithm is unspecified.
double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace

MixtureSpec gaussian_mixture_spec(const std::string& kind) {
  MixtureSpec spec;
  if (kind == "ring8") {
    for (int i = 0; i < 8; ++i) {
      const double angle = 2 * std::numbers::pi * i / 8;
      spec.means.emplace_back(static_cast<float>(std::cos(angle)),
                              static_cast<float>(std::sin(angle)));
    }
    spec.stddev = 0.01f;
  } else if (kind == "grid25") {
    // Mode 5 * i + j sits at (2i - 4, 2j - 4).
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j)
        spec.means.emplace_back(static_cast<float>(2 * i - 4), static_cast<float>(2 * j - 4));
    spec.stddev = 0.05f;
  } else {
    fail("gaussian_mixture_spec: unknown mixture \"", kind, "\", expected \"ring8\" or \"grid25\"");
  }
  return spec;
}

std::shared_ptr<Dataset> make_gaussian_mixture(const std::string& kind, int64_t count,
                                               uint64_t seed) {
  const MixtureSpec spec = gaussian_mixture_spec(kind);
  GE_CHECK(count >= 1, kOp, ": expected a positive sample count, got ", count);
  const uint64_t num_modes = spec.means.size();
  std::mt19937_64 rng(seed);
  std::vector<float> points(static_cast<size_t>(2 * count));
  std::vector<int64_t> modes(static_cast<size_t>(count));
  for (int64_t n = 0; n < count; ++n) {
    // Modulo bias is below 2^-59 for 25 modes.
    const uint64_t mode = rng() % num_modes;
    // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
    const double radius = std::sqrt(-2 * std::log(1 - uniform01(rng)));
    const double angle = 2 * std::numbers::pi * uniform01(rng);
    const auto& [mx, my] = spec.means[mode];
    points[static_cast<size_t>(2 * n)] =
        static_cast<float>(mx + spec.stddev * radius * std::cos(angle));
    points[static_cast<size_t>(2 * n + 1)] =
        static_cast<float>(my + spec.stddev * radius * std::sin(angle));
    modes[static_cast<size_t>(n)] = static_cast<int64_t>(mode);
  }
  return std::make_shared<GaussianMixture>(kind, std::move(points), std::move(modes),
                                           static_cast<int64_t>(num_modes));
}

}  // namespace ge::models::data
