// Multi-tensor RMSprop and clamp (weight clipping) launchers on cpu and cuda against references
// in double written from PyTorch's update rule: lists longer than one launch's table, odd sizes,
// tensors spanning several chunks, misaligned buffers (the scalar path), empty tensors, several
// steps, NaN kept by the clamp, and the argument errors.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/kernels/optim.h"
#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

// One step of torch.optim.RMSprop (momentum 0, centered false), in double.
void rmsprop_ref(std::vector<double>& p, std::vector<double>& v, const std::vector<float>& grad,
                 const RmspropParams& o) {
  for (size_t i = 0; i < p.size(); ++i) {
    const double g = grad[i] + static_cast<double>(o.weight_decay) * p[i];
    v[i] = o.alpha * v[i] + (1.0 - o.alpha) * g * g;
    p[i] -= o.lr * g / (std::sqrt(v[i]) + o.eps);
  }
}

// Tensor counts past one launch's table, odd sizes, and some tensors of several chunks.
std::vector<int64_t> sizes_past(int per_launch) {
  std::vector<int64_t> sizes;
  const int64_t pattern[] = {1, 3, 4, 5, 17, 64, 127, 1023, 1025, 3001};
  for (int i = 0; sizes.size() < static_cast<size_t>(per_launch + 11); ++i)
    sizes.push_back(pattern[i % 10] + (i / 10));
  return sizes;
}

class OptimRmspropKernelTest : public KernelTest {
 protected:
  void rmsprop(const RmspropParams& p, const std::vector<RmspropTensor>& t) {
    if (cuda()) {
      cuda::rmsprop(p, t.data(), static_cast<int64_t>(t.size()), nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::rmsprop(p, t.data(), static_cast<int64_t>(t.size()));
    }
  }
  void clamp(float lo, float hi, const std::vector<InPlaceTensor>& t) {
    if (cuda()) {
      cuda::clamp(lo, hi, t.data(), static_cast<int64_t>(t.size()), nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::clamp(lo, hi, t.data(), static_cast<int64_t>(t.size()));
    }
  }

  // `steps` RMSprop steps over tensors of `sizes` (every third one misaligned), compared with
  // the reference after each.
  void check_rmsprop(const std::vector<int64_t>& sizes, const RmspropParams& o, int steps) {
    const Dev dev = GetParam();
    struct Case {
      int64_t n, shift;
      std::unique_ptr<Buffer> p, g, v;
      std::vector<double> ref_p, ref_v;
    };
    std::vector<Case> cases(sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
      Case& c = cases[i];
      c.n = sizes[i];
      c.shift = i % 3 == 2 ? static_cast<int64_t>(1 + i % 3) : 0;
      const auto seed = static_cast<uint32_t>(300 + 11 * i);
      const std::vector<float> p = lcg(c.n, seed, -1.f, 1.f);
      const std::vector<float> v = lcg(c.n, seed + 1, 0.f, 0.02f);  // as after some steps
      c.p = std::make_unique<Buffer>(dev, p, c.shift);
      c.v = std::make_unique<Buffer>(dev, v, c.shift);
      c.g = std::make_unique<Buffer>(dev, c.n + c.shift);
      c.ref_p.assign(p.begin(), p.end());
      c.ref_v.assign(v.begin(), v.end());
    }
    for (int s = 0; s < steps; ++s) {
      std::vector<RmspropTensor> table;
      for (size_t i = 0; i < cases.size(); ++i) {
        Case& c = cases[i];
        std::vector<float> g = lcg(c.n, static_cast<uint32_t>(2000 * s + i), -1.f, 1.f);
        if (c.n > 1) g[0] = 0.f;  // a zero gradient: the step is 0 whatever square_avg holds
        c.g->upload(g, c.shift);
        rmsprop_ref(c.ref_p, c.ref_v, g, o);
        table.push_back({c.p->data(c.shift), c.g->data(c.shift), c.v->data(c.shift), c.n});
      }
      rmsprop(o, table);
      for (size_t i = 0; i < cases.size(); ++i) {
        const Case& c = cases[i];
        SCOPED_TRACE("step " + std::to_string(s + 1) + " tensor " + std::to_string(i) +
                     " of size " + std::to_string(c.n) + " shift " + std::to_string(c.shift));
        ASSERT_TRUE(close(c.p->download(c.n, c.shift), c.ref_p, 1e-6, 1e-5)) << "param";
        ASSERT_TRUE(close(c.v->download(c.n, c.shift), c.ref_v, 1e-9, 1e-5)) << "square_avg";
      }
    }
  }
};

TEST_P(OptimRmspropKernelTest, RmspropMatchesReference) {
  RmspropParams o;
  o.lr = 5e-5f;  // the WGAN paper's
  check_rmsprop(sizes_past(kRmspropTensorsPerLaunch), o, 3);
}

TEST_P(OptimRmspropKernelTest, RmspropWeightDecayAndFirstStep) {
  RmspropParams o;
  o.lr = 1e-2f;
  o.alpha = 0.9f;
  o.eps = 1e-6f;
  o.weight_decay = 0.1f;
  check_rmsprop({5, 1030, 7, 64}, o, 3);
}

// Enough elements that the CUDA launcher picks chunks above its minimum.
TEST_P(OptimRmspropKernelTest, RmspropLargeTensorsAndEmptyOnes) {
  RmspropParams o;
  check_rmsprop({700001, 0, 500003, 0}, o, 1);
  EXPECT_NO_THROW(rmsprop(o, {}));
}

TEST_P(OptimRmspropKernelTest, ClampClipsEveryTensorAndKeepsNaN) {
  const Dev dev = GetParam();
  std::vector<int64_t> sizes = sizes_past(kClampTensorsPerLaunch);
  sizes[4] = 0;
  sizes.push_back(400001);  // several chunks
  const float c = 0.01f;
  std::vector<std::unique_ptr<Buffer>> buffers;
  std::vector<std::vector<double>> want;
  std::vector<InPlaceTensor> table;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t n = sizes[i], shift = static_cast<int64_t>(i % 4);
    std::vector<float> x = lcg(n, static_cast<uint32_t>(900 + i), -0.03f, 0.03f);
    if (n > 2) {
      x[1] = std::numeric_limits<float>::quiet_NaN();
      x[2] = -std::numeric_limits<float>::infinity();
    }
    std::vector<double> w(x.size());
    for (size_t k = 0; k < x.size(); ++k)
      w[k] = std::isnan(x[k]) ? x[k] : std::min<double>(std::max<double>(x[k], -c), c);
    buffers.push_back(std::make_unique<Buffer>(dev, x, shift));
    want.push_back(w);
    table.push_back({buffers.back()->data(shift), n});
  }
  clamp(-c, c, table);
  for (size_t i = 0; i < sizes.size(); ++i) {
    SCOPED_TRACE("tensor " + std::to_string(i) + " of size " + std::to_string(sizes[i]));
    ASSERT_TRUE(close(buffers[i]->download(sizes[i], static_cast<int64_t>(i % 4)), want[i], 0, 0));
  }
}

TEST_P(OptimRmspropKernelTest, RejectsBadArguments) {
  Buffer a(GetParam(), 8), b(GetParam(), 8), c(GetParam(), 8);
  const std::vector<RmspropTensor> t = {{a.data(), b.data(), c.data(), 8}};
  RmspropParams o;
  o.alpha = 1.5f;
  EXPECT_THAT(error_of([&] { rmsprop(o, t); }),
              HasSubstr("rmsprop: expected alpha in [0, 1], got 1.5"));
  o.alpha = 0.99f;
  o.lr = NAN;
  EXPECT_THAT(error_of([&] { rmsprop(o, t); }), HasSubstr("expected lr >= 0, got nan"));
  o.lr = 1e-3f;
  o.eps = -1.f;
  EXPECT_THAT(error_of([&] { rmsprop(o, t); }), HasSubstr("expected eps >= 0, got -1"));
  o.eps = 1e-8f;
  o.weight_decay = -0.5f;
  EXPECT_THAT(error_of([&] { rmsprop(o, t); }), HasSubstr("expected weight_decay >= 0"));
  o.weight_decay = 0.f;
  const std::vector<RmspropTensor> missing = {{a.data(), b.data(), nullptr, 8}};
  EXPECT_THAT(error_of([&] { rmsprop(o, missing); }),
              HasSubstr("expected non-null param, grad and square_avg for tensor 0"));
  const std::vector<RmspropTensor> negative = {{a.data(), b.data(), c.data(), -3}};
  EXPECT_THAT(error_of([&] { rmsprop(o, negative); }),
              HasSubstr("expected n >= 0 for tensor 0, got -3"));

  const std::vector<InPlaceTensor> x = {{a.data(), 8}};
  EXPECT_THAT(error_of([&] { clamp(0.1f, -0.1f, x); }),
              HasSubstr("clamp: expected lo <= hi, got [0.1, -0.1]"));
  EXPECT_THAT(error_of([&] { clamp(NAN, 1.f, x); }), HasSubstr("expected lo <= hi, got [nan, 1]"));
  const std::vector<InPlaceTensor> null_data = {{nullptr, 8}};
  EXPECT_THAT(error_of([&] { clamp(-1.f, 1.f, null_data); }),
              HasSubstr("expected non-null data for tensor 0 of 8 elements"));
}

GE_INSTANTIATE_KERNEL_TEST(OptimRmspropKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
