// GAN objectives against closed forms computed here in double.
#include "ganengine/models/losses.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gan_test_util.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge::models {
namespace {

using gantest::all_close;
using gantest::error_of;
using gantest::softplus_ref;

class LossesTest : public DeviceTest {};

const std::vector<float> kReal = {2.f, -0.5f, 0.25f};
const std::vector<float> kFake = {0.3f, -1.5f, 1.2f};

Tensor leaf(const std::vector<float>& v, Device d) {
  Tensor t = from_vector(v, {static_cast<int64_t>(v.size())}, d);
  t.requires_grad_(true);
  return t;
}

TEST_P(LossesTest, NonSaturatingMatchesLogisticTerms) {
  for (const float label : {1.f, 0.9f}) {
    Tensor real = leaf(kReal, device()), fake = leaf(kFake, device());
    double expected = 0;
    std::vector<float> g_real, g_fake;
    const double n = 3;
    for (float x : kReal) {
      // BCE with target t: t * softplus(-x) + (1 - t) * softplus(x); derivative sigmoid(x) - t.
      expected += (label * softplus_ref(-x) + (1 - label) * softplus_ref(x)) / n;
      g_real.push_back(static_cast<float>((1 / (1 + std::exp(-x)) - label) / n));
    }
    for (float x : kFake) {
      expected += softplus_ref(x) / n;
      g_fake.push_back(static_cast<float>(1 / (1 + std::exp(-x)) / n));
    }
    const Tensor loss = nonsaturating_d_loss(real, fake, label);
    EXPECT_NEAR(loss.item(), expected, 1e-5) << "real_label " << label;
    loss.backward();
    EXPECT_TRUE(all_close(real.grad(), g_real, 1e-6));
    EXPECT_TRUE(all_close(fake.grad(), g_fake, 1e-6));
  }
  Tensor fake = leaf(kFake, device());
  double expected = 0;
  for (float x : kFake)
    expected += softplus_ref(-x) / 3;
  EXPECT_NEAR(nonsaturating_g_loss(fake).item(), expected, 1e-5);
}

// log(1 - sigmoid(x)) = -softplus(x); d/dx = -sigmoid(x). Where D rejects the fakes (x << 0)
// its gradient vanishes while the non-saturating loss's, sigmoid(x) - 1, stays near -1.
TEST_P(LossesTest, MinimaxMatchesClosedFormAndSaturates) {
  Tensor fake = leaf(kFake, device());
  double expected = 0;
  std::vector<float> g;
  for (float x : kFake) {
    expected += std::log(1 - 1 / (1 + std::exp(-static_cast<double>(x)))) / 3;
    g.push_back(static_cast<float>(-1 / (1 + std::exp(-static_cast<double>(x))) / 3));
  }
  const Tensor loss = minimax_g_loss(fake);
  EXPECT_NEAR(loss.item(), expected, 1e-5);
  loss.backward();
  EXPECT_TRUE(all_close(fake.grad(), g, 1e-6));

  Tensor rejected = leaf({-8.f, -9.f}, device()), same = leaf({-8.f, -9.f}, device());
  minimax_g_loss(rejected).backward();
  nonsaturating_g_loss(same).backward();
  for (float v : rejected.grad().to_vector())
    EXPECT_LT(std::abs(v), 2e-4f);
  for (float v : same.grad().to_vector())
    EXPECT_GT(std::abs(v), 0.49f);
}

TEST_P(LossesTest, HingeMatchesClosedForm) {
  // real {2, -0.5}: relu(1 - 2) = 0, relu(1.5) = 1.5 -> 0.75; fake {0.3, -1.5}: 1.3, 0 -> 0.65.
  Tensor real = leaf({2.f, -0.5f}, device()), fake = leaf({0.3f, -1.5f}, device());
  const Tensor loss = hinge_d_loss(real, fake);
  EXPECT_NEAR(loss.item(), 1.4, 1e-6);
  loss.backward();
  EXPECT_TRUE(all_close(real.grad(), {0.f, -0.5f}));  // only the margin-violating sample
  EXPECT_TRUE(all_close(fake.grad(), {0.5f, 0.f}));
  Tensor f2 = leaf({0.3f, -1.5f}, device());
  const Tensor g = hinge_g_loss(f2);
  EXPECT_NEAR(g.item(), 0.6, 1e-6);
  g.backward();
  EXPECT_TRUE(all_close(f2.grad(), {-0.5f, -0.5f}));
}

TEST_P(LossesTest, WassersteinMatchesClosedForm) {
  Tensor real = leaf(kReal, device()), fake = leaf(kFake, device());
  // mean(fake) = 0, mean(real) = 0.5833...
  const Tensor loss = wasserstein_d_loss(real, fake);
  EXPECT_NEAR(loss.item(), 0.0 - 1.75 / 3, 1e-6);
  loss.backward();
  EXPECT_TRUE(all_close(real.grad(), {-1.f / 3, -1.f / 3, -1.f / 3}));
  EXPECT_TRUE(all_close(fake.grad(), {1.f / 3, 1.f / 3, 1.f / 3}));
  EXPECT_NEAR(wasserstein_g_loss(leaf(kFake, device())).item(), 0.0, 1e-6);
  EXPECT_NEAR(wasserstein_g_loss(leaf(kReal, device())).item(), -1.75 / 3, 1e-6);
}

// D(x)[n] = sum_i a_i x_ni^2 has grad_x = 2 a x, so R1 = gamma / 2 * mean_n sum_i 4 a_i^2 x_ni^2
// and d R1 / d a_i = gamma / 2 * mean_n 8 a_i x_ni^2.
TEST_P(LossesTest, R1PenaltyMatchesQuadraticDiscriminator) {
  const int64_t n = 3, f = 4;
  const std::vector<float> xv = ge::testing::lcg_values(n * f, 5);
  const std::vector<float> av = {0.5f, -1.f, 2.f, 0.25f};
  Tensor a = from_vector(av, {1, f}, device());
  a.requires_grad_(true);
  const Tensor x = from_vector(xv, {n, f}, device());
  const float gamma = 3.f;
  const auto d = [&](const Tensor& in) { return sum(a * square(in), {1}); };
  double expected = 0;
  std::vector<float> grad_a(f, 0.f);
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < f; ++i) {
      const double xi = xv[s * f + i];
      expected += gamma / 2 * 4 * av[i] * av[i] * xi * xi / n;
      grad_a[i] += static_cast<float>(gamma / 2 * 8 * av[i] * xi * xi / n);
    }
  const Tensor r1 = r1_penalty(d, x, gamma);
  EXPECT_NEAR(r1.item(), expected, 1e-5 * std::fabs(expected));
  r1.backward();
  EXPECT_TRUE(all_close(a.grad(), grad_a, 1e-5, 1e-5));
  EXPECT_FALSE(x.requires_grad());  // the caller's batch is left alone
}

TEST_P(LossesTest, R1PenaltyOfImagesReducesPerSample) {
  // D(x) = sum(c * x) over [C, H, W]: grad is c everywhere, so R1 = gamma / 2 * C*H*W * c^2.
  const Tensor x = from_vector(ge::testing::lcg_values(2 * 2 * 3 * 3, 9), {2, 2, 3, 3}, device());
  const auto d = [](const Tensor& in) { return sum(in * 1.5f, {1, 2, 3}); };
  EXPECT_NEAR(r1_penalty(d, x, 2.f).item(), 1.0 * 18 * 2.25, 1e-4);
}

TEST_P(LossesTest, RejectsBadArguments) {
  const Tensor r = leaf(kReal, device());
  EXPECT_NE(error_of([&] { nonsaturating_d_loss(r, Tensor()); }).find("defined"),
            std::string::npos);
  EXPECT_NE(error_of([&] { nonsaturating_d_loss(r, r, 1.5f); }).find("real_label"),
            std::string::npos);
  EXPECT_NE(error_of([&] { hinge_g_loss(Tensor()); }).find("hinge_g_loss"), std::string::npos);
  EXPECT_NE(error_of([&] {
              r1_penalty([](const Tensor& t) { return t.sum({1}); }, r, -1.f);
            }).find("gamma"),
            std::string::npos);
}

GE_INSTANTIATE_DEVICE_TEST(LossesTest);

}  // namespace
}  // namespace ge::models
