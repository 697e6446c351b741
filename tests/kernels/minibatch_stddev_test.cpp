// minibatch_stddev launchers on cpu and cuda against double references: statistics, concat,
// gradient sums and input gradient, for several group sizes and channel sets, HW with and
// without float4, and more (slot, set) blocks than one.
#include "ganengine/kernels/minibatch_stddev.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

std::string describe(const MinibatchStdShape& s) {
  return "N " + std::to_string(s.n) + " C " + std::to_string(s.c) + " HW " + std::to_string(s.hw) +
         " G " + std::to_string(s.group) + " F " + std::to_string(s.channels);
}

class MinibatchStdKernelTest : public KernelTest {
 protected:
  void sync() {
    if (cuda()) GE_TEST_CUDA(cudaDeviceSynchronize());
  }

  void check(const MinibatchStdShape& s) {
    SCOPED_TRACE(describe(s));
    const Dev dev = GetParam();
    const int64_t m_count = s.n / s.group, set = s.c / s.channels, oc = s.c + s.channels;
    const int64_t in_n = s.n * s.c * s.hw, out_n = s.n * oc * s.hw;
    const std::vector<float> x = lcg(in_n, 41, -2.f, 2.f), dout = lcg(out_n, 42);
    auto xi = [&](int64_t n, int64_t c, int64_t p) {
      return static_cast<size_t>((n * s.c + c) * s.hw + p);
    };
    auto oi = [&](int64_t n, int64_t c, int64_t p) {
      return static_cast<size_t>((n * oc + c) * s.hw + p);
    };

    // Member g of slot m is sample g * M + m. The group's mean and standard deviation at (c, p):
    auto group_stats = [&](int64_t m, int64_t c, int64_t p) {
      double mean = 0, var = 0;
      for (int64_t g = 0; g < s.group; ++g)
        mean += x[xi(g * m_count + m, c, p)];
      mean /= s.group;
      for (int64_t g = 0; g < s.group; ++g) {
        const double d = x[xi(g * m_count + m, c, p)] - mean;
        var += d * d;
      }
      return std::pair<double, double>(mean, std::sqrt(var / s.group + 1e-8));
    };
    std::vector<double> stats(m_count * s.channels), out(out_n), gstats(m_count * s.channels),
        dx(in_n);
    for (int64_t m = 0; m < m_count; ++m)
      for (int64_t f = 0; f < s.channels; ++f) {
        double acc = 0, gacc = 0;
        for (int64_t c = f * set; c < (f + 1) * set; ++c)
          for (int64_t p = 0; p < s.hw; ++p)
            acc += group_stats(m, c, p).second;
        for (int64_t g = 0; g < s.group; ++g)
          for (int64_t p = 0; p < s.hw; ++p)
            gacc += dout[oi(g * m_count + m, s.c + f, p)];
        stats[m * s.channels + f] = acc / (set * s.hw);
        gstats[m * s.channels + f] = gacc;
      }
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t c = 0; c < oc; ++c)
        for (int64_t p = 0; p < s.hw; ++p)
          out[oi(n, c, p)] =
              c < s.c ? x[xi(n, c, p)] : stats[(n % m_count) * s.channels + (c - s.c)];
    for (int64_t m = 0; m < m_count; ++m)
      for (int64_t c = 0; c < s.c; ++c)
        for (int64_t p = 0; p < s.hw; ++p) {
          const auto [mean, sd] = group_stats(m, c, p);
          const double gs = gstats[m * s.channels + c / set] / (set * s.hw);
          for (int64_t g = 0; g < s.group; ++g) {
            const int64_t n = g * m_count + m;
            dx[xi(n, c, p)] = dout[oi(n, c, p)] + gs * (x[xi(n, c, p)] - mean) / (s.group * sd);
          }
        }

    Buffer xb(dev, x), db(dev, dout), sb(dev, m_count * s.channels), ob(dev, out_n),
        gb(dev, m_count * s.channels), dxb(dev, in_n);
    if (cuda()) {
      cuda::minibatch_stddev_stats(xb.data(), sb.data(), s, nullptr);
      cuda::minibatch_stddev_concat(xb.data(), sb.data(), ob.data(), s, nullptr);
      cuda::minibatch_stddev_backward_reduce(db.data(), gb.data(), s, nullptr);
      cuda::minibatch_stddev_backward_input(db.data(), xb.data(), gb.data(), dxb.data(), s,
                                            nullptr);
    } else {
      cpu::minibatch_stddev_stats(xb.data(), sb.data(), s);
      cpu::minibatch_stddev_concat(xb.data(), sb.data(), ob.data(), s);
      cpu::minibatch_stddev_backward_reduce(db.data(), gb.data(), s);
      cpu::minibatch_stddev_backward_input(db.data(), xb.data(), gb.data(), dxb.data(), s);
    }
    sync();
    EXPECT_TRUE(close(sb.download(m_count * s.channels), stats, 1e-5, 1e-5)) << "stats";
    EXPECT_TRUE(close(ob.download(out_n), out, 1e-5, 1e-5)) << "concat";
    EXPECT_TRUE(close(gb.download(m_count * s.channels), gstats, 1e-5, 1e-5)) << "gradient sums";
    EXPECT_TRUE(close(dxb.download(in_n), dx, 1e-4, 1e-4)) << "input gradient";
  }
};

TEST_P(MinibatchStdKernelTest, MatchesReference) {
  const MinibatchStdShape cases[] = {
      {8, 4, 16, 4, 1},   // StyleGAN's default: G = 4, F = 1, float4 concat
      {6, 6, 9, 3, 2},    // odd HW: scalar concat; two channel sets
      {4, 3, 4, 4, 3},    // one slot, a set per channel
      {5, 2, 3, 1, 1},    // G = 1: every deviation is 0, the statistic sqrt(1e-8)
      {2, 2, 1, 2, 1},    // 1x1 feature maps
      {12, 8, 25, 2, 4},  // 24 (slot, set) blocks, runs longer than a block
  };
  for (const MinibatchStdShape& s : cases)
    check(s);
}

TEST_P(MinibatchStdKernelTest, EmptyIsANoOp) {
  const MinibatchStdShape s{4, 2, 0, 2, 1};
  if (cuda()) {
    EXPECT_NO_THROW(cuda::minibatch_stddev_stats(nullptr, nullptr, s, nullptr));
  } else {
    EXPECT_NO_THROW(cpu::minibatch_stddev_stats(nullptr, nullptr, s));
  }
}

TEST_P(MinibatchStdKernelTest, RejectsBadArguments) {
  Buffer x(GetParam(), 64), st(GetParam(), 8);
  auto stats = [&](const MinibatchStdShape& s, float* out) {
    if (cuda()) {
      cuda::minibatch_stddev_stats(x.data(), out, s, nullptr);
    } else {
      cpu::minibatch_stddev_stats(x.data(), out, s);
    }
  };
  EXPECT_THAT(error_of([&] {
                stats({6, 2, 4, 4, 1}, st.data());
              }),
              HasSubstr("minibatch_stddev_stats: expected a group size G >= 1 dividing N = 6, "
                        "got 4"));
  EXPECT_THAT(error_of([&] {
                stats({4, 3, 4, 2, 2}, st.data());
              }),
              HasSubstr("expected a channel count F >= 1 dividing C = 3, got 2"));
  EXPECT_THAT(error_of([&] {
                stats({4, 2, 4, 2, 1}, nullptr);
              }),
              HasSubstr("expected non-null buffers for shape [4, 2, 4]"));
}

GE_INSTANTIATE_KERNEL_TEST(MinibatchStdKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
