// batch_norm launchers on cpu and cuda: statistics (with the running-stat update), forward,
// backward sums and input gradient against double references, on the float4 path (HW % 4 == 0,
// aligned), the scalar path (odd HW, or a misaligned buffer), more channels than the CUDA grid
// has blocks, and (CUDA) long channels cut into slices that separate blocks reduce.
#include "ganengine/kernels/batch_norm.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

struct Case {
  int64_t n, c, hw;
  int64_t shift;  // of x and dy: 1..3 forces the scalar path
  bool affine;
};

std::string describe(const Case& c) {
  return "[" + std::to_string(c.n) + "," + std::to_string(c.c) + "," + std::to_string(c.hw) +
         "] shift " + std::to_string(c.shift) + " affine " + std::to_string(c.affine);
}

class BatchNormKernelTest : public KernelTest {
 protected:
  void sync() {
    if (cuda()) GE_TEST_CUDA(cudaDeviceSynchronize());
  }

  void check(const Case& k) {
    SCOPED_TRACE(describe(k));
    const Dev dev = GetParam();
    const BatchNormShape s{k.n, k.c, k.hw};
    const int64_t total = s.numel(), m = s.per_channel();
    const float eps = 1e-3f, momentum = 0.3f;
    // An offset far from zero: the two-pass variance must not cancel.
    std::vector<float> x = lcg(total, 21, -1.f, 1.f);
    for (float& v : x)
      v += 5.f;
    const std::vector<float> dy = lcg(total, 22), w = lcg(k.c, 23, 0.5f, 1.5f), b = lcg(k.c, 24),
                             rm0 = lcg(k.c, 25), rv0 = lcg(k.c, 26, 0.5f, 2.f);

    std::vector<double> mean(k.c), var(k.c), invstd(k.c), rm(k.c), rv(k.c);
    std::vector<double> y(total), sdy(k.c), sdyx(k.c), dx(total);
    auto at = [&](int64_t n, int64_t c, int64_t j) {
      return static_cast<size_t>((n * k.c + c) * k.hw + j);
    };
    for (int64_t c = 0; c < k.c; ++c) {
      double s1 = 0;
      for (int64_t n = 0; n < k.n; ++n)
        for (int64_t j = 0; j < k.hw; ++j)
          s1 += x[at(n, c, j)];
      mean[c] = s1 / m;
      double s2 = 0;
      for (int64_t n = 0; n < k.n; ++n)
        for (int64_t j = 0; j < k.hw; ++j)
          s2 += (x[at(n, c, j)] - mean[c]) * (x[at(n, c, j)] - mean[c]);
      var[c] = s2 / m;
      invstd[c] = 1.0 / std::sqrt(var[c] + eps);
      rm[c] = (1 - momentum) * rm0[c] + momentum * mean[c];
      rv[c] = (1 - momentum) * rv0[c] + momentum * s2 / (m - 1);
      const double wc = k.affine ? w[c] : 1.0, bc = k.affine ? b[c] : 0.0;
      double a = 0, bsum = 0;
      for (int64_t n = 0; n < k.n; ++n)
        for (int64_t j = 0; j < k.hw; ++j) {
          const size_t i = at(n, c, j);
          const double xh = (x[i] - mean[c]) * invstd[c];
          y[i] = xh * wc + bc;
          a += dy[i];
          bsum += dy[i] * xh;
        }
      sdy[c] = a;
      sdyx[c] = bsum;
      for (int64_t n = 0; n < k.n; ++n)
        for (int64_t j = 0; j < k.hw; ++j) {
          const size_t i = at(n, c, j);
          const double xh = (x[i] - mean[c]) * invstd[c];
          dx[i] = wc * invstd[c] * (dy[i] - a / m - xh * bsum / m);
        }
    }

    Buffer xb(dev, x, k.shift), dyb(dev, dy, k.shift), wb(dev, w), bb(dev, b), rmb(dev, rm0),
        rvb(dev, rv0), meanb(dev, k.c), invb(dev, k.c), out(dev, total + k.shift), s1b(dev, k.c),
        s2b(dev, k.c);
    const int64_t need = cuda() ? cuda::batch_norm_workspace(s) : 0;
    Buffer ws(dev, std::max<int64_t>(need, 1));
    BatchNormRunning running{rmb.data(), rvb.data(), momentum};
    const float* wp = k.affine ? wb.data() : nullptr;
    const float* bp = k.affine ? bb.data() : nullptr;
    if (cuda()) {
      cuda::batch_norm_stats(xb.data(k.shift), s, eps, meanb.data(), invb.data(), running,
                             ws.data(), need, nullptr);
    } else {
      cpu::batch_norm_stats(xb.data(k.shift), s, eps, meanb.data(), invb.data(), running);
    }
    sync();
    EXPECT_TRUE(close(meanb.download(k.c), mean, 1e-5, 1e-5)) << "mean";
    EXPECT_TRUE(close(invb.download(k.c), invstd, 1e-5, 1e-4)) << "invstd";
    EXPECT_TRUE(close(rmb.download(k.c), rm, 1e-5, 1e-5)) << "running_mean";
    EXPECT_TRUE(close(rvb.download(k.c), rv, 1e-5, 1e-4)) << "running_var";

    // The remaining launchers read the reference statistics, so each is checked on its own.
    std::vector<float> mean_f(mean.begin(), mean.end()), inv_f(invstd.begin(), invstd.end());
    meanb.upload(mean_f);
    invb.upload(inv_f);
    if (cuda()) {
      cuda::batch_norm_forward(xb.data(k.shift), meanb.data(), invb.data(), wp, bp,
                               out.data(k.shift), s, nullptr);
    } else {
      cpu::batch_norm_forward(xb.data(k.shift), meanb.data(), invb.data(), wp, bp,
                              out.data(k.shift), s);
    }
    sync();
    EXPECT_TRUE(close(out.download(total, k.shift), y, 1e-5, 1e-5)) << "forward";

    if (cuda()) {
      cuda::batch_norm_backward_reduce(dyb.data(k.shift), xb.data(k.shift), meanb.data(),
                                       invb.data(), s1b.data(), s2b.data(), s, ws.data(), need,
                                       nullptr);
    } else {
      cpu::batch_norm_backward_reduce(dyb.data(k.shift), xb.data(k.shift), meanb.data(),
                                      invb.data(), s1b.data(), s2b.data(), s);
    }
    sync();
    EXPECT_TRUE(close(s1b.download(k.c), sdy, 1e-4, 1e-4)) << "sum_dy";
    EXPECT_TRUE(close(s2b.download(k.c), sdyx, 1e-4, 1e-4)) << "sum_dy_xhat";

    std::vector<float> s1f(sdy.begin(), sdy.end()), s2f(sdyx.begin(), sdyx.end());
    s1b.upload(s1f);
    s2b.upload(s2f);
    if (cuda()) {
      cuda::batch_norm_backward_input(dyb.data(k.shift), xb.data(k.shift), meanb.data(),
                                      invb.data(), wp, s1b.data(), s2b.data(), out.data(k.shift), s,
                                      nullptr);
    } else {
      cpu::batch_norm_backward_input(dyb.data(k.shift), xb.data(k.shift), meanb.data(), invb.data(),
                                     wp, s1b.data(), s2b.data(), out.data(k.shift), s);
    }
    sync();
    EXPECT_TRUE(close(out.download(total, k.shift), dx, 1e-4, 1e-4)) << "backward_input";
  }
};

TEST_P(BatchNormKernelTest, MatchesReference) {
  const Case cases[] = {
      {4, 3, 16, 0, true},    // float4 path
      {3, 5, 7, 0, true},     // odd HW: scalar path
      {2, 4, 8, 1, false},    // misaligned: scalar path, no affine
      {5, 2, 1, 0, true},     // HW = 1 (a batch of vectors)
      {1, 1, 1200, 0, true},  // one long channel: every thread of the block loops
      {2, 6, 4, 3, false},
  };
  for (const Case& c : cases)
    check(c);
}

TEST_P(BatchNormKernelTest, MoreChannelsThanBlocks) {
  // 132 * 8 * 4 blocks at most: channel blocks grid-stride over the rest.
  check({2, 4300, 2, 0, true});
}

// Few channels of many values: on CUDA each channel is cut into slices (float4 and scalar, the
// last slice shorter), and the last block of a channel combines them.
TEST_P(BatchNormKernelTest, LongChannelsSplitAcrossBlocks) {
  const Case cases[] = {
      {8, 2, 4096, 0, true},    // float4: 2 slices per channel
      {5, 1, 10004, 0, true},   // float4: 3 slices, the last one shorter
      {2, 2, 24577, 0, false},  // scalar (odd HW): 12 slices
  };
  for (const Case& c : cases) {
    if (cuda()) {
      EXPECT_GT(cuda::batch_norm_splits({c.n, c.c, c.hw}), 1) << describe(c);
    }
    check(c);
  }
}

TEST_P(BatchNormKernelTest, EmptyChannelsIsANoOp) {
  const BatchNormShape s{2, 0, 4};
  if (cuda()) {
    EXPECT_NO_THROW(
        cuda::batch_norm_stats(nullptr, s, 1e-5f, nullptr, nullptr, {}, nullptr, 0, nullptr));
  } else {
    EXPECT_NO_THROW(cpu::batch_norm_stats(nullptr, s, 1e-5f, nullptr, nullptr, {}));
  }
}

TEST_P(BatchNormKernelTest, RejectsBadArguments) {
  const Dev dev = GetParam();
  Buffer x(dev, 8), mean(dev, 2), invstd(dev, 2), rv(dev, 2);
  auto stats = [&](const BatchNormShape& s, float eps, const BatchNormRunning& r) {
    if (cuda()) {
      cuda::batch_norm_stats(x.data(), s, eps, mean.data(), invstd.data(), r, nullptr, 0, nullptr);
    } else {
      cpu::batch_norm_stats(x.data(), s, eps, mean.data(), invstd.data(), r);
    }
  };
  EXPECT_THAT(error_of([&] {
                stats({1, 2, 1}, 1e-5f, {nullptr, rv.data(), 0.1f});
              }),
              HasSubstr("batch_norm_stats: expected more than one value per channel to update "
                        "running_var with the unbiased variance, got 1"));
  EXPECT_THAT(error_of([&] {
                stats({0, 2, 4}, 1e-5f, {});
              }),
              HasSubstr("expected at least one value per channel, got N = 0 and HW = 4"));
  EXPECT_THAT(error_of([&] {
                stats({2, -1, 4}, 1e-5f, {});
              }),
              HasSubstr("batch_norm_stats: expected non-negative sizes, got [2, -1, 4]"));
  EXPECT_THAT(error_of([&] {
                stats({2, 2, 2}, -1.f, {});
              }),
              HasSubstr("expected eps >= 0, got -1"));
  if (cuda()) {
    // A split shape without its workspace (the buffers are never read: the check comes first).
    const BatchNormShape split{8, 2, 4096};
    ASSERT_GT(cuda::batch_norm_workspace(split), 0);
    EXPECT_THAT(error_of([&] {
                  cuda::batch_norm_stats(x.data(), split, 1e-5f, mean.data(), invstd.data(), {},
                                         nullptr, 0, nullptr);
                }),
                HasSubstr("batch_norm_stats: expected a workspace of at least " +
                          std::to_string(cuda::batch_norm_workspace(split)) +
                          " floats for [8, 2, 4096], got 0 (null)"));
  }
  const std::string msg = error_of([&] {
    if (cuda()) {
      cuda::batch_norm_backward_input(x.data(), x.data(), mean.data(), invstd.data(), nullptr,
                                      nullptr, mean.data(), x.data(), {2, 2, 2}, nullptr);
    } else {
      cpu::batch_norm_backward_input(x.data(), x.data(), mean.data(), invstd.data(), nullptr,
                                     nullptr, mean.data(), x.data(), {2, 2, 2});
    }
  });
  EXPECT_THAT(msg, HasSubstr("batch_norm_backward_input: expected non-null dy, x, mean, invstd, "
                             "sums and output"));
}

GE_INSTANTIATE_KERNEL_TEST(BatchNormKernelTest);

// The CPU loops give the same bits on each instruction set (their sums run in the same lanes on
// every set); the values are checked against the reference above on the widest set. 64 rows of
// 513 (lanes, vectors and a tail), enough to spread over the team.
TEST(BatchNormCpuIsa, SameBitsOnEachInstructionSet) {
  const BatchNormShape s{4, 16, 513};
  const std::vector<float> x = lcg(s.numel(), 51, -2.f, 3.f), dy = lcg(s.numel(), 52);
  const std::vector<float> weight = lcg(s.c, 53), bias = lcg(s.c, 54);
  const auto run = [&] {
    std::vector<float> mean(s.c), invstd(s.c), running_mean(s.c, 0.5f), running_var(s.c, 2.f);
    std::vector<float> y(x.size()), sum_dy(s.c), sum_dy_xhat(s.c), dx(x.size());
    BatchNormRunning running;
    running.mean = running_mean.data();
    running.var = running_var.data();
    running.momentum = 0.1f;
    cpu::batch_norm_stats(x.data(), s, 1e-5f, mean.data(), invstd.data(), running);
    cpu::batch_norm_forward(x.data(), mean.data(), invstd.data(), weight.data(), bias.data(),
                            y.data(), s);
    cpu::batch_norm_backward_reduce(dy.data(), x.data(), mean.data(), invstd.data(), sum_dy.data(),
                                    sum_dy_xhat.data(), s);
    cpu::batch_norm_backward_input(dy.data(), x.data(), mean.data(), invstd.data(), weight.data(),
                                   sum_dy.data(), sum_dy_xhat.data(), dx.data(), s);
    return std::vector<std::vector<float>>{mean, invstd, running_mean, running_var,
                                           y,    sum_dy, sum_dy_xhat,  dx};
  };
  std::vector<std::vector<float>> first;
  on_each_cpu_isa([&](cpu::CpuIsa) {
    const auto got = run();
    if (first.empty()) first = got;
    for (size_t i = 0; i < first.size(); ++i)
      EXPECT_EQ(got[i], first[i]) << "output " << i << " against the scalar set";
  });
}

}  // namespace
}  // namespace ge::kernels::testing
