// binary_cross_entropy_with_logits and softplus_loss on every device: values against references
// in double for every reduction, tensor and float targets, several signs; gradients against the
// closed forms; gradcheck, gradgradcheck and a third-order check; extreme logits; a reduction
// large enough to take several CUDA blocks (and bitwise reproducible); and the argument errors.
#include "ganengine/loss.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine/loss_test_util.h"
#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class LossTest : public DeviceTest {};

// log(1 + e^z) - z t in double (exact for the |z| < 30 used here).
double logistic_ref(double z, double t) {
  return std::log1p(std::exp(z)) - z * t;
}

double sigmoid_ref(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

TEST_P(LossTest, BceWithTargetTensorMatchesReference) {
  const Shape shape = {4, 3};
  const std::vector<float> x = lcg_values(12, 1, -5.f, 5.f), t = lcg_values(12, 2, 0.f, 1.f);
  std::vector<double> want;
  for (size_t i = 0; i < x.size(); ++i)
    want.push_back(logistic_ref(x[i], t[i]));
  for (Reduction r : kReductions) {
    SCOPED_TRACE(reduction_name(r));
    const Tensor out =
        binary_cross_entropy_with_logits(make(x, shape, device()), make(t, shape, device()), r);
    EXPECT_EQ(out.shape(), expected_shape(shape, r));
    EXPECT_EQ(out.device(), device());
    EXPECT_TRUE(all_close(out, reduce(want, r)));
  }
}

TEST_P(LossTest, BceWithFloatTargetMatchesReference) {
  const Shape shape = {2, 5};
  const std::vector<float> x = lcg_values(10, 3, -5.f, 5.f);
  for (float target : {0.f, 1.f, 0.9f, 0.25f}) {
    std::vector<double> want;
    for (float v : x)
      want.push_back(logistic_ref(v, target));
    for (Reduction r : kReductions) {
      SCOPED_TRACE(std::string(reduction_name(r)) + " target " + std::to_string(target));
      const Tensor out = binary_cross_entropy_with_logits(make(x, shape, device()), target, r);
      EXPECT_EQ(out.shape(), expected_shape(shape, r));
      EXPECT_TRUE(all_close(out, reduce(want, r)));
    }
  }
}

TEST_P(LossTest, SoftplusLossMatchesReference) {
  const Shape shape = {3, 1, 4};
  const std::vector<float> x = lcg_values(12, 4, -4.f, 4.f);
  for (float sign : {1.f, -1.f, 2.5f, -0.5f}) {
    std::vector<double> want;
    for (float v : x)
      want.push_back(std::log1p(std::exp(static_cast<double>(sign) * v)));
    for (Reduction r : kReductions) {
      SCOPED_TRACE(std::string(reduction_name(r)) + " sign " + std::to_string(sign));
      const Tensor out = softplus_loss(make(x, shape, device()), sign, r);
      EXPECT_EQ(out.shape(), expected_shape(shape, r));
      EXPECT_TRUE(all_close(out, reduce(want, r)));
    }
  }
  // The defaults: sign 1, mean.
  EXPECT_TRUE(all_close(softplus_loss(make({0.f, 0.f}, {2}, device())), {std::log(2.f)}));
}

TEST_P(LossTest, GradientsMatchClosedForm) {
  const Shape shape = {2, 3};
  const std::vector<float> x = lcg_values(6, 5, -3.f, 3.f), t = lcg_values(6, 6, 0.f, 1.f);
  const std::vector<float> g = lcg_values(6, 7);
  for (Reduction r : kReductions) {
    SCOPED_TRACE(reduction_name(r));
    const Tensor xt = make(x, shape, device(), true), tt = make(t, shape, device(), true);
    const Tensor out = binary_cross_entropy_with_logits(xt, tt, r);
    if (r == Reduction::None) {
      out.backward(make(g, shape, device()));
    } else {
      out.backward();
    }
    std::vector<float> dx, dt;
    for (size_t i = 0; i < x.size(); ++i) {
      const double gi = r == Reduction::None ? g[i] : (r == Reduction::Mean ? 1.0 / 6.0 : 1.0);
      dx.push_back(static_cast<float>(gi * (sigmoid_ref(x[i]) - t[i])));
      dt.push_back(static_cast<float>(-gi * x[i]));
    }
    EXPECT_TRUE(all_close(xt.grad(), dx, 1e-6, 1e-5));
    EXPECT_TRUE(all_close(tt.grad(), dt, 1e-6, 1e-5));
  }
  for (float sign : {1.f, -1.f, 2.f}) {
    SCOPED_TRACE("softplus_loss sign " + std::to_string(sign));
    const Tensor xt = make(x, shape, device(), true);
    softplus_loss(xt, sign, Reduction::Sum).backward();
    std::vector<float> dx;
    for (float v : x)
      dx.push_back(static_cast<float>(sign * sigmoid_ref(static_cast<double>(sign) * v)));
    EXPECT_TRUE(all_close(xt.grad(), dx, 1e-6, 1e-5));
  }
}

TEST_P(LossTest, FirstAndSecondOrderGradients) {
  const Shape shape = {2, 3};
  const std::vector<float> x = lcg_values(6, 8, -2.f, 2.f), t = lcg_values(6, 9, 0.f, 1.f);
  for (Reduction r : kReductions) {
    SCOPED_TRACE(reduction_name(r));
    const std::vector<Tensor> both = {make(x, shape, device(), true),
                                      make(t, shape, device(), true)};
    const auto bce = [r](const std::vector<Tensor>& in) {
      return binary_cross_entropy_with_logits(in[0], in[1], r);
    };
    EXPECT_TRUE(grad_ok(bce, both));
    EXPECT_TRUE(gradgrad_ok(bce, both));
    // Logits alone requiring grad, the target a constant.
    const std::vector<Tensor> logits_only = {make(x, shape, device(), true),
                                             make(t, shape, device())};
    EXPECT_TRUE(grad_ok(bce, logits_only));
    EXPECT_TRUE(gradgrad_ok(bce, logits_only));
    for (float target : {0.f, 1.f, 0.9f}) {
      const auto bce_f = [r, target](const std::vector<Tensor>& in) {
        return binary_cross_entropy_with_logits(in[0], target, r);
      };
      EXPECT_TRUE(grad_ok(bce_f, {both[0]})) << "target " << target;
      EXPECT_TRUE(gradgrad_ok(bce_f, {both[0]})) << "target " << target;
    }
    for (float sign : {1.f, -1.f, 1.7f}) {
      const auto sp = [r, sign](const std::vector<Tensor>& in) {
        return softplus_loss(in[0], sign, r);
      };
      EXPECT_TRUE(grad_ok(sp, {both[0]})) << "sign " << sign;
      EXPECT_TRUE(gradgrad_ok(sp, {both[0]})) << "sign " << sign;
    }
  }
}

// The backward's backward is itself differentiable: third derivatives through create_graph.
TEST_P(LossTest, ThirdOrderThroughCreateGraph) {
  const Shape shape = {2, 2};
  const std::vector<float> x = lcg_values(4, 10, -2.f, 2.f), t = lcg_values(4, 11, 0.f, 1.f);
  for (Reduction r : {Reduction::Mean, Reduction::None}) {
    SCOPED_TRACE(reduction_name(r));
    const Tensor w = make(lcg_values(4, 12), shape, device());
    const auto first = [r, w](const std::vector<Tensor>& in) {
      EnableGradGuard enable;
      const Tensor xi = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_(true);
      Tensor loss = binary_cross_entropy_with_logits(xi, in[1], r);
      if (r == Reduction::None) loss = sum(loss * w);
      return grad({loss}, {xi}, {}, /*create_graph=*/true)[0];
    };
    EXPECT_TRUE(
        gradgrad_ok(first, {make(x, shape, device(), true), make(t, shape, device(), true)}));
  }
}

// Far tails: finite values, the loss of a confident right answer is tiny but not rounded to a
// cancellation error, and the gradients saturate cleanly.
TEST_P(LossTest, ExtremeLogits) {
  const std::vector<float> x = {-100.f, -20.f, 20.f, 100.f};
  const Tensor xt = make(x, {4}, device(), true);
  const Tensor real = binary_cross_entropy_with_logits(xt, 1.f, Reduction::None);
  const std::vector<float> got = real.to_vector();
  EXPECT_FLOAT_EQ(got[0], 100.f);
  EXPECT_FLOAT_EQ(got[1], 20.f);
  EXPECT_NEAR(got[2], 2.0611536e-9, 1e-15);  // log1p(e^-20)
  EXPECT_GE(got[3], 0.f);
  EXPECT_LT(got[3], 1e-40f);
  sum(real).backward();
  EXPECT_TRUE(all_close(xt.grad(), {-1.f, -1.f, 0.f, 0.f}, 1e-7, 0.0));
}

// Enough elements for a multi-block CUDA reduction; the same input gives the same bits.
TEST_P(LossTest, LargeReductionIsAccurateAndReproducible) {
  const int64_t n = 50000;
  const std::vector<float> x = lcg_values(n, 13, -6.f, 6.f), t = lcg_values(n, 14, 0.f, 1.f);
  const Tensor xt = make(x, {n / 100, 100}, device()), tt = make(t, {n / 100, 100}, device());
  std::vector<double> want;
  for (size_t i = 0; i < x.size(); ++i)
    want.push_back(logistic_ref(x[i], t[i]));
  const Tensor a = binary_cross_entropy_with_logits(xt, tt, Reduction::Sum);
  EXPECT_TRUE(all_close(a, reduce(want, Reduction::Sum), 1e-3, 1e-5));
  EXPECT_TRUE(all_close(binary_cross_entropy_with_logits(xt, tt), reduce(want, Reduction::Mean),
                        1e-6, 1e-5));
  const float first = a.item();
  for (int i = 0; i < 3; ++i) {
    const float again = binary_cross_entropy_with_logits(xt, tt, Reduction::Sum).item();
    EXPECT_EQ(std::memcmp(&first, &again, sizeof(float)), 0) << first << " vs " << again;
  }
}

TEST_P(LossTest, NonContiguousInputs) {
  const std::vector<float> x = lcg_values(12, 15, -3.f, 3.f), t = lcg_values(12, 16, 0.f, 1.f);
  const Tensor xt = make(x, {4, 3}, device(), true).t();  // [3, 4]
  const Tensor tt = make(t, {4, 3}, device()).t();
  const std::vector<float> xp = permuted(x, {4, 3}, {1, 0});
  const std::vector<float> tp = permuted(t, {4, 3}, {1, 0});
  std::vector<double> want;
  for (size_t i = 0; i < xp.size(); ++i)
    want.push_back(logistic_ref(xp[i], tp[i]));
  EXPECT_TRUE(all_close(binary_cross_entropy_with_logits(xt, tt, Reduction::None),
                        reduce(want, Reduction::None)));
  EXPECT_TRUE(grad_ok(
      [&](const std::vector<Tensor>& in) {
        return binary_cross_entropy_with_logits(in[0], tt, Reduction::Mean);
      },
      {xt}));
}

TEST_P(LossTest, EmptyInput) {
  const Tensor x = zeros({0, 3}, device());
  EXPECT_TRUE(std::isnan(binary_cross_entropy_with_logits(x, 1.f).item()));
  EXPECT_EQ(softplus_loss(x, 1.f, Reduction::Sum).item(), 0.f);
  EXPECT_EQ(softplus_loss(x, 1.f, Reduction::None).shape(), (Shape{0, 3}));
}

TEST_P(LossTest, Errors) {
  const Tensor x = zeros({4, 3}, device());
  const char* op = "binary_cross_entropy_with_logits";
  EXPECT_TRUE(throws_with(
      [&] {
        binary_cross_entropy_with_logits(x, zeros({3, 4}, device()));
      },
      {op, "target of shape [4, 3] (the logits' shape), got [3, 4]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        binary_cross_entropy_with_logits(x, zeros({4, 1}, device()));
      },
      {op, "target of shape [4, 3]", "got [4, 1]"}));
  EXPECT_TRUE(
      throws_with([&] { binary_cross_entropy_with_logits(x, Tensor()); }, {op, "defined target"}));
  EXPECT_TRUE(
      throws_with([&] { binary_cross_entropy_with_logits(Tensor(), 1.f); }, {op, "defined"}));
  EXPECT_TRUE(
      throws_with([&] { binary_cross_entropy_with_logits(x, 1.f, static_cast<Reduction>(9)); },
                  {op, "Reduction::None, Mean or Sum, got 9"}));
  EXPECT_TRUE(
      throws_with([&] { softplus_loss(x, INFINITY); }, {"softplus_loss", "finite sign, got inf"}));
  EXPECT_TRUE(throws_with([&] { softplus_loss(Tensor()); }, {"softplus_loss", "defined"}));
  if (cuda_is_available()) {
    const Tensor t = zeros({4, 3}, other_device(device()));
    EXPECT_TRUE(throws_with([&] { binary_cross_entropy_with_logits(x, t); },
                            {op, "same device", device().str()}));
  }
}

GE_INSTANTIATE_DEVICE_TEST(LossTest);

}  // namespace
}  // namespace ge::optest
