// Class histograms, KL to uniform, Stacked MNIST modes and 2-D mixture quality, on hand-built
// inputs whose answers are known.
#include "ganengine/models/metrics/mode_coverage.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/ops.h"

namespace ge::models::metrics {
namespace {

using optest::throws_with;

TEST(ModeCoverageTest, HistogramCounts) {
  EXPECT_EQ(class_histogram({2, 0, 2, 3, 2}, 4), (std::vector<int64_t>{1, 0, 3, 1}));
  EXPECT_EQ(class_histogram({}, 3), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_TRUE(throws_with([] { class_histogram({0, 1, 4}, 4); }, {"label 4", "index 2", "[0, 4)"}));
  EXPECT_TRUE(throws_with([] { class_histogram({-1}, 4); }, {"label -1"}));
  EXPECT_TRUE(throws_with([] { class_histogram({0}, 0); }, {"num_classes >= 1"}));
}

TEST(ModeCoverageTest, KlToUniform) {
  EXPECT_EQ(kl_to_uniform({5, 5, 5, 5}), 0.0);
  EXPECT_NEAR(kl_to_uniform({0, 0, 7, 0, 0, 0, 0, 0, 0, 0}), std::log(10.0), 1e-15);
  // p = (3/4, 1/4) against (1/2, 1/2).
  EXPECT_NEAR(kl_to_uniform({3, 1}), 0.75 * std::log(1.5) + 0.25 * std::log(0.5), 1e-15);
  EXPECT_TRUE(throws_with([] { kl_to_uniform({}); }, {"kl_to_uniform", "non-empty"}));
  EXPECT_TRUE(throws_with([] { kl_to_uniform({0, 0}); }, {"sum to 0"}));
  EXPECT_TRUE(throws_with([] { kl_to_uniform({3, -1}); }, {"counts >= 0", "-1"}));
}

TEST(ModeCoverageTest, CoverageOfLabels) {
  const ModeCoverage m = mode_coverage({1, 1, 4, 1}, 5);
  EXPECT_EQ(m.num_modes, 5);
  EXPECT_EQ(m.modes_hit, 2);
  EXPECT_EQ(m.histogram, (std::vector<int64_t>{0, 3, 0, 0, 1}));
  EXPECT_NEAR(m.kl_to_uniform, 0.75 * std::log(0.75 * 5) + 0.25 * std::log(0.25 * 5), 1e-15);
}

TEST(ModeCoverageTest, StackedMnistModes) {
  // Samples read as (1, 2, 3), (1, 2, 3), (0, 0, 9), (9, 9, 9): modes 123 (twice), 9, 999.
  const ModeCoverage m = stacked_mnist_coverage({1, 2, 3, 1, 2, 3, 0, 0, 9, 9, 9, 9});
  EXPECT_EQ(m.num_modes, 1000);
  EXPECT_EQ(m.modes_hit, 3);
  ASSERT_EQ(m.histogram.size(), 1000u);
  EXPECT_EQ(m.histogram[123], 2);
  EXPECT_EQ(m.histogram[9], 1);
  EXPECT_EQ(m.histogram[999], 1);
  EXPECT_EQ(m.histogram[321], 0);
  EXPECT_NEAR(m.kl_to_uniform, 0.5 * std::log(500.0) + 2 * 0.25 * std::log(250.0), 1e-12);
  EXPECT_TRUE(throws_with(
      [] {
        stacked_mnist_coverage({1, 2, 3, 4});
      },
      {"3 digit labels per sample", "4 labels"}));
  EXPECT_TRUE(throws_with([] { stacked_mnist_coverage({}); }, {"0 labels"}));
  EXPECT_TRUE(throws_with(
      [] {
        stacked_mnist_coverage({1, 2, 3, 4, 10, 6});
      },
      {"digit 10", "sample 1", "channel 1"}));
}

Tensor points(const std::vector<std::pair<float, float>>& p, Device device = kCPU) {
  std::vector<float> flat;
  for (const auto& [x, y] : p) {
    flat.push_back(x);
    flat.push_back(y);
  }
  return from_vector(flat, {static_cast<int64_t>(p.size()), 2}, device);
}

class MixtureQualityTest : public DeviceTest {};

TEST_P(MixtureQualityTest, ThreeOfEightRingModes) {
  const data::MixtureSpec ring = data::gaussian_mixture_spec("ring8");
  // Ring mode i sits at (cos 2 pi i / 8, sin 2 pi i / 8). Samples at modes 0, 3 and 5, some
  // offset by up to 2 stddevs (0.02), all high quality.
  const float h = std::sqrt(0.5f);
  const MixtureQuality q = mixture_quality(
      points({{1.f, 0.f}, {1.02f, 0.f}, {-h, h}, {-h + 0.01f, h - 0.01f}, {-h, -h}, {1.f, 0.015f}},
             device()),
      ring);
  EXPECT_EQ(q.num_samples, 6);
  EXPECT_EQ(q.num_modes, 8);
  EXPECT_EQ(q.modes_captured, 3);
  EXPECT_EQ(q.high_quality_fraction, 1.0);
  EXPECT_EQ(q.high_quality_per_mode, (std::vector<int64_t>{3, 0, 0, 2, 0, 1, 0, 0}));
}

TEST_P(MixtureQualityTest, FarPointsAreLowQuality) {
  const data::MixtureSpec ring = data::gaussian_mixture_spec("ring8");
  // The centre is 1 (100 stddevs) from every mode; (0.9, 0) is 10 stddevs from mode 0.
  const MixtureQuality q =
      mixture_quality(points({{0.f, 0.f}, {10.f, 10.f}, {0.9f, 0.f}, {-3.f, 1.f}}, device()), ring);
  EXPECT_EQ(q.modes_captured, 0);
  EXPECT_EQ(q.high_quality_fraction, 0.0);
  EXPECT_EQ(q.high_quality_per_mode, std::vector<int64_t>(8, 0));
}

TEST_P(MixtureQualityTest, ThresholdAtNumStd) {
  const data::MixtureSpec ring = data::gaussian_mixture_spec("ring8");
  // Radial offsets of 2.9 and 3.1 stddevs from mode 0: only the first is within 3.
  const MixtureQuality q = mixture_quality(points({{1.029f, 0.f}, {1.031f, 0.f}}, device()), ring);
  EXPECT_EQ(q.high_quality_fraction, 0.5);
  EXPECT_EQ(q.modes_captured, 1);
  // With 4 stddevs both count.
  EXPECT_EQ(mixture_quality(points({{1.029f, 0.f}, {1.031f, 0.f}}, device()), ring, 4.f)
                .high_quality_fraction,
            1.0);
}

TEST_P(MixtureQualityTest, EveryGridModeAtItsMean) {
  std::vector<std::pair<float, float>> p;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      p.emplace_back(static_cast<float>(2 * i - 4), static_cast<float>(2 * j - 4));
  const MixtureQuality q =
      mixture_quality(points(p, device()), data::gaussian_mixture_spec("grid25"));
  EXPECT_EQ(q.num_modes, 25);
  EXPECT_EQ(q.modes_captured, 25);
  EXPECT_EQ(q.high_quality_fraction, 1.0);
  EXPECT_EQ(q.high_quality_per_mode, std::vector<int64_t>(25, 1));
}

TEST(MixtureQualityErrorsTest, RefusesBadInput) {
  const data::MixtureSpec ring = data::gaussian_mixture_spec("ring8");
  EXPECT_TRUE(throws_with(
      [&] {
        mixture_quality(from_vector({1.f, 2.f, 3.f}, {1, 3}), ring);
      },
      {"mixture_quality", "[N, 2]", "[1, 3]"}));
  EXPECT_TRUE(throws_with([&] { mixture_quality(zeros({0, 2}), ring); }, {"N >= 1", "[0, 2]"}));
  EXPECT_TRUE(throws_with(
      [] {
        mixture_quality(zeros({1, 2}), data::MixtureSpec{});
      },
      {"at least one mode"}));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(throws_with(
      [&] {
        mixture_quality(points({{0.f, 0.f}, {nan, 1.f}}), ring);
      },
      {"finite", "row 1"}));
  EXPECT_TRUE(throws_with([&] { mixture_quality(zeros({1, 2}), ring, 0.f); }, {"num_std > 0"}));
}

GE_INSTANTIATE_DEVICE_TEST(MixtureQualityTest);

}  // namespace
}  // namespace ge::models::metrics
