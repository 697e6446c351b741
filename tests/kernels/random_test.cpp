// Philox known answers, the counter layout of random.h, CPU == CUDA, and distribution sanity.
#include "ganengine/kernels/random.h"

#include <cmath>
#include <cstring>

#include "common/philox.h"
#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

void expect_words(const Philox4& got, uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3) {
  EXPECT_EQ(got.v[0], w0);
  EXPECT_EQ(got.v[1], w1);
  EXPECT_EQ(got.v[2], w2);
  EXPECT_EQ(got.v[3], w3);
}

// Random123's kat_vectors for philox4x32_10.
TEST(Philox, KnownAnswers) {
  expect_words(philox4x32_10({{0, 0, 0, 0}}, 0, 0), 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8);
  expect_words(
      philox4x32_10({{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, 0xffffffff, 0xffffffff),
      0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd);
  expect_words(
      philox4x32_10({{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0),
      0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1);
}

TEST(Philox, CounterAndKeyLayout) {
  // Block g at offset o is counter (o + g) split into lo/hi words; key is the seed's lo/hi.
  const uint64_t seed = 0x0123456789abcdefull, offset = 0xfffffffeull;
  const Philox4 got = philox_block(seed, offset, 3);
  const Philox4 want = philox4x32_10({{1u, 1u, 0u, 0u}}, 0x89abcdefu, 0x01234567u);
  EXPECT_EQ(std::memcmp(&got, &want, sizeof(got)), 0);
}

TEST(Philox, UniformTransformNeverReturnsHi) {
  // All 24 bits set: lo + (hi - lo) * (1 - 2^-24) rounds to hi in float for [1, 2).
  EXPECT_LT(uniform_transform(0xffffffffu, 1.f, 2.f), 2.f);
  EXPECT_EQ(uniform_transform(0xffffffffu, 1.f, 2.f), std::nextafter(2.f, 1.f));
  EXPECT_EQ(uniform_transform(0u, -3.f, 5.f), -3.f);
  EXPECT_EQ(uniform_transform(0xffffffffu, 4.f, 4.f), 4.f);
  // Box-Muller's log argument is never 0.
  float a = 0.f, b = 0.f;
  box_muller(0u, 0u, 0.f, 1.f, &a, &b);
  EXPECT_TRUE(std::isfinite(a) && std::isfinite(b));
}

class RandomTest : public KernelTest {
 protected:
  std::vector<float> draw(bool normal, int64_t n, uint64_t seed, uint64_t offset, float p0,
                          float p1, int64_t shift = 0, Dev dev = Dev::Cpu) {
    Buffer y(dev, n);
    if (dev == Dev::Cuda) {
      if (normal) {
        cuda::normal(y.data(shift), n - shift, seed, offset, p0, p1, nullptr);
      } else {
        cuda::uniform(y.data(shift), n - shift, seed, offset, p0, p1, nullptr);
      }
    } else if (normal) {
      cpu::normal(y.data(shift), n - shift, seed, offset, p0, p1);
    } else {
      cpu::uniform(y.data(shift), n - shift, seed, offset, p0, p1);
    }
    return y.download(n - shift, shift);
  }
  std::vector<float> draw_here(bool normal, int64_t n, uint64_t seed, uint64_t offset, float p0,
                               float p1, int64_t shift = 0) {
    return draw(normal, n, seed, offset, p0, p1, shift, GetParam());
  }
};

TEST_P(RandomTest, BitwiseEqualToCpu) {
  for (bool normal : {false, true}) {
    for (int64_t n : {1, 3, 4, 5, 1023}) {
      for (int64_t shift : {0, 1, 2}) {
        const std::vector<float> want = draw(normal, n + shift, 42, 7, -1.f, 3.f, shift);
        const std::vector<float> got = draw_here(normal, n + shift, 42, 7, -1.f, 3.f, shift);
        ASSERT_EQ(got.size(), want.size());
#if defined(GE_CUDA_EMULATOR)
        // The same code from common/philox.h on the same host libm: identical bits.
        EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
            << (normal ? "normal" : "uniform") << " n " << n << " shift " << shift;
#else
        // A real GPU's logf/sinf/cosf and fused multiply-adds: within a few ulp.
        std::vector<double> want_d(want.begin(), want.end());
        EXPECT_TRUE(close(got, want_d, 4e-7, 4e-7))
            << (normal ? "normal" : "uniform") << " n " << n << " shift " << shift;
#endif
      }
    }
  }
}

TEST_P(RandomTest, OffsetsContinueTheStream) {
  // Element i uses counter offset + i / 4, so a call at offset + 2 repeats elements 8.. of a
  // call at offset, and philox_offset_increment(n) skips exactly the blocks a call used.
  for (bool normal : {false, true}) {
    const std::vector<float> whole = draw_here(normal, 20, 5, 100, 0.f, 1.f);
    const std::vector<float> tail = draw_here(normal, 10, 5, 102, 0.f, 1.f);
    EXPECT_EQ(std::vector<float>(whole.begin() + 8, whole.begin() + 18), tail);
    const std::vector<float> first = draw_here(normal, 6, 5, 100, 0.f, 1.f);
    const std::vector<float> next =
        draw_here(normal, 4, 5, 100 + philox_offset_increment(6), 0.f, 1.f);
    EXPECT_EQ(std::vector<float>(whole.begin() + 8, whole.begin() + 12), next);
    EXPECT_EQ(std::vector<float>(whole.begin(), whole.begin() + 6), first);
    // A different seed gives a different stream.
    EXPECT_NE(draw_here(normal, 8, 6, 100, 0.f, 1.f),
              std::vector<float>(whole.begin(), whole.begin() + 8));
  }
}

TEST_P(RandomTest, DistributionMoments) {
  const int64_t n = 100000;
  const std::vector<float> u = draw_here(false, n, 1234, 0, -2.f, 3.f);
  double sum = 0, sq = 0, lo = 1e9, hi = -1e9;
  for (float v : u) {
    sum += v, sq += double{v} * v;
    lo = std::min(lo, double{v}), hi = std::max(hi, double{v});
  }
  double mean = sum / n, var = sq / n - mean * mean;
  // Uniform(-2, 3): mean 0.5 (sd of the estimate 0.0046), variance 25/12.
  EXPECT_NEAR(mean, 0.5, 0.025);
  EXPECT_NEAR(var, 25.0 / 12.0, 0.04);
  EXPECT_GE(lo, -2.0);
  EXPECT_LT(hi, 3.0);
  EXPECT_LT(lo, -1.99);
  EXPECT_GT(hi, 2.99);

  const std::vector<float> z = draw_here(true, n, 99, 3, 1.f, 2.f);
  sum = sq = 0;
  double fourth = 0;
  int64_t within_one_sd = 0;
  for (float v : z) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v, sq += double{v} * v;
    const double c = (v - 1.0) / 2.0;
    fourth += c * c * c * c;
    within_one_sd += std::fabs(c) < 1.0;
  }
  mean = sum / n, var = sq / n - mean * mean;
  // Normal(1, 2): sd of the mean estimate 0.0063, of the variance estimate ~0.018.
  EXPECT_NEAR(mean, 1.0, 0.03);
  EXPECT_NEAR(var, 4.0, 0.1);
  EXPECT_NEAR(fourth / n, 3.0, 0.1);  // kurtosis of a normal
  EXPECT_NEAR(static_cast<double>(within_one_sd) / n, 0.6827, 0.006);
}

TEST_P(RandomTest, EmptyAndInvalid) {
  Buffer y(GetParam(), 1);
  auto uniform = [&](float* p, int64_t n, float lo, float hi) {
    if (cuda()) {
      cuda::uniform(p, n, 0, 0, lo, hi, nullptr);
    } else {
      cpu::uniform(p, n, 0, 0, lo, hi);
    }
  };
  auto normal = [&](float* p, int64_t n, float mean, float sd) {
    if (cuda()) {
      cuda::normal(p, n, 0, 0, mean, sd, nullptr);
    } else {
      cpu::normal(p, n, 0, 0, mean, sd);
    }
  };
  uniform(nullptr, 0, 0.f, 1.f);
  normal(nullptr, 0, 0.f, 1.f);
  EXPECT_THAT(error_of([&] { uniform(y.data(), 1, 2.f, 1.f); }),
              HasSubstr("uniform: expected finite lo <= hi, got lo = 2, hi = 1"));
  EXPECT_THAT(error_of([&] { uniform(nullptr, 3, 0.f, 1.f); }),
              HasSubstr("uniform: expected a non-null output for n = 3"));
  EXPECT_THAT(error_of([&] { normal(y.data(), 1, 0.f, -1.f); }),
              HasSubstr("normal: expected finite mean and stddev >= 0, got mean = 0, stddev = -1"));
  EXPECT_THAT(error_of([&] { normal(y.data(), -1, 0.f, 1.f); }),
              HasSubstr("normal: expected n >= 0, got -1"));
}

GE_INSTANTIATE_KERNEL_TEST(RandomTest);

}  // namespace
}  // namespace ge::kernels::testing
