#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "ganengine/emu/emulator.h"
#include "reduce_kernels.h"

namespace ge::emu_test {
namespace {

std::vector<emu::Schedule> all_schedules() {
  return {{emu::ThreadOrder::forward, 0},
          {emu::ThreadOrder::reverse, 0},
          {emu::ThreadOrder::random, 1},
          {emu::ThreadOrder::random, 2},
          {emu::ThreadOrder::random, 12345}};
}

std::string name(const emu::Schedule& s) {
  switch (s.order) {
    case emu::ThreadOrder::forward:
      return "forward";
    case emu::ThreadOrder::reverse:
      return "reverse";
    case emu::ThreadOrder::random:
      return "random:" + std::to_string(s.seed);
  }
  return "?";
}

std::vector<float> sample(int n) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> dist(-8, 8);
  std::vector<float> values(n);
  for (float& v : values)
    v = static_cast<float>(dist(rng));  // small integers: sums are exact
  return values;
}

TEST(EmuReduction, WarpShuffleReductionMatchesHostSumInEveryOrder) {
  const auto values = sample(5000);
  const float expected = std::accumulate(values.begin(), values.end(), 0.0f);
  for (const auto& schedule : all_schedules()) {
    emu::ScopedSchedule scoped(schedule);
    for (unsigned threads : {32u, 256u, 1024u}) {
      EXPECT_EQ(warp_sum(values, threads), expected) << name(schedule) << " threads " << threads;
    }
  }
}

TEST(EmuReduction, BlockReductionMatchesHostSumInEveryOrder) {
  const auto values = sample(3000);
  const float expected = std::accumulate(values.begin(), values.end(), 0.0f);
  for (const auto& schedule : all_schedules()) {
    emu::ScopedSchedule scoped(schedule);
    for (unsigned threads : {2u, 64u, 256u, 1024u}) {
      EXPECT_EQ(block_sum(values, threads, Barriers::present), expected)
          << name(schedule) << " threads " << threads;
    }
  }
}

TEST(EmuReduction, MissingSyncthreadsIsExposedByThreadOrder) {
#if defined(GE_TSAN)
  GTEST_SKIP() << "the racy kernel runs in its own executable under ThreadSanitizer";
#endif
  const std::vector<float> values(256, 1.0f);
  int wrong = 0;
  for (const auto& schedule : all_schedules()) {
    emu::ScopedSchedule scoped(schedule);
    const float sum = block_sum(values, 64, Barriers::missing);
    if (sum != 256.0f) ++wrong;
    if (schedule.order == emu::ThreadOrder::random) {
      EXPECT_NE(sum, 256.0f) << "random order hides the missing barrier (" << name(schedule) << ")";
    }
  }
  EXPECT_GE(wrong, 3);
}

}  // namespace
}  // namespace ge::emu_test
