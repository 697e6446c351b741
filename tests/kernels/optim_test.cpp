// Multi-tensor Adam/AdamW and EMA launchers on cpu and cuda against references in double written
// from PyTorch's update rule: lists longer than one launch's table, odd sizes, tensors spanning
// several chunks, misaligned buffers (the scalar path), empty tensors, several steps, and the
// argument errors.
#include "ganengine/kernels/optim.h"

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

struct AdamState {
  std::vector<double> p, m, v;
};

// One step of torch.optim.Adam (decoupled false) / AdamW (true), in double.
void adam_ref(AdamState& s, const std::vector<float>& grad, const AdamParams& o) {
  const double lr = o.lr, b1 = o.beta1, b2 = o.beta2, eps = o.eps, wd = o.weight_decay;
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(o.step));
  const double bc2 = 1.0 - std::pow(b2, static_cast<double>(o.step));
  for (size_t i = 0; i < s.p.size(); ++i) {
    double g = grad[i];
    if (o.decoupled_weight_decay) {
      s.p[i] *= 1.0 - lr * wd;
    } else {
      g += wd * s.p[i];
    }
    s.m[i] = b1 * s.m[i] + (1.0 - b1) * g;
    s.v[i] = b2 * s.v[i] + (1.0 - b2) * g * g;
    s.p[i] -= lr / bc1 * s.m[i] / (std::sqrt(s.v[i]) / std::sqrt(bc2) + eps);
  }
}

std::vector<double> widen(const std::vector<float>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// The buffers of one tensor on the device under test, with a shared shift (misaligned when
// non-zero) and the reference state.
struct AdamCase {
  int64_t n;
  int64_t shift;
  std::unique_ptr<Buffer> p, g, m, v;
  AdamState ref;
};

class OptimKernelTest : public KernelTest {
 protected:
  void adam(const AdamParams& p, const std::vector<AdamTensor>& t) {
    if (cuda()) {
      cuda::adam(p, t.data(), static_cast<int64_t>(t.size()), nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::adam(p, t.data(), static_cast<int64_t>(t.size()));
    }
  }
  void ema(float decay, const std::vector<EmaTensor>& t) {
    if (cuda()) {
      cuda::ema(decay, t.data(), static_cast<int64_t>(t.size()), nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::ema(decay, t.data(), static_cast<int64_t>(t.size()));
    }
  }

  // Runs `steps` Adam steps from step `first_step` over tensors of `sizes` (every third one
  // misaligned) and compares params and moments with the reference after each step.
  void check_adam(const std::vector<int64_t>& sizes, AdamParams o, int first_step, int steps) {
    const Dev dev = GetParam();
    std::vector<AdamCase> cases(sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
      AdamCase& c = cases[i];
      c.n = sizes[i];
      c.shift = i % 3 == 2 ? static_cast<int64_t>(1 + i % 3) : 0;
      const auto seed = static_cast<uint32_t>(100 + 7 * i);
      const std::vector<float> p = lcg(c.n, seed, -1.f, 1.f);
      // Moments as a run that had already taken steps: positive second moments.
      const std::vector<float> m = lcg(c.n, seed + 1, -0.1f, 0.1f);
      const std::vector<float> v = lcg(c.n, seed + 2, 0.f, 0.02f);
      c.p = std::make_unique<Buffer>(dev, p, c.shift);
      c.m = std::make_unique<Buffer>(dev, m, c.shift);
      c.v = std::make_unique<Buffer>(dev, v, c.shift);
      c.g = std::make_unique<Buffer>(dev, c.n + c.shift);
      c.ref = {widen(p), widen(m), widen(v)};
    }
    for (int s = 0; s < steps; ++s) {
      o.step = first_step + s;
      std::vector<AdamTensor> table;
      for (size_t i = 0; i < cases.size(); ++i) {
        AdamCase& c = cases[i];
        const std::vector<float> g = lcg(c.n, static_cast<uint32_t>(1000 * s + i), -1.f, 1.f);
        c.g->upload(g, c.shift);
        adam_ref(c.ref, g, o);
        table.push_back(
            {c.p->data(c.shift), c.g->data(c.shift), c.m->data(c.shift), c.v->data(c.shift), c.n});
      }
      adam(o, table);
      for (size_t i = 0; i < cases.size(); ++i) {
        const AdamCase& c = cases[i];
        SCOPED_TRACE("step " + std::to_string(o.step) + " tensor " + std::to_string(i) +
                     " of size " + std::to_string(c.n) + " shift " + std::to_string(c.shift));
        ASSERT_TRUE(close(c.p->download(c.n, c.shift), c.ref.p, 1e-6, 1e-5)) << "param";
        ASSERT_TRUE(close(c.m->download(c.n, c.shift), c.ref.m, 1e-7, 1e-5)) << "exp_avg";
        ASSERT_TRUE(close(c.v->download(c.n, c.shift), c.ref.v, 1e-9, 1e-5)) << "exp_avg_sq";
      }
    }
  }
};

// More tensors than one CUDA launch's table holds, odd sizes, several chunks of some tensors.
std::vector<int64_t> many_sizes() {
  std::vector<int64_t> sizes;
  const int64_t pattern[] = {1, 3, 4, 5, 17, 64, 127, 1023, 1025, 3001};
  for (int i = 0; sizes.size() < static_cast<size_t>(kAdamTensorsPerLaunch + 13); ++i)
    sizes.push_back(pattern[i % 10] + (i / 10));
  return sizes;
}

TEST_P(OptimKernelTest, AdamMatchesReference) {
  AdamParams o;
  o.lr = 1e-2f;
  check_adam(many_sizes(), o, 1, 3);
}

TEST_P(OptimKernelTest, AdamL2WeightDecay) {
  AdamParams o;
  o.lr = 2e-3f;
  o.beta1 = 0.5f;
  o.beta2 = 0.99f;
  o.weight_decay = 0.1f;
  check_adam({5, 1030, 7, 64}, o, 1, 3);
}

TEST_P(OptimKernelTest, AdamWDecoupledWeightDecay) {
  AdamParams o;
  o.lr = 1e-2f;
  o.beta1 = 0.f;  // StyleGAN2's Adam betas (0, 0.99)
  o.beta2 = 0.99f;
  o.eps = 1e-6f;
  o.weight_decay = 0.5f;
  o.decoupled_weight_decay = true;
  check_adam({5, 1030, 7, 64}, o, 1, 3);
}

TEST_P(OptimKernelTest, AdamOnEveryInstructionSet) {
  // The CPU loops of each instruction set, with a tensor large enough to spread over threads.
  if (cuda()) GTEST_SKIP() << "the CPU's instruction sets";
  on_each_cpu_isa([&](cpu::CpuIsa) {
    AdamParams o;
    o.lr = 2e-3f;
    o.weight_decay = 0.1f;
    check_adam({5, 70001}, o, 1, 2);
    o.decoupled_weight_decay = true;
    check_adam({17, 40000}, o, 3, 2);
  });
}

// Every CPU optimizer loop gives the same bits on each instruction set (the AVX-512 ones keep
// the scalar order of operations); their values are checked against references above and in
// optim_rmsprop_test.cpp on the widest set.
TEST(OptimCpuIsa, EveryLoopGivesTheSameBitsOnEachInstructionSet) {
  const int64_t n = 70001;
  struct Result {
    std::vector<float> adam_p, adam_m, adam_v, rms_p, rms_v, clamped, average;
  };
  const auto run = [&] {
    Result r;
    r.adam_p = lcg(n, 1, -1.f, 1.f), r.adam_m = lcg(n, 2, -0.1f, 0.1f);
    r.adam_v = lcg(n, 3, 0.f, 0.02f);
    const std::vector<float> g = lcg(n, 4, -1.f, 1.f), src = lcg(n, 5, -1.f, 1.f);
    AdamParams a;
    a.lr = 1e-2f, a.weight_decay = 0.05f, a.step = 3;
    const AdamTensor at{r.adam_p.data(), g.data(), r.adam_m.data(), r.adam_v.data(), n};
    cpu::adam(a, &at, 1);
    r.rms_p = lcg(n, 6, -1.f, 1.f), r.rms_v = lcg(n, 7, 0.f, 0.02f);
    RmspropParams rp;
    rp.lr = 1e-2f, rp.weight_decay = 0.05f;
    const RmspropTensor rt{r.rms_p.data(), g.data(), r.rms_v.data(), n};
    cpu::rmsprop(rp, &rt, 1);
    r.clamped = lcg(n, 8, -2.f, 2.f);
    const InPlaceTensor ct{r.clamped.data(), n};
    cpu::clamp(-0.5f, 0.75f, &ct, 1);
    r.average = lcg(n, 9, -1.f, 1.f);
    const EmaTensor et{r.average.data(), src.data(), n};
    cpu::ema(0.99f, &et, 1);
    return r;
  };
  std::optional<Result> first;
  on_each_cpu_isa([&](cpu::CpuIsa) {
    const Result r = run();
    if (!first) first = r;
    EXPECT_EQ(r.adam_p, first->adam_p);
    EXPECT_EQ(r.adam_m, first->adam_m);
    EXPECT_EQ(r.adam_v, first->adam_v);
    EXPECT_EQ(r.rms_p, first->rms_p);
    EXPECT_EQ(r.rms_v, first->rms_v);
    EXPECT_EQ(r.clamped, first->clamped);
    EXPECT_EQ(r.average, first->average);
  });
}

TEST_P(OptimKernelTest, AdamLateStepBiasCorrection) {
  AdamParams o;
  o.lr = 1e-3f;
  check_adam({33, 2050}, o, 1000, 2);
}

// Enough elements that the CUDA launcher picks chunks above its minimum.
TEST_P(OptimKernelTest, AdamLargeTensors) {
  AdamParams o;
  o.lr = 1e-2f;
  check_adam({700001, 500003}, o, 1, 1);
}

TEST_P(OptimKernelTest, AdamSkipsEmptyTensors) {
  AdamParams o;
  check_adam({0, 5, 0, 0, 9}, o, 1, 1);
  EXPECT_NO_THROW(adam(o, {}));
}

TEST_P(OptimKernelTest, EmaMatchesReference) {
  const Dev dev = GetParam();
  std::vector<int64_t> sizes;
  for (int i = 0; i < kEmaTensorsPerLaunch + 9; ++i)
    sizes.push_back(1 + (i * 37) % 1500);
  sizes[3] = 0;
  for (float decay : {0.999f, 0.5f, 0.f, 1.f}) {
    SCOPED_TRACE("decay " + std::to_string(decay));
    std::vector<std::unique_ptr<Buffer>> avg, src;
    std::vector<std::vector<double>> want;
    std::vector<EmaTensor> table;
    for (size_t i = 0; i < sizes.size(); ++i) {
      const int64_t n = sizes[i], shift = static_cast<int64_t>(i % 4);
      const std::vector<float> a = lcg(n, static_cast<uint32_t>(i), -2.f, 2.f);
      const std::vector<float> s = lcg(n, static_cast<uint32_t>(i + 500), -2.f, 2.f);
      avg.push_back(std::make_unique<Buffer>(dev, a, shift));
      // Source and average misaligned differently for some tensors: the scalar path.
      const int64_t src_shift = i % 5 == 0 ? (shift + 1) % 4 : shift;
      src.push_back(std::make_unique<Buffer>(dev, s, src_shift));
      std::vector<double> w(static_cast<size_t>(n));
      for (size_t k = 0; k < w.size(); ++k)
        w[k] = s[k] + static_cast<double>(decay) * (static_cast<double>(a[k]) - s[k]);
      want.push_back(w);
      table.push_back({avg.back()->data(shift), src.back()->data(src_shift), n});
    }
    ema(decay, table);
    for (size_t i = 0; i < sizes.size(); ++i) {
      SCOPED_TRACE("tensor " + std::to_string(i));
      ASSERT_TRUE(
          close(avg[i]->download(sizes[i], static_cast<int64_t>(i % 4)), want[i], 1e-6, 1e-6));
    }
  }
}

TEST_P(OptimKernelTest, RejectsBadArguments) {
  Buffer a(GetParam(), 8), b(GetParam(), 8), c(GetParam(), 8), d(GetParam(), 8);
  const std::vector<AdamTensor> t = {{a.data(), b.data(), c.data(), d.data(), 8}};
  AdamParams o;
  o.step = 0;
  EXPECT_THAT(error_of([&] { adam(o, t); }), HasSubstr("adam: expected step >= 1"));
  o.step = 1;
  o.beta1 = 1.f;
  EXPECT_THAT(error_of([&] { adam(o, t); }), HasSubstr("expected beta1 in [0, 1), got 1"));
  o.beta1 = 0.9f;
  o.beta2 = -0.1f;
  EXPECT_THAT(error_of([&] { adam(o, t); }), HasSubstr("expected beta2 in [0, 1), got -0.1"));
  o.beta2 = 0.999f;
  o.lr = -1.f;
  EXPECT_THAT(error_of([&] { adam(o, t); }), HasSubstr("expected lr >= 0, got -1"));
  o.lr = NAN;
  EXPECT_THAT(error_of([&] { adam(o, t); }), HasSubstr("expected lr >= 0, got nan"));
  o.lr = 1e-3f;
  o.weight_decay = -0.5f;
  EXPECT_THAT(error_of([&] { adam(o, t); }), HasSubstr("expected weight_decay >= 0"));
  o.weight_decay = 0.f;
  o.eps = -1.f;
  EXPECT_THAT(error_of([&] { adam(o, t); }), HasSubstr("expected eps >= 0"));
  o.eps = 1e-8f;
  const std::vector<AdamTensor> missing = {{a.data(), nullptr, c.data(), d.data(), 8}};
  EXPECT_THAT(error_of([&] { adam(o, missing); }),
              HasSubstr("expected non-null param, grad, exp_avg and exp_avg_sq for tensor 0"));
  const std::vector<AdamTensor> negative = {{a.data(), b.data(), c.data(), d.data(), -2}};
  EXPECT_THAT(error_of([&] { adam(o, negative); }),
              HasSubstr("expected n >= 0 for tensor 0, got -2"));

  const std::vector<EmaTensor> e = {{a.data(), b.data(), 8}};
  EXPECT_THAT(error_of([&] { ema(1.5f, e); }), HasSubstr("ema: expected decay in [0, 1], got 1.5"));
  EXPECT_THAT(error_of([&] { ema(NAN, e); }), HasSubstr("expected decay in [0, 1], got nan"));
  const std::vector<EmaTensor> null_src = {{a.data(), nullptr, 8}};
  EXPECT_THAT(error_of([&] { ema(0.5f, null_src); }),
              HasSubstr("expected non-null average and source for tensor 0"));
}

GE_INSTANTIATE_KERNEL_TEST(OptimKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
