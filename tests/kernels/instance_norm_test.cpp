// instance_norm launchers on cpu and cuda against double references: the forward's statistics
// and output, the backward's dx with and without the parameter gradients, and dweight/dbias
// summed over the batch (CUDA: directly for N = 1, through the workspace and per-channel tickets
// otherwise), on the float4 path (HW % 4 == 0, aligned), the scalar path (odd HW, or a misaligned
// buffer), planes far from zero, and more planes than the CUDA grid has blocks.
#include "ganengine/kernels/instance_norm.h"

#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

struct Case {
  int64_t n, c, hw;
  int64_t shift;  // of x, dy and the outputs: 1..3 forces the scalar path
  bool affine;
  float offset = 0.f;  // added to x: the one-pass statistics must not cancel
};

std::string describe(const Case& c) {
  return "[" + std::to_string(c.n) + "," + std::to_string(c.c) + "," + std::to_string(c.hw) +
         "] shift " + std::to_string(c.shift) + " affine " + std::to_string(c.affine) + " offset " +
         std::to_string(c.offset);
}

struct Ref {
  std::vector<double> mean, rstd, y, dx, dw, db;
};

Ref reference(const Case& k, const std::vector<float>& x, const std::vector<float>& dy,
              const std::vector<float>& w, const std::vector<float>& b, double eps) {
  Ref r;
  const size_t planes = static_cast<size_t>(k.n * k.c);
  r.mean.resize(planes);
  r.rstd.resize(planes);
  r.y.resize(x.size());
  r.dx.resize(x.size());
  r.dw.assign(static_cast<size_t>(k.c), 0.0);
  r.db.assign(static_cast<size_t>(k.c), 0.0);
  for (int64_t n = 0; n < k.n; ++n) {
    for (int64_t c = 0; c < k.c; ++c) {
      const size_t p = static_cast<size_t>(n * k.c + c), base = p * static_cast<size_t>(k.hw);
      double sum = 0;
      for (int64_t j = 0; j < k.hw; ++j)
        sum += x[base + j];
      const double mean = sum / k.hw;
      double sq = 0;
      for (int64_t j = 0; j < k.hw; ++j)
        sq += (x[base + j] - mean) * (x[base + j] - mean);
      const double rstd = 1.0 / std::sqrt(sq / k.hw + eps);
      const double wc = k.affine ? w[c] : 1.0, bc = k.affine ? b[c] : 0.0;
      double sdy = 0, sdyx = 0;
      for (int64_t j = 0; j < k.hw; ++j) {
        const double xh = (x[base + j] - mean) * rstd;
        r.y[base + j] = xh * wc + bc;
        sdy += dy[base + j];
        sdyx += dy[base + j] * xh;
      }
      for (int64_t j = 0; j < k.hw; ++j) {
        const double xh = (x[base + j] - mean) * rstd;
        r.dx[base + j] = wc * rstd * (dy[base + j] - sdy / k.hw - xh * sdyx / k.hw);
      }
      r.mean[p] = mean;
      r.rstd[p] = rstd;
      r.dw[static_cast<size_t>(c)] += sdyx;
      r.db[static_cast<size_t>(c)] += sdy;
    }
  }
  return r;
}

class InstanceNormKernelTest : public KernelTest {
 protected:
  void forward(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd,
               const InstanceNormShape& s, float eps) {
    launch([&] { cuda::instance_norm_forward(x, w, b, y, mean, rstd, s, eps, nullptr); },
           [&] { cpu::instance_norm_forward(x, w, b, y, mean, rstd, s, eps); });
  }

  // The CUDA workspace starts out as garbage: the launcher must not rely on its contents.
  void backward(const float* dy, const float* x, const float* mean, const float* rstd,
                const float* w, float* dx, float* dw, float* db, const InstanceNormShape& s) {
    const bool params = dw != nullptr || db != nullptr;
    const int64_t need = cuda() ? cuda::instance_norm_backward_workspace(s, params) : 0;
    Buffer ws(GetParam(), std::vector<float>(static_cast<size_t>(need), 7.5f));
    launch(
        [&] {
          cuda::instance_norm_backward(dy, x, mean, rstd, w, dx, dw, db, s, ws.data(), need,
                                       nullptr);
        },
        [&] { cpu::instance_norm_backward(dy, x, mean, rstd, w, dx, dw, db, s); });
  }

  void check(const Case& k) {
    SCOPED_TRACE(describe(k));
    const Dev dev = GetParam();
    const InstanceNormShape s{k.n, k.c, k.hw};
    const int64_t total = s.numel(), planes = s.planes();
    const float eps = 1e-3f;
    std::vector<float> x = lcg(total, 31, -1.f, 1.f);
    for (float& v : x)
      v += k.offset;
    const std::vector<float> dy = lcg(total, 32), w = lcg(k.c, 33, 0.5f, 1.5f), b = lcg(k.c, 34);
    const Ref ref = reference(k, x, dy, w, b, eps);

    Buffer xb(dev, x, k.shift), dyb(dev, dy, k.shift), wb(dev, w), bb(dev, b), out(dev, total + 4),
        meanb(dev, planes), rstdb(dev, planes), dwb(dev, k.c), dbb(dev, k.c);
    const float* wp = k.affine ? wb.data() : nullptr;
    const float* bp = k.affine ? bb.data() : nullptr;
    forward(xb.data(k.shift), wp, bp, out.data(k.shift), meanb.data(), rstdb.data(), s, eps);
    EXPECT_TRUE(close(meanb.download(planes), ref.mean, 1e-5, 1e-5)) << "mean";
    EXPECT_TRUE(close(rstdb.download(planes), ref.rstd, 1e-5, 1e-4)) << "rstd";
    EXPECT_TRUE(close(out.download(total, k.shift), ref.y, 1e-4, 1e-4)) << "forward";

    // The backward reads the reference statistics, so that it is checked on its own.
    std::vector<float> mean_f(ref.mean.begin(), ref.mean.end());
    std::vector<float> rstd_f(ref.rstd.begin(), ref.rstd.end());
    meanb.upload(mean_f);
    rstdb.upload(rstd_f);
    backward(dyb.data(k.shift), xb.data(k.shift), meanb.data(), rstdb.data(), wp, out.data(k.shift),
             dwb.data(), dbb.data(), s);
    EXPECT_TRUE(close(out.download(total, k.shift), ref.dx, 1e-4, 1e-4)) << "dx";
    EXPECT_TRUE(close(dwb.download(k.c), ref.dw, 1e-4, 1e-4)) << "dweight";
    EXPECT_TRUE(close(dbb.download(k.c), ref.db, 1e-4, 1e-4)) << "dbias";

    Buffer dx_only(dev, total + 4);
    backward(dyb.data(k.shift), xb.data(k.shift), meanb.data(), rstdb.data(), wp,
             dx_only.data(k.shift), nullptr, nullptr, s);
    EXPECT_TRUE(close(dx_only.download(total, k.shift), ref.dx, 1e-4, 1e-4)) << "dx alone";
  }
};

TEST_P(InstanceNormKernelTest, MatchesReference) {
  const Case cases[] = {
      {2, 3, 16, 0, true},       // float4 path
      {3, 2, 15, 0, true},       // 3x5 planes: scalar path
      {2, 4, 8, 1, false},       // misaligned: scalar path, no affine
      {4, 3, 1, 0, true},        // 1x1 planes: y = bias, dx = 0
      {1, 3, 49, 0, true},       // N = 1: the parameter gradients need no workspace
      {1, 2, 4096, 0, true},     // 64x64 planes: every thread of the block loops
      {2, 2, 1200, 3, false},    // long scalar planes
      {40, 2, 9, 0, true},       // more planes per channel than a warp adds
      {3, 2, 64, 0, true, 5.f},  // an offset far from zero
      {2, 3, 25, 2, true, 100.f},
  };
  for (const Case& c : cases)
    check(c);
}

TEST_P(InstanceNormKernelTest, MorePlanesThanBlocks) {
  // 132 * 8 * 4 blocks at most: plane blocks grid-stride over the rest, and a block may draw
  // tickets for several channels.
  check({3, 1500, 4, 0, true});
}

TEST_P(InstanceNormKernelTest, RepeatedBackwardIsBitwiseEqual) {
  const Dev dev = GetParam();
  const InstanceNormShape s{6, 5, 36};
  const std::vector<float> x = lcg(s.numel(), 41), dy = lcg(s.numel(), 42),
                           w = lcg(s.c, 43, 0.5f, 1.5f);
  Buffer xb(dev, x), dyb(dev, dy), wb(dev, w), y(dev, s.numel()), mean(dev, s.planes()),
      rstd(dev, s.planes()), dx(dev, s.numel()), dw(dev, s.c), db(dev, s.c);
  forward(xb.data(), wb.data(), nullptr, y.data(), mean.data(), rstd.data(), s, 1e-5f);
  std::vector<std::vector<float>> runs;
  for (int i = 0; i < 3; ++i) {
    backward(dyb.data(), xb.data(), mean.data(), rstd.data(), wb.data(), dx.data(), dw.data(),
             db.data(), s);
    std::vector<float> all = dx.download(s.numel());
    for (float v : dw.download(s.c))
      all.push_back(v);
    for (float v : db.download(s.c))
      all.push_back(v);
    runs.push_back(all);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
}

TEST_P(InstanceNormKernelTest, EmptyBatchGivesZeroParameterGradients) {
  const Dev dev = GetParam();
  const InstanceNormShape s{0, 3, 4};
  Buffer dw(dev, std::vector<float>{1.f, 2.f, 3.f}), db(dev, std::vector<float>{4.f, 5.f, 6.f});
  forward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, s, 1e-5f);
  backward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, dw.data(), db.data(), s);
  EXPECT_TRUE(close(dw.download(3), {0, 0, 0}, 0, 0));
  EXPECT_TRUE(close(db.download(3), {0, 0, 0}, 0, 0));
}

TEST_P(InstanceNormKernelTest, RejectsBadArguments) {
  const Dev dev = GetParam();
  Buffer x(dev, 8), mean(dev, 2), rstd(dev, 2), dw(dev, 2);
  auto fwd = [&](const InstanceNormShape& s, float eps, float* y) {
    return error_of(
        [&] { forward(x.data(), nullptr, nullptr, y, mean.data(), rstd.data(), s, eps); });
  };
  EXPECT_THAT(fwd({1, 2, 4}, 0.f, x.data()),
              HasSubstr("instance_norm_forward: expected eps > 0, got 0"));
  EXPECT_THAT(fwd({1, 2, 4}, -1.f, x.data()), HasSubstr("expected eps > 0, got -1"));
  EXPECT_THAT(fwd({2, -1, 4}, 1e-5f, x.data()),
              HasSubstr("instance_norm_forward: expected non-negative sizes, got [2, -1, 4]"));
  EXPECT_THAT(fwd({2, 1, 0}, 1e-5f, x.data()),
              HasSubstr("expected at least one value per plane, got HW = 0 for 2 planes"));
  EXPECT_THAT(fwd({1, 2, 4}, 1e-5f, nullptr),
              HasSubstr("instance_norm_forward: expected non-null x, y, mean and rstd"));
  EXPECT_THAT(error_of([&] {
                backward(x.data(), x.data(), nullptr, rstd.data(), nullptr, x.data(), nullptr,
                         nullptr, {1, 2, 4});
              }),
              HasSubstr("instance_norm_backward: expected non-null dy, x, mean, rstd and dx"));
  if (cuda()) {
    const InstanceNormShape s{2, 2, 2};
    EXPECT_EQ(cuda::instance_norm_backward_workspace(s, true), 2 * 4 + 2);
    EXPECT_EQ(cuda::instance_norm_backward_workspace(s, false), 0);
    EXPECT_EQ(cuda::instance_norm_backward_workspace({1, 2, 2}, true), 0);
    EXPECT_THAT(error_of([&] {
                  cuda::instance_norm_backward(x.data(), x.data(), mean.data(), rstd.data(),
                                               nullptr, x.data(), dw.data(), nullptr, s, x.data(),
                                               9, nullptr);
                }),
                HasSubstr("instance_norm_backward: expected a workspace of at least 10 floats for "
                          "[2, 2, 2], got 9"));
  }
}

GE_INSTANTIATE_KERNEL_TEST(InstanceNormKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
