// minibatch_stddev on every device against StyleGAN2-ADA's MinibatchStdLayer written as double
// loops here: group order n % (N / G), G = min(group_size, N), several channel sets; gradcheck
// (the fused backward) and gradgradcheck (the differentiable one); argument errors.
#include "ganengine/minibatch_stddev.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class MinibatchStddevTest : public DeviceTest {};

// y = x.reshape(G, M, F, C/F, H, W); y -= y.mean(0); y = sqrt(y.square().mean(0) + 1e-8);
// y = y.mean([2, 3, 4]) -> [M, F]; out = cat([x, y[n % M] broadcast], 1).
std::vector<float> minibatch_stddev_ref(const std::vector<float>& x, const Shape& s,
                                        int64_t group_size, int64_t f_count) {
  const int64_t n_count = s[0], c_count = s[1], hw = s[2] * s[3];
  const int64_t g_count = std::min(group_size, n_count), m_count = n_count / g_count;
  const int64_t set = c_count / f_count, oc = c_count + f_count;
  auto at = [&](int64_t n, int64_t c, int64_t p) {
    return x[static_cast<size_t>((n * c_count + c) * hw + p)];
  };
  std::vector<double> y(static_cast<size_t>(m_count * f_count), 0.0);
  for (int64_t m = 0; m < m_count; ++m)
    for (int64_t f = 0; f < f_count; ++f) {
      double acc = 0;
      for (int64_t j = 0; j < set; ++j)
        for (int64_t p = 0; p < hw; ++p) {
          double mean = 0;
          for (int64_t g = 0; g < g_count; ++g)
            mean += at(g * m_count + m, f * set + j, p);
          mean /= g_count;
          double var = 0;
          for (int64_t g = 0; g < g_count; ++g) {
            const double d = at(g * m_count + m, f * set + j, p) - mean;
            var += d * d;
          }
          acc += std::sqrt(var / g_count + 1e-8);
        }
      y[static_cast<size_t>(m * f_count + f)] = acc / (set * hw);
    }
  std::vector<float> out(static_cast<size_t>(n_count * oc * hw));
  for (int64_t n = 0; n < n_count; ++n)
    for (int64_t c = 0; c < oc; ++c)
      for (int64_t p = 0; p < hw; ++p)
        out[static_cast<size_t>((n * oc + c) * hw + p)] =
            c < c_count
                ? at(n, c, p)
                : static_cast<float>(y[static_cast<size_t>((n % m_count) * f_count + c - c_count)]);
  return out;
}

struct Case {
  Shape shape;
  int64_t group, channels;
};

std::string describe(const Case& c) {
  return to_string(c.shape) + " group " + std::to_string(c.group) + " F " +
         std::to_string(c.channels);
}

TEST_P(MinibatchStddevTest, ForwardMatchesReference) {
  const Case cases[] = {
      {{8, 3, 4, 4}, 4, 1},  // StyleGAN's defaults
      {{6, 4, 3, 3}, 3, 2},  // two sets, odd H*W
      {{2, 2, 2, 2}, 4, 1},  // group_size > N: G = N
      {{4, 4, 1, 1}, 1, 4},  // G = 1
      {{6, 2, 2, 3}, 2, 1},  // G = 2, M = 3
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(describe(c));
    const std::vector<float> x = lcg_values(count(c.shape), 1, -2.f, 2.f);
    const Tensor out = minibatch_stddev(make(x, c.shape, device()), c.group, c.channels);
    EXPECT_EQ(out.shape(), (Shape{c.shape[0], c.shape[1] + c.channels, c.shape[2], c.shape[3]}));
    EXPECT_TRUE(all_close(out, minibatch_stddev_ref(x, c.shape, c.group, c.channels)));
  }
}

// Samples 0 and 2 differ only by a constant and 1 and 3 are equal: with N = 4 and G = 2 the
// groups are {0, 2} and {1, 3} (n % 2), so slot 1's statistic is sqrt(1e-8) and slot 0's is 1.
TEST_P(MinibatchStddevTest, GroupsAreStridedByN) {
  std::vector<float> x(4 * 2, 0.f);
  for (int64_t c = 0; c < 2; ++c) {
    x[static_cast<size_t>(0 * 2 + c)] = 1.f;
    x[static_cast<size_t>(2 * 2 + c)] = -1.f;
    x[static_cast<size_t>(1 * 2 + c)] = 5.f;
    x[static_cast<size_t>(3 * 2 + c)] = 5.f;
  }
  const std::vector<float> out =
      minibatch_stddev(make(x, {4, 2, 1, 1}, device()), 2, 1).to_vector();
  ASSERT_EQ(out.size(), 12u);
  EXPECT_NEAR(out[2], 1.f, 1e-6);    // n = 0, slot 0
  EXPECT_NEAR(out[5], 1e-4f, 1e-6);  // n = 1, slot 1
  EXPECT_NEAR(out[8], 1.f, 1e-6);    // n = 2, slot 0
  EXPECT_NEAR(out[11], 1e-4f, 1e-6);
}

TEST_P(MinibatchStddevTest, NonContiguousInput) {
  const std::vector<float> base = lcg_values(4 * 2 * 3 * 2, 2, -1.f, 1.f);
  const Tensor x = make(base, {4, 3, 2, 2}, device()).permute({0, 2, 1, 3});  // [4, 2, 3, 2]
  ASSERT_FALSE(x.is_contiguous());
  EXPECT_TRUE(all_close(
      minibatch_stddev(x, 2, 2),
      minibatch_stddev_ref(permuted(base, {4, 3, 2, 2}, {0, 2, 1, 3}), {4, 2, 3, 2}, 2, 2)));
}

// Group members kept >= 0.1 apart at every position: the deviation sqrt(var + 1e-8) has
// curvature ~ 1e-8 / |d|^3 where members nearly coincide, which finite differences cannot follow.
std::vector<float> separated_members(const Shape& s, int64_t group_size, uint32_t seed) {
  std::vector<float> x = lcg_values(count(s), seed, -0.2f, 0.2f);
  const int64_t slots = s[0] / std::min(group_size, s[0]), row = count(s) / s[0];
  for (int64_t i = 0; i < count(s); ++i)
    x[static_cast<size_t>(i)] += 0.5f * static_cast<float>(i / row / slots);
  return x;
}

TEST_P(MinibatchStddevTest, Gradients) {
  for (const Case& c :
       {Case{{4, 2, 2, 2}, 2, 1}, Case{{6, 4, 1, 3}, 3, 2}, Case{{2, 3, 2, 1}, 4, 3}}) {
    SCOPED_TRACE(describe(c));
    const auto fn = [g = c.group, f = c.channels](const std::vector<Tensor>& in) {
      return minibatch_stddev(in[0], g, f);
    };
    const std::vector<Tensor> in = {
        make(separated_members(c.shape, c.group, 3), c.shape, device(), true)};
    EXPECT_TRUE(grad_ok(fn, in));
    EXPECT_TRUE(gradgrad_ok(fn, in));
  }
}

// The create_graph backward is built from differentiable ops: its own second derivatives exist.
TEST_P(MinibatchStddevTest, ThirdOrderThroughCreateGraph) {
  const Shape s = {4, 2, 1, 2};
  const Tensor v = make(lcg_values(4 * 3 * 2, 4), {4, 3, 1, 2}, device());
  const auto first = [v](const std::vector<Tensor>& in) {
    EnableGradGuard enable;
    const Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_(true);
    return grad({sum(square(minibatch_stddev(x, 2, 1)) * v)}, {x}, {}, /*create_graph=*/true)[0];
  };
  EXPECT_TRUE(gradgrad_ok(first, {make(separated_members(s, 2, 5), s, device(), true)}));
}

TEST_P(MinibatchStddevTest, Errors) {
  const Device d = device();
  EXPECT_TRUE(contains(error_of([&] {
                         minibatch_stddev(zeros({4, 2, 2}, d));
                       }),
                       "minibatch_stddev: expected a 4-D input [N, C, H, W], got shape [4, 2, 2]"));
  EXPECT_TRUE(contains(error_of([&] {
                         minibatch_stddev(zeros({6, 2, 2, 2}, d), 4);
                       }),
                       "minibatch_stddev: expected the batch size N = 6 to be divisible by the "
                       "group size G = min(group_size, N) = 4"));
  EXPECT_TRUE(contains(error_of([&] {
                         minibatch_stddev(zeros({4, 3, 2, 2}, d), 4, 2);
                       }),
                       "minibatch_stddev: expected the channels C = 3 to be divisible by "
                       "num_channels = 2"));
  EXPECT_TRUE(contains(error_of([&] {
                         minibatch_stddev(zeros({4, 2, 2, 2}, d), 0);
                       }),
                       "expected group_size >= 1, got 0"));
  EXPECT_TRUE(contains(error_of([&] {
                         minibatch_stddev(zeros({4, 2, 2, 2}, d), 2, 0);
                       }),
                       "expected num_channels >= 1, got 0"));
  EXPECT_TRUE(contains(error_of([&] {
                         minibatch_stddev(zeros({0, 2, 2, 2}, d));
                       }),
                       "expected a non-empty batch"));
}

GE_INSTANTIATE_DEVICE_TEST(MinibatchStddevTest);

}  // namespace
}  // namespace ge::optest
