// Factories, the Philox generator (reproducibility across devices, seeding, offsets, sample
// statistics) and cross-device transfers, on every device.
#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "engine/op_test_util.h"

namespace ge::optest {
namespace {

class FactoryTest : public DeviceTest {};
class RandomTest : public DeviceTest {};
class TransferTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    // Transfers need both devices, whichever one this instance is parametrised on.
    GE_SKIP_IF_UNAVAILABLE(kCUDA);
  }
};

TEST_P(FactoryTest, ConstantFactories) {
  const Device d = device();
  const Tensor z = zeros({2, 3, 5}, d);
  EXPECT_EQ(z.shape(), Shape({2, 3, 5}));
  EXPECT_EQ(z.device(), d);
  EXPECT_EQ(z.dtype(), Dtype::Float32);
  EXPECT_TRUE(z.is_contiguous());
  EXPECT_TRUE(all_close(z, std::vector<float>(30, 0.f), 0, 0));
  EXPECT_TRUE(all_close(ones({7}, d), std::vector<float>(7, 1.f), 0, 0));
  EXPECT_TRUE(all_close(full({3, 11}, -2.5f, d), std::vector<float>(33, -2.5f), 0, 0));
  const Tensor s = scalar_tensor(4.25f, d);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 4.25f);
  const Tensor e = empty({4, 1}, d);
  EXPECT_EQ(e.shape(), Shape({4, 1}));
  EXPECT_EQ(e.device(), d);
  const Tensor f0 = full({}, 3.f, d);
  EXPECT_EQ(f0.dim(), 0);
  EXPECT_EQ(f0.item(), 3.f);
}

TEST_P(FactoryTest, ArangeAndFromVector) {
  const Device d = device();
  for (int64_t n : {1, 7, 33}) {
    const Tensor a = arange(n, d);
    EXPECT_EQ(a.shape(), Shape({n}));
    std::vector<float> expected;
    for (int64_t i = 0; i < n; ++i)
      expected.push_back(static_cast<float>(i));
    EXPECT_TRUE(all_close(a, expected, 0, 0));
  }
  const auto v = lcg_values(12, 1);
  const Tensor t = from_vector(v, {3, 4}, d);
  EXPECT_EQ(t.shape(), Shape({3, 4}));
  EXPECT_EQ(t.strides(), Shape({4, 1}));
  EXPECT_EQ(t.to_vector(), v);  // bitwise: a copy, no arithmetic
  const Tensor s = from_vector({-1.5f}, {}, d);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item(), -1.5f);
}

TEST_P(FactoryTest, OptionsAndLikeFactories) {
  const Device d = device();
  const Tensor leaf = zeros({2, 3}, TensorOptions(d).requires_grad(true));
  EXPECT_TRUE(leaf.requires_grad());
  EXPECT_TRUE(leaf.is_leaf());
  EXPECT_FALSE(zeros({2, 3}, d).requires_grad());
  const Tensor base = make(lcg_values(6, 2), {2, 3}, d, true);
  for (const Tensor& t : {zeros_like(base), ones_like(base), randn_like(base)}) {
    EXPECT_EQ(t.shape(), Shape({2, 3}));
    EXPECT_EQ(t.device(), d);
    EXPECT_FALSE(t.requires_grad());  // *_like copies shape and device, not autograd state
  }
  EXPECT_TRUE(all_close(zeros_like(base), std::vector<float>(6, 0.f), 0, 0));
  EXPECT_TRUE(all_close(ones_like(base), std::vector<float>(6, 1.f), 0, 0));
}

// --- random

// Under the emulator the CUDA kernel runs the same host arithmetic, so results must match
// bitwise; a real GPU may differ by a few ulp in log/sincos (randn), never more.
::testing::AssertionResult same_stream(const Tensor& a, const Tensor& b) {
  const double tol = cuda_is_emulated() ? 0.0 : 4 * FLT_EPSILON;
  return all_close(a, b.to(a.device()), tol, tol);
}

TEST_P(RandomTest, SameSeedSameNumbersOnEveryDevice) {
  GE_SKIP_IF_UNAVAILABLE(kCUDA);
  for (const Shape& shape : {Shape{4, 5}, Shape{7}, Shape{33}, Shape{1}}) {
    SCOPED_TRACE(to_string(shape));
    manual_seed(1234);
    const Tensor ur = rand(shape, kCPU);
    const Tensor nr = randn(shape, kCPU);
    manual_seed(1234);
    const Tensor ud = rand(shape, device());
    const Tensor nd = randn(shape, device());
    EXPECT_EQ(ud.device(), device());
    EXPECT_TRUE(same_stream(ur, ud));
    EXPECT_TRUE(same_stream(nr, nd));
    // And the other device, from the same seed, for the cuda -> cpu direction as well.
    manual_seed(1234);
    EXPECT_TRUE(same_stream(rand(shape, other_device(device())), ur));
  }
}

TEST_P(RandomTest, SeedsAndOffsets) {
  const Device d = device();
  manual_seed(7);
  EXPECT_EQ(default_generator().seed(), 7u);
  EXPECT_EQ(default_generator().offset(), 0u);
  const std::vector<float> a = rand({64}, d).to_vector();
  const uint64_t after_first = default_generator().offset();
  EXPECT_GT(after_first, 0u);  // the draw reserved counters
  const std::vector<float> b = rand({64}, d).to_vector();
  EXPECT_GT(default_generator().offset(), after_first);
  EXPECT_NE(a, b);  // successive draws continue the stream rather than repeat it
  manual_seed(7);
  EXPECT_EQ(rand({64}, d).to_vector(), a);  // reseeding restarts the stream
  manual_seed(8);
  EXPECT_NE(rand({64}, d).to_vector(), a);  // another seed, another stream
  manual_seed(7);
  const std::vector<float> n1 = randn({64}, d).to_vector();
  manual_seed(8);
  EXPECT_NE(randn({64}, d).to_vector(), n1);
}

TEST_P(RandomTest, ExplicitGeneratorIsIndependentOfTheDefault) {
  const Device d = device();
  manual_seed(99);
  Generator g1(2024), g2(2024);
  const std::vector<float> x = randn({3, 11}, d, &g1).to_vector();
  EXPECT_GT(g1.offset(), 0u);
  EXPECT_EQ(default_generator().offset(), 0u);  // the default generator was not consumed
  EXPECT_EQ(randn({3, 11}, d, &g2).to_vector(), x);
  // set_offset rewinds a generator to an earlier point of its stream.
  g2.set_offset(0);
  EXPECT_EQ(randn({3, 11}, d, &g2).to_vector(), x);
  g1.manual_seed(2024);
  EXPECT_EQ(g1.offset(), 0u);
  EXPECT_EQ(randn({3, 11}, d, &g1).to_vector(), x);
  // randn_like draws from the generator it is given.
  Generator g3(2024);
  EXPECT_EQ(randn_like(make(std::vector<float>(33, 0.f), {3, 11}, d), &g3).to_vector(), x);
}

TEST_P(RandomTest, UniformSampleStatistics) {
  Generator g(11);
  const Tensor u = rand({100000}, device(), &g);
  const std::vector<float> v = u.to_vector();
  double sum = 0, sq = 0;
  float lo = 1.f, hi = 0.f;
  for (float x : v) {
    sum += x;
    sq += static_cast<double>(x) * x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double mean = sum / v.size();
  const double var = sq / v.size() - mean * mean;
  // U[0, 1): mean 1/2, variance 1/12. With n = 1e5 the standard error of the mean is
  // sqrt(1/12 / n) ~ 9e-4 and of the variance ~ sqrt(1/180 / n) ~ 2.4e-4, so +-0.02 is > 20
  // standard errors: a correct generator never fails, a biased or mis-scaled one does.
  EXPECT_NEAR(mean, 0.5, 0.02);
  EXPECT_NEAR(var, 1.0 / 12.0, 0.02);
  EXPECT_GE(lo, 0.f);
  EXPECT_LT(hi, 1.f);  // half-open interval
  // Coarse histogram: each tenth holds 10% +- 1% (binomial sd ~ 0.1%).
  std::vector<int> bins(10, 0);
  for (float x : v)
    ++bins[std::min(9, static_cast<int>(x * 10))];
  for (int b : bins)
    EXPECT_NEAR(b / 1e5, 0.1, 0.01);
}

TEST_P(RandomTest, NormalSampleStatistics) {
  Generator g(12);
  const std::vector<float> v = randn({100000}, device(), &g).to_vector();
  double sum = 0, sq = 0;
  int within_one = 0;
  for (float x : v) {
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sq += static_cast<double>(x) * x;
    within_one += std::fabs(x) < 1.f;
  }
  const double mean = sum / v.size();
  const double var = sq / v.size() - mean * mean;
  // N(0, 1): the standard error of the mean is 1/sqrt(n) ~ 3.2e-3 and of the variance
  // sqrt(2/n) ~ 4.5e-3, so +-0.02 is > 4 standard errors (and the seed is fixed).
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(var, 1.0, 0.02);
  // P(|x| < 1) = 0.6827; binomial sd ~ 1.5e-3.
  EXPECT_NEAR(within_one / 1e5, 0.6827, 0.01);
}

// --- transfers

TEST_P(TransferTest, RoundTripPreservesValues) {
  const Device d = device();
  const Device o = other_device(d);
  const auto v = lcg_values(33, 3);
  const Tensor x = make(v, {3, 11}, d);
  const Tensor y = x.to(o);
  EXPECT_EQ(y.device(), o);
  EXPECT_EQ(y.shape(), Shape({3, 11}));
  EXPECT_EQ(y.to_vector(), v);
  const Tensor back = y.to(d);
  EXPECT_EQ(back.device(), d);
  EXPECT_EQ(back.to_vector(), v);
  EXPECT_EQ(x.to(d).data_ptr(), x.data_ptr());  // already there: the same tensor
  EXPECT_EQ(x.cpu().device(), kCPU);
  EXPECT_EQ(x.cuda().device(), kCUDA);
  // A strided view moves in logical order.
  const Tensor t = make(v, {11, 3}, d).t();
  EXPECT_EQ(t.to(o).to_vector(), permuted(v, {11, 3}, {1, 0}));
  // Rank 0.
  EXPECT_EQ(scalar_tensor(2.5f, d).to(o).item(), 2.5f);
}

TEST_P(TransferTest, CopyAcrossDevices) {
  const Device d = device();
  const auto v = lcg_values(12, 4);
  Tensor dst = zeros({3, 4}, d);
  dst.copy_(make(v, {3, 4}, other_device(d)));
  EXPECT_EQ(dst.device(), d);
  EXPECT_EQ(dst.to_vector(), v);
}

TEST_P(TransferTest, GradientLandsOnTheSourceDevice) {
  const Device d = device();
  const Device o = other_device(d);
  const Tensor x = make({1.f, 2.f, 3.f}, {3}, d, true);
  const Tensor w = make({4.f, 5.f, 6.f}, {3}, o);
  // L = sum(x.to(o) * w): dL/dx = w, which must come back to x's device.
  (x.to(o) * w).sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().device(), d);
  EXPECT_TRUE(all_close(x.grad(), std::vector<float>{4, 5, 6}, 0, 0));
  const Tensor a = make(lcg_values(6, 5), {2, 3}, d, true);
  EXPECT_TRUE(grad_ok([o](const std::vector<Tensor>& in) { return square(in[0].to(o)); }, {a}));
  EXPECT_TRUE(gradgrad_ok([o](const std::vector<Tensor>& in) { return square(in[0].to(o)); }, {a}));
}

GE_INSTANTIATE_DEVICE_TEST(FactoryTest);
GE_INSTANTIATE_DEVICE_TEST(RandomTest);
GE_INSTANTIATE_DEVICE_TEST(TransferTest);

}  // namespace
}  // namespace ge::optest
