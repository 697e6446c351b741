// CPU launchers give the same bits with 1, 2 and 3 OpenMP threads: every kernel that splits its
// work over the team (GEMMs, convolutions, reductions, normalisations, losses, the gradient
// penalty, optimizers) on shapes large enough to take its parallel path. A run resumed on a
// machine with another core count must reproduce the original bit for bit.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "cpu/threads.h"
#include "ganengine/kernels/batch_norm.h"
#include "ganengine/kernels/conv.h"
#include "ganengine/kernels/gradient_penalty.h"
#include "ganengine/kernels/instance_norm.h"
#include "ganengine/kernels/loss.h"
#include "ganengine/kernels/matmul.h"
#include "ganengine/kernels/minibatch_stddev.h"
#include "ganengine/kernels/optim.h"
#include "ganengine/kernels/reduce.h"
#include "ganengine/kernels/regression_loss.h"
#include "ganengine/kernels/spectral_norm.h"

namespace ge::kernels::testing {
namespace {

std::vector<float> uniform(int64_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v)
    x = dist(gen);
  return v;
}

void append(std::vector<float>& out, const std::vector<float>& v) {
  out.insert(out.end(), v.begin(), v.end());
}

class ThreadCountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu::openmp_enabled()) {
      GTEST_SKIP() << "built without OpenMP (GE_OPENMP=OFF): the kernels always run on one thread";
    }
    saved_ = cpu::thread_count();
  }
  void TearDown() override {
    if (saved_ > 0) cpu::set_thread_count(saved_);
  }

  // run() computes from fixed inputs and returns its outputs; they must not change, bit for
  // bit, with the team size.
  void expect_same_bits(const std::string& what, const std::function<std::vector<float>()>& run) {
    std::vector<float> one;
    for (int threads : {1, 2, 3}) {
      cpu::set_thread_count(threads);
      const std::vector<float> out = run();
      if (threads == 1) {
        one = out;
        continue;
      }
      ASSERT_EQ(out.size(), one.size()) << what;
      if (std::memcmp(out.data(), one.data(), out.size() * sizeof(float)) == 0) continue;
      size_t i = 0;
      while (std::memcmp(&out[i], &one[i], sizeof(float)) == 0)
        ++i;
      ADD_FAILURE() << what << ": " << threads << " threads differ from 1 thread, first at " << i
                    << " of " << out.size() << " (" << out[i] << " vs " << one[i] << ")";
    }
  }

 private:
  int saved_ = 0;
};

ConvShape conv_shape(int64_t batch, int64_t in_c, int64_t hw, int64_t out_c, int64_t k,
                     int64_t stride, int64_t pad, int64_t groups = 1) {
  ConvShape s;
  s.batch = batch;
  s.in_c = in_c;
  s.in_h = s.in_w = hw;
  s.out_c = out_c;
  s.kh = s.kw = k;
  s.stride_h = s.stride_w = stride;
  s.pad_h = s.pad_w = pad;
  s.groups = groups;
  s.out_h = s.out_w = (hw + 2 * pad - k) / stride + 1;
  return s;
}

// Above the convolutions' parallel threshold (2^21 multiply-adds): samples of one or several
// per GEMM, batches that the thread counts do not divide, groups, a single sample.
const ConvShape kConvShapes[] = {
    conv_shape(7, 8, 20, 16, 3, 1, 1),   // L = 400: one sample per GEMM
    conv_shape(16, 32, 8, 64, 4, 2, 1),  // L = 16: several samples per GEMM
    conv_shape(13, 64, 4, 96, 3, 1, 1),  // L = 16, deep
    conv_shape(5, 16, 16, 32, 3, 1, 1, 2),
    conv_shape(1, 32, 24, 64, 3, 1, 1),  // one sample: cpu::gemm splits each GEMM instead
};

std::string conv_name(const ConvShape& s) {
  return "batch " + std::to_string(s.batch) + " in_c " + std::to_string(s.in_c) + " hw " +
         std::to_string(s.in_h) + " out_c " + std::to_string(s.out_c) + " groups " +
         std::to_string(s.groups);
}

TEST_F(ThreadCountTest, Conv2dForward) {
  for (const ConvShape& s : kConvShapes) {
    const auto x = uniform(s.batch * s.in_c * s.in_h * s.in_w, 1);
    const auto w = uniform(s.out_c * s.in_c / s.groups * s.kh * s.kw, 2);
    const auto bias = uniform(s.out_c, 3);
    ConvEpilogue e;
    e.bias = bias.data();
    e.act = {.act = BiasActFn::LeakyRelu, .alpha = 0.2f, .gain = 1.f, .clamp = -1.f};
    expect_same_bits("conv2d " + conv_name(s), [&] {
      std::vector<float> y(static_cast<size_t>(s.batch * s.out_c * s.out_h * s.out_w));
      std::vector<float> ws(static_cast<size_t>(cpu::conv_workspace_floats(s)));
      cpu::conv2d_forward(s, x.data(), w.data(), e, y.data(), ws.data());
      return y;
    });
  }
}

TEST_F(ThreadCountTest, ConvTranspose2dForward) {
  for (const ConvShape& s : kConvShapes) {
    const auto y = uniform(s.batch * s.out_c * s.out_h * s.out_w, 4);
    const auto w = uniform(s.out_c * s.in_c / s.groups * s.kh * s.kw, 5);
    const auto bias = uniform(s.in_c, 6);
    ConvEpilogue e;
    e.bias = bias.data();
    e.act = {.act = BiasActFn::Relu, .alpha = 0.f, .gain = 1.f, .clamp = -1.f};
    expect_same_bits("conv_transpose2d " + conv_name(s), [&] {
      std::vector<float> x(static_cast<size_t>(s.batch * s.in_c * s.in_h * s.in_w));
      std::vector<float> ws(static_cast<size_t>(cpu::conv_workspace_floats(s)));
      cpu::conv_transpose2d_forward(s, y.data(), w.data(), e, x.data(), ws.data());
      return x;
    });
  }
}

TEST_F(ThreadCountTest, Conv2dWeightGradient) {
  for (const ConvShape& s : kConvShapes) {
    const auto x = uniform(s.batch * s.in_c * s.in_h * s.in_w, 7);
    const auto dy = uniform(s.batch * s.out_c * s.out_h * s.out_w, 8);
    expect_same_bits("conv2d_weight " + conv_name(s), [&] {
      std::vector<float> dw(static_cast<size_t>(s.out_c * s.in_c / s.groups * s.kh * s.kw));
      std::vector<float> ws(static_cast<size_t>(cpu::conv_workspace_floats(s)));
      cpu::conv2d_weight(s, x.data(), dy.data(), dw.data(), ws.data());
      return dw;
    });
  }
}

struct GemmCase {
  bool ta, tb;
  int64_t m, n, k, batch;
};

// Single products taller than wide and wider than tall, with sizes off every block multiple;
// products just above the threshold, whose parts would be small enough for OpenBLAS's
// small-matrix kernels; batches smaller and larger than the team.
const GemmCase kGemmCases[] = {
    {false, false, 301, 203, 97, 1}, {true, false, 45, 707, 64, 1},  {false, true, 260, 260, 33, 1},
    {true, true, 130, 70, 129, 1},   {false, false, 128, 96, 96, 1}, {false, false, 96, 200, 64, 1},
    {false, false, 128, 96, 96, 2},  {false, true, 67, 65, 80, 5},
};

TEST_F(ThreadCountTest, Gemm) {
  for (const GemmCase& c : kGemmCases) {
    const auto a = uniform(c.batch * c.m * c.k, 9);
    const auto b = uniform(c.batch * c.k * c.n, 10);
    const auto c0 = uniform(c.batch * c.m * c.n, 11);
    const std::string name = "gemm " + std::to_string(c.m) + "x" + std::to_string(c.n) + "x" +
                             std::to_string(c.k) + " batch " + std::to_string(c.batch);
    expect_same_bits(name, [&] {
      std::vector<float> out = c0;
      cpu::gemm(
          packed_gemm(c.ta, c.tb, c.m, c.n, c.k, a.data(), b.data(), out.data(), c.batch, 0.5f));
      return out;
    });
  }
}

TEST_F(ThreadCountTest, Reduce) {
  struct Case {
    int64_t outer, r, inner;
  };
  for (const Case c :
       {Case{300, 1000, 1}, Case{4, 1000, 37}, Case{2, 70000, 1}, Case{1, 600, 1500}}) {
    const auto x = uniform(c.outer * c.r * c.inner, 12);
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min}) {
      expect_same_bits(std::string("reduce ") + name(op), [&] {
        std::vector<float> y(static_cast<size_t>(c.outer * c.inner));
        cpu::reduce(op, x.data(), y.data(), c.outer, c.r, c.inner);
        return y;
      });
    }
  }
}

TEST_F(ThreadCountTest, BatchNorm) {
  const BatchNormShape s{.n = 16, .c = 24, .hw = 256};
  const auto x = uniform(s.numel(), 13);
  const auto dy = uniform(s.numel(), 14);
  const auto weight = uniform(s.c, 15, 0.5f, 1.5f);
  const auto bias = uniform(s.c, 16);
  expect_same_bits("batch_norm", [&] {
    std::vector<float> mean(24), invstd(24), rm(24, 0.f), rv(24, 1.f), y(s.numel()), sum_dy(24),
        sum_dy_xhat(24), dx(s.numel());
    cpu::batch_norm_stats(x.data(), s, 1e-5f, mean.data(), invstd.data(),
                          {.mean = rm.data(), .var = rv.data(), .momentum = 0.1f});
    cpu::batch_norm_forward(x.data(), mean.data(), invstd.data(), weight.data(), bias.data(),
                            y.data(), s);
    cpu::batch_norm_backward_reduce(dy.data(), x.data(), mean.data(), invstd.data(), sum_dy.data(),
                                    sum_dy_xhat.data(), s);
    cpu::batch_norm_backward_input(dy.data(), x.data(), mean.data(), invstd.data(), weight.data(),
                                   sum_dy.data(), sum_dy_xhat.data(), dx.data(), s);
    std::vector<float> out;
    for (const auto* v : {&mean, &invstd, &rm, &rv, &y, &sum_dy, &sum_dy_xhat, &dx})
      append(out, *v);
    return out;
  });
}

TEST_F(ThreadCountTest, InstanceNorm) {
  const InstanceNormShape s{.n = 6, .c = 20, .hw = 400};
  const auto x = uniform(s.numel(), 17);
  const auto dy = uniform(s.numel(), 18);
  const auto weight = uniform(s.c, 19, 0.5f, 1.5f);
  const auto bias = uniform(s.c, 20);
  expect_same_bits("instance_norm", [&] {
    std::vector<float> y(s.numel()), mean(s.planes()), rstd(s.planes()), dx(s.numel()),
        dx_only(s.numel()), dw(s.c), db(s.c);
    cpu::instance_norm_forward(x.data(), weight.data(), bias.data(), y.data(), mean.data(),
                               rstd.data(), s, 1e-5f);
    cpu::instance_norm_backward(dy.data(), x.data(), mean.data(), rstd.data(), weight.data(),
                                dx.data(), dw.data(), db.data(), s);
    cpu::instance_norm_backward(dy.data(), x.data(), mean.data(), rstd.data(), weight.data(),
                                dx_only.data(), nullptr, nullptr, s);
    std::vector<float> out;
    for (const auto* v : {&y, &mean, &rstd, &dx, &dx_only, &dw, &db})
      append(out, *v);
    return out;
  });
}

TEST_F(ThreadCountTest, Losses) {
  const int64_t n = 100003;
  const auto x = uniform(n, 21, -4.f, 4.f);
  const auto t = uniform(n, 22, 0.f, 1.f);
  const auto g = uniform(n, 23);
  expect_same_bits("losses", [&] {
    std::vector<float> out;
    for (LossReduction r : {LossReduction::None, LossReduction::Mean, LossReduction::Sum}) {
      const int64_t outs = r == LossReduction::None ? n : 1;
      std::vector<float> v(static_cast<size_t>(outs)), dx(static_cast<size_t>(n));
      const LogisticLossArgs la{.x = x.data(), .target = t.data(), .sign = 1.f, .n = n};
      cpu::logistic_loss(r, la, v.data());
      cpu::logistic_loss_backward(r, la, g.data(), dx.data());
      append(out, v);
      append(out, dx);
      for (RegressionLoss k : {RegressionLoss::Squared, RegressionLoss::Absolute}) {
        const RegressionLossArgs ra{.x = x.data(), .target = t.data(), .n = n};
        cpu::regression_loss(k, r, ra, v.data());
        cpu::regression_loss_backward(k, r, ra, g.data(), dx.data());
        append(out, v);
        append(out, dx);
      }
    }
    return out;
  });
}

TEST_F(ThreadCountTest, GradientPenalty) {
  const int64_t n = 16, d = 3 * 32 * 32;
  const auto real = uniform(n * d, 24);
  const auto fake = uniform(n * d, 25);
  const auto alpha = uniform(n, 26, 0.f, 1.f);
  expect_same_bits("gradient_penalty", [&] {
    std::vector<float> mixed(n * d), norms(n), out(1), dx(n * d);
    const float gout = 1.f;
    cpu::gradient_penalty_interpolate(real.data(), fake.data(), alpha.data(), mixed.data(), n, d);
    cpu::gradient_penalty_forward(mixed.data(), norms.data(), out.data(), n, d, 10.f);
    cpu::gradient_penalty_backward(mixed.data(), norms.data(), &gout, dx.data(), n, d, 10.f);
    std::vector<float> all;
    for (const auto* v : {&mixed, &norms, &out, &dx})
      append(all, *v);
    return all;
  });
}

TEST_F(ThreadCountTest, SpectralNorm) {
  const int64_t h = 256, w = 512;
  const auto mat = uniform(h * w, 27);
  const auto g = uniform(h * w, 28);
  const auto u0 = uniform(h, 29), v0 = uniform(w, 30);
  expect_same_bits("spectral_norm", [&] {
    std::vector<float> u = u0, v = v0, sigma(1), out(h * w), dw(h * w);
    SpectralNormArgs a;
    a.mat = a.weight = mat.data();
    a.u = u.data();
    a.v = v.data();
    a.sigma = sigma.data();
    a.out = out.data();
    a.h = h;
    a.w = w;
    a.n_iterations = 2;
    cpu::spectral_norm(a);
    SpectralNormGradArgs b;
    b.grad = g.data();
    b.mat = mat.data();
    b.u = u.data();
    b.v = v.data();
    b.sigma = sigma.data();
    b.out = dw.data();
    b.h = h;
    b.w = w;
    cpu::spectral_norm_grad(b);
    std::vector<float> all;
    for (const auto* x : {&u, &v, &sigma, &out, &dw})
      append(all, *x);
    return all;
  });
}

TEST_F(ThreadCountTest, MinibatchStddev) {
  const MinibatchStdShape s{.n = 16, .c = 64, .hw = 64, .group = 4, .channels = 2};
  const auto x = uniform(s.n * s.c * s.hw, 31);
  const auto dout = uniform(s.n * s.out_channels() * s.hw, 32);
  expect_same_bits("minibatch_stddev", [&] {
    std::vector<float> stats(s.slots() * s.channels), out(s.n * s.out_channels() * s.hw),
        gstats(s.slots() * s.channels), dx(s.n * s.c * s.hw);
    cpu::minibatch_stddev_stats(x.data(), stats.data(), s);
    cpu::minibatch_stddev_concat(x.data(), stats.data(), out.data(), s);
    cpu::minibatch_stddev_backward_reduce(dout.data(), gstats.data(), s);
    cpu::minibatch_stddev_backward_input(dout.data(), x.data(), gstats.data(), dx.data(), s);
    std::vector<float> all;
    for (const auto* v : {&stats, &out, &gstats, &dx})
      append(all, *v);
    return all;
  });
}

TEST_F(ThreadCountTest, Adam) {
  const int64_t n = 200000;
  const auto p0 = uniform(n, 33), g = uniform(n, 34);
  expect_same_bits("adam", [&] {
    std::vector<float> p = p0, m(n, 0.f), v(n, 0.f);
    const AdamTensor t{
        .param = p.data(), .grad = g.data(), .exp_avg = m.data(), .exp_avg_sq = v.data(), .n = n};
    for (int64_t step = 1; step <= 3; ++step) {
      AdamParams a;
      a.step = step;
      a.weight_decay = 0.01f;
      cpu::adam(a, &t, 1);
    }
    std::vector<float> all;
    for (const auto* x : {&p, &m, &v})
      append(all, *x);
    return all;
  });
}

}  // namespace
}  // namespace ge::kernels::testing
