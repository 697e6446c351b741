// The classifier (Inception) score against closed forms.
#include "ganengine/models/metrics/classifier_score.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/ops.h"

namespace ge::models::metrics {
namespace {

using optest::throws_with;

Tensor rows(const std::vector<std::vector<float>>& r, Device device = kCPU) {
  std::vector<float> flat;
  for (const auto& row : r)
    flat.insert(flat.end(), row.begin(), row.end());
  return from_vector(flat, {static_cast<int64_t>(r.size()), static_cast<int64_t>(r[0].size())},
                     device);
}

std::vector<std::vector<float>> one_hot_cycle(int64_t n, int64_t k) {
  std::vector<std::vector<float>> r(static_cast<size_t>(n), std::vector<float>(k, 0.f));
  for (int64_t i = 0; i < n; ++i)
    r[static_cast<size_t>(i)][static_cast<size_t>(i % k)] = 1.f;
  return r;
}

class ClassifierScoreTest : public DeviceTest {};

TEST_P(ClassifierScoreTest, ConfidentBalancedRowsScoreK) {
  // Each row's KL to the uniform marginal is log K, so the score is K.
  const ScoreStats one = classifier_score(rows(one_hot_cycle(16, 4), device()));
  EXPECT_NEAR(one.mean, 4.0, 1e-12);
  EXPECT_EQ(one.stddev, 0.0);
  const ScoreStats two = classifier_score(rows(one_hot_cycle(16, 4), device()), 2);
  EXPECT_NEAR(two.mean, 4.0, 1e-12);
  EXPECT_NEAR(two.stddev, 0.0, 1e-12);
  EXPECT_NEAR(classifier_score(rows(one_hot_cycle(30, 10), device())).mean, 10.0, 1e-3 * 10)
      << "30 rows over 10 classes are balanced";
}

TEST_P(ClassifierScoreTest, IdenticalRowsScoreOne) {
  const std::vector<std::vector<float>> same(6, {0.2f, 0.3f, 0.5f});
  const ScoreStats s = classifier_score(rows(same, device()), 3);
  EXPECT_NEAR(s.mean, 1.0, 1e-7);
  EXPECT_NEAR(s.stddev, 0.0, 1e-7);
  // One class only: confident but every row the same.
  EXPECT_NEAR(classifier_score(rows({{1.f, 0.f}, {1.f, 0.f}}, device())).mean, 1.0, 1e-12);
}

TEST_P(ClassifierScoreTest, TwoClassCaseByHand) {
  // p1 = (1, 0), p2 = (1/2, 1/2); marginal (3/4, 1/4).
  // KL1 = log(4/3); KL2 = 1/2 log(2/3) + 1/2 log(2) = 1/2 log(4/3). Mean 3/4 log(4/3).
  const ScoreStats s = classifier_score(rows({{1.f, 0.f}, {0.5f, 0.5f}}, device()));
  EXPECT_NEAR(s.mean, std::pow(4.0 / 3.0, 0.75), 1e-9);
}

TEST_P(ClassifierScoreTest, SplitsGiveMeanAndPopulationStd) {
  // Split 1: two confident distinct rows -> 2. Split 2: two identical rows -> 1. The fifth row
  // is a remainder and must be dropped (it would change split 2).
  const ScoreStats s = classifier_score(
      rows({{1.f, 0.f}, {0.f, 1.f}, {0.3f, 0.7f}, {0.3f, 0.7f}, {1.f, 0.f}}, device()), 2);
  EXPECT_NEAR(s.mean, 1.5, 1e-7);
  EXPECT_NEAR(s.stddev, 0.5, 1e-7);
}

TEST(ClassifierScoreErrorsTest, RefusesBadInput) {
  EXPECT_TRUE(throws_with(
      [] {
        classifier_score(from_vector({0.5f, 0.5f}, {2}));
      },
      {"classifier_score", "[N, K]", "[2]"}));
  EXPECT_TRUE(throws_with([] { classifier_score(Tensor()); }, {"undefined"}));
  EXPECT_TRUE(throws_with(
      [] {
        classifier_score(rows({{1.f, 0.f}, {0.f, 1.f}}), 3);
      },
      {"splits (3)", "got 2"}));
  EXPECT_TRUE(throws_with(
      [] {
        classifier_score(rows({{1.f, 0.f}}), 0);
      },
      {"splits >= 1", "got 0"}));
  EXPECT_TRUE(throws_with(
      [] {
        classifier_score(rows({{1.5f, -0.5f}}));
      },
      {"probabilities in [0, 1]", "-0.5", "row 0", "class 1"}));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(throws_with(
      [&] {
        classifier_score(rows({{1.f, 0.f}, {nan, 1.f}}));
      },
      {"nan", "row 1", "class 0"}));
  EXPECT_TRUE(throws_with(
      [] {
        classifier_score(rows({{0.5f, 0.5f}, {0.5f, 0.4f}}));
      },
      {"sum to 1", "row 1", "0.9"}));
}

GE_INSTANTIATE_DEVICE_TEST(ClassifierScoreTest);

}  // namespace
}  // namespace ge::models::metrics
