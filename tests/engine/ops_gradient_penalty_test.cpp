// gradient_penalty_interpolate, gradient_penalty and wgan_gradient_penalty on every device:
// forward values and gradients against formulas written here in double (a zero-gradient sample
// included), gradcheck / gradgradcheck of each op, a third-order check, the whole WGAN-GP path
// through a 3-layer convolutional critic (gradcheck of the penalty as a function of the critic's
// parameters, which runs the double backward, and gradgradcheck of it), closed-form penalties
// for linear and quadratic critics, and the argument errors.
#include "ganengine/gradient_penalty.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/bias_act.h"
#include "ganengine/conv.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class GradientPenaltyTest : public DeviceTest {};

std::vector<float> interpolate_ref(const std::vector<float>& real, const std::vector<float>& fake,
                                   const std::vector<float>& alpha) {
  const size_t d = real.size() / alpha.size();
  std::vector<float> out(real.size());
  for (size_t i = 0; i < real.size(); ++i)
    out[i] = static_cast<float>(real[i] + static_cast<double>(alpha[i / d]) * (fake[i] - real[i]));
  return out;
}

std::vector<double> norms_ref(const std::vector<float>& g, int64_t n) {
  const size_t d = g.size() / static_cast<size_t>(n);
  std::vector<double> norms(static_cast<size_t>(n), 0.0);
  for (size_t i = 0; i < g.size(); ++i)
    norms[i / d] += static_cast<double>(g[i]) * g[i];
  for (double& r : norms)
    r = std::sqrt(r);
  return norms;
}

double penalty_ref(const std::vector<float>& g, int64_t n, double lambda) {
  double total = 0.0;
  for (double r : norms_ref(g, n))
    total += (r - 1.0) * (r - 1.0);
  return lambda * total / static_cast<double>(n);
}

// d penalty / d g: lambda * 2/N * (r - 1)/r * g, and 0 for a zero sample.
std::vector<float> penalty_grad_ref(const std::vector<float>& g, int64_t n, double lambda) {
  const std::vector<double> r = norms_ref(g, n);
  const size_t d = g.size() / static_cast<size_t>(n);
  std::vector<float> out(g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    const double rn = r[i / d];
    out[i] = rn > 0 ? static_cast<float>(lambda * 2.0 / n * (rn - 1.0) / rn * g[i]) : 0.f;
  }
  return out;
}

TEST_P(GradientPenaltyTest, InterpolateMatchesReference) {
  const Shape shape = {3, 2, 2, 2};
  const std::vector<float> real = lcg_values(24, 81), fake = lcg_values(24, 82, -3.f, 3.f);
  const std::vector<float> alpha = lcg_values(3, 83, 0.f, 1.f);
  const std::vector<float> want = interpolate_ref(real, fake, alpha);
  for (const Shape& ashape : {Shape{3}, Shape{3, 1, 1, 1}}) {
    SCOPED_TRACE("alpha " + to_string(ashape));
    const Tensor x = gradient_penalty_interpolate(
        make(real, shape, device()), make(fake, shape, device()), make(alpha, ashape, device()));
    EXPECT_EQ(x.shape(), shape);
    EXPECT_TRUE(all_close(x, want));
    EXPECT_FALSE(x.requires_grad());
  }
  // Non-contiguous operands, 1-D samples.
  const Tensor rt = make(real, {4, 6}, device()).t();  // [6, 4]
  const Tensor ft = make(fake, {4, 6}, device()).t();
  const std::vector<float> a6 = lcg_values(6, 84, 0.f, 1.f);
  EXPECT_TRUE(all_close(
      gradient_penalty_interpolate(rt, ft, make(a6, {6}, device())),
      interpolate_ref(permuted(real, {4, 6}, {1, 0}), permuted(fake, {4, 6}, {1, 0}), a6)));
  const Tensor x1 = gradient_penalty_interpolate(
      make({1, 2}, {2}, device()), make({3, 6}, {2}, device()), make({0.5f, 0.25f}, {2}, device()));
  EXPECT_TRUE(all_close(x1, {2.f, 3.f}));
}

TEST_P(GradientPenaltyTest, InterpolateGradients) {
  const Shape shape = {2, 3, 2};
  const auto fn = [](const std::vector<Tensor>& in) {
    return gradient_penalty_interpolate(in[0], in[1], in[2]);
  };
  for (const Shape& ashape : {Shape{2}, Shape{2, 1, 1}}) {
    SCOPED_TRACE("alpha " + to_string(ashape));
    const std::vector<Tensor> inputs = {make(lcg_values(12, 85), shape, device(), true),
                                        make(lcg_values(12, 86), shape, device(), true),
                                        make(lcg_values(2, 87, 0.f, 1.f), ashape, device(), true)};
    EXPECT_TRUE(grad_ok(fn, inputs));
    EXPECT_TRUE(gradgrad_ok(fn, inputs));
  }
}

TEST_P(GradientPenaltyTest, PenaltyAndGradientMatchReference) {
  const Shape shape = {4, 3, 5};
  std::vector<float> g = lcg_values(60, 88, -0.4f, 0.4f);
  for (size_t i = 30; i < 45; ++i)
    g[i] = 0.f;  // sample 2 has a zero gradient
  for (float lambda : {10.f, 0.5f}) {
    SCOPED_TRACE("lambda " + std::to_string(lambda));
    const Tensor x = make(g, shape, device(), true);
    const Tensor p = gradient_penalty(x, lambda);
    EXPECT_EQ(p.shape(), Shape{});
    EXPECT_TRUE(all_close(p, {static_cast<float>(penalty_ref(g, 4, lambda))}, 1e-5, 1e-5));
    (p * 0.7f).backward();
    std::vector<float> want = penalty_grad_ref(g, 4, lambda);
    for (float& e : want)
      e *= 0.7f;
    EXPECT_TRUE(all_close(x.grad(), want, 1e-6, 1e-5));
  }
  // One element per sample, and a 1-D grad.
  EXPECT_TRUE(all_close(gradient_penalty(make({3.f, -0.5f}, {2}, device()), 2.f),
                        {static_cast<float>(2.0 * (4.0 + 0.25) / 2)}));
}

TEST_P(GradientPenaltyTest, PenaltyGradients) {
  // Norms away from 0 (the subgradient point) so finite differences are smooth.
  const std::vector<float> g = away_from_zero(12, 89, 0.1f, 0.6f);
  const auto fn = [](const std::vector<Tensor>& in) { return gradient_penalty(in[0], 3.f); };
  const Tensor x = make(g, {3, 2, 2}, device(), true);
  EXPECT_TRUE(grad_ok(fn, {x}));
  EXPECT_TRUE(gradgrad_ok(fn, {x}));
  // Non-contiguous grad.
  const auto fn_t = [](const std::vector<Tensor>& in) { return gradient_penalty(in[0].t(), 3.f); };
  EXPECT_TRUE(grad_ok(fn_t, {make(g, {4, 3}, device(), true)}));
  EXPECT_TRUE(gradgrad_ok(fn_t, {make(g, {4, 3}, device(), true)}));
}

// Third derivatives: gradgradcheck of the penalty's gradient built with create_graph.
TEST_P(GradientPenaltyTest, ThirdOrderThroughCreateGraph) {
  const Tensor probe = make(lcg_values(8, 90), {2, 4}, device());
  const auto first = [probe](const std::vector<Tensor>& in) {
    EnableGradGuard enable;
    const Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_(true);
    return grad({gradient_penalty(x, 2.f)}, {x}, {}, /*create_graph=*/true)[0] * probe;
  };
  EXPECT_TRUE(
      gradgrad_ok(first, {make(away_from_zero(8, 91, 0.2f, 0.7f), {2, 4}, device(), true)}));
}

// A zero-gradient sample: the backward is 0 there and stays finite at every order.
TEST_P(GradientPenaltyTest, ZeroSampleIsFiniteAtEveryOrder) {
  std::vector<float> g = lcg_values(8, 92);
  for (size_t i = 0; i < 4; ++i)
    g[i] = 0.f;
  const Tensor x = make(g, {2, 4}, device(), true);
  const Tensor d1 = grad({gradient_penalty(x, 1.f)}, {x}, {}, true)[0];
  const Tensor d2 = grad({sum(d1 * d1)}, {x}, {}, true)[0];
  const Tensor d3 = grad({sum(d2)}, {x})[0];
  const std::vector<Tensor> orders = {d1, d2, d3};
  for (size_t order = 0; order < orders.size(); ++order) {
    const std::vector<float> values = orders[order].to_vector();
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_TRUE(std::isfinite(values[i])) << "order " << order + 1 << " element " << i;
      if (order == 0 && i < 4) {
        EXPECT_EQ(values[i], 0.f);
      }
    }
  }
}

// A linear critic D(x) = <w, x> has gradient w at every x_hat: the penalty is
// lambda (||w|| - 1)^2 whatever alpha is, with d/dw = 2 lambda (||w|| - 1) w / ||w||.
TEST_P(GradientPenaltyTest, LinearCriticClosedForm) {
  const Shape shape = {3, 2, 3};
  const std::vector<float> wv = lcg_values(6, 93, -0.8f, 0.8f);
  const Tensor w = make(wv, {1, 2, 3}, device(), true);
  const auto critic = [w](const Tensor& x) { return sum(x * w, {1, 2}); };
  const Tensor real = make(lcg_values(18, 94), shape, device());
  const Tensor fake = make(lcg_values(18, 95), shape, device());
  Generator gen(7);
  const Tensor p = wgan_gradient_penalty(critic, real, fake, 10.f, &gen);
  double nw = 0.0;
  for (float e : wv)
    nw += static_cast<double>(e) * e;
  nw = std::sqrt(nw);
  EXPECT_TRUE(all_close(p, {static_cast<float>(10.0 * (nw - 1) * (nw - 1))}, 1e-5, 1e-5));
  p.backward();
  std::vector<float> want;
  for (float e : wv)
    want.push_back(static_cast<float>(2 * 10.0 * (nw - 1) * e / nw));
  EXPECT_TRUE(all_close(w.grad(), want, 1e-5, 1e-4));
}

// A quadratic critic D(x) = 0.5 c ||x||^2 has gradient c x_hat: the penalty depends on alpha,
// drawn per sample from the generator (U[0, 1), the same stream as ge::rand).
TEST_P(GradientPenaltyTest, QuadraticCriticUsesGeneratorAlpha) {
  const Shape shape = {4, 3};
  const std::vector<float> rv = lcg_values(12, 96), fv = lcg_values(12, 97, -2.f, 2.f);
  const Tensor c = make({0.8f}, {1}, device(), true);
  const auto critic = [c](const Tensor& x) { return 0.5f * sum(x * x, {1}) * c; };
  Generator gen(11), twin(11);
  const Tensor p = wgan_gradient_penalty(critic, make(rv, shape, device()),
                                         make(fv, shape, device()), 5.f, &gen);
  const std::vector<float> alpha = rand({4}, TensorOptions(device()), &twin).to_vector();
  for (float a : alpha) {
    EXPECT_GE(a, 0.f);
    EXPECT_LT(a, 1.f);
  }
  const std::vector<float> xh = interpolate_ref(rv, fv, alpha);
  double total = 0.0, dc = 0.0;
  for (int64_t k = 0; k < 4; ++k) {
    double r = 0.0;
    for (int64_t i = 0; i < 3; ++i)
      r += static_cast<double>(xh[k * 3 + i]) * xh[k * 3 + i];
    r = std::sqrt(r);
    total += (0.8 * r - 1) * (0.8 * r - 1);
    dc += 2 * (0.8 * r - 1) * r;
  }
  EXPECT_TRUE(all_close(p, {static_cast<float>(5.0 * total / 4)}, 1e-5, 1e-5));
  p.backward();
  EXPECT_TRUE(all_close(c.grad(), {static_cast<float>(5.0 * dc / 4)}, 1e-5, 1e-4));
  EXPECT_EQ(gen.offset(), twin.offset()) << "alpha is the only draw";
}

// The whole WGAN-GP path: conv2d(k3, s2) -> leaky_relu -> conv2d -> leaky_relu -> linear. The
// penalty as a function of the critic's parameters: gradcheck compares d(penalty)/d(params),
// which runs the double backward through every layer, with finite differences of the penalty;
// gradgradcheck differentiates that once more.
TEST_P(GradientPenaltyTest, WholePathThroughConvCritic) {
  const Shape xs = {2, 1, 5, 5};
  const Tensor real = make(lcg_values(50, 98), xs, device());
  const Tensor fake = make(lcg_values(50, 99, -1.5f, 1.5f), xs, device());
  const Tensor alpha = make({0.3f, 0.8f}, {2}, device());
  const auto critic_with = [](const std::vector<Tensor>& p) {
    return [p](const Tensor& x) {
      Tensor h = leaky_relu(conv2d(x, p[0], p[1], Conv2dOptions(2, 0)), 0.2f);  // [2, 2, 2, 2]
      h = leaky_relu(conv2d(h, p[2], p[3]), 0.2f);                              // [2, 2, 1, 1]
      return linear(h.flatten(1), p[4], p[5]);                                  // [2, 1]
    };
  };
  const auto penalty = [&](const std::vector<Tensor>& p) {
    EnableGradGuard enable;
    const Tensor x = gradient_penalty_interpolate(real, fake, alpha).requires_grad_(true);
    const Tensor out = critic_with(p)(x);
    return gradient_penalty(grad({sum(out)}, {x}, {}, /*create_graph=*/true)[0], 10.f);
  };
  const std::vector<Tensor> params = {
      make(lcg_values(18, 100, -0.7f, 0.7f), {2, 1, 3, 3}, device(), true),
      make(lcg_values(2, 101, -0.2f, 0.2f), {2}, device(), true),
      make(lcg_values(16, 102, -0.7f, 0.7f), {2, 2, 2, 2}, device(), true),
      make(lcg_values(2, 103, -0.2f, 0.2f), {2}, device(), true),
      make(lcg_values(2, 104, -1.f, 1.f), {1, 2}, device(), true),
      make(lcg_values(1, 105), {1}, device(), true)};
  EXPECT_TRUE(grad_ok(penalty, params));
  EXPECT_TRUE(gradgrad_ok(penalty, params));

  // The same penalty through wgan_gradient_penalty: its alpha comes from the generator.
  Generator gen(5), twin(5);
  const Tensor a = rand({2}, TensorOptions(device()), &twin);
  const auto fixed = [&](const std::vector<Tensor>& p) {
    EnableGradGuard enable;
    const Tensor x = gradient_penalty_interpolate(real, fake, a).requires_grad_(true);
    return gradient_penalty(grad({sum(critic_with(p)(x))}, {x}, {}, true)[0], 10.f);
  };
  const Tensor p1 = wgan_gradient_penalty(critic_with(params), real, fake, 10.f, &gen);
  EXPECT_TRUE(all_close(p1, fixed(params).to_vector(), 1e-6, 1e-6));
  // With piecewise-linear activations the critic's input gradient does not depend on the
  // biases, so they get no gradient (undefined) from the penalty.
  const std::vector<Tensor> g1 = grad({p1}, params, {}, false, std::nullopt, true);
  const std::vector<Tensor> g2 = grad({fixed(params)}, params, {}, false, std::nullopt, true);
  for (size_t i = 0; i < params.size(); ++i) {
    SCOPED_TRACE("parameter " + std::to_string(i));
    ASSERT_EQ(g1[i].defined(), i % 2 == 0);
    ASSERT_EQ(g2[i].defined(), i % 2 == 0);
    if (g1[i].defined()) {
      EXPECT_TRUE(all_close(g1[i], g2[i], 1e-6, 1e-6));
    }
  }
}

// With a fake that requires grad (a generator step), the penalty reaches the generator too.
TEST_P(GradientPenaltyTest, PenaltyReachesFakeWithHistory) {
  const Tensor w = make(lcg_values(4, 106), {1, 4}, device(), true);
  const Tensor fake = make(lcg_values(8, 107), {2, 4}, device(), true);
  const auto critic = [w](const Tensor& x) { return sum(x * x * w, {1}); };
  const Tensor p =
      wgan_gradient_penalty(critic, make(lcg_values(8, 108), {2, 4}, device()), fake * 1.f);
  p.backward();
  ASSERT_TRUE(fake.grad().defined());
  ASSERT_TRUE(w.grad().defined());
}

TEST_P(GradientPenaltyTest, Errors) {
  using ge::testing::error_of;
  const Tensor real = make(lcg_values(12, 109), {3, 4}, device());
  const Tensor alpha = make({0.1f, 0.2f, 0.3f}, {3}, device());
  EXPECT_TRUE(contains(
      error_of([&] {
        gradient_penalty_interpolate(real, make(lcg_values(8, 1), {2, 4}, device()), alpha);
      }),
      "gradient_penalty_interpolate: expected fake of real's shape [3, 4], got "
      "[2, 4]"));
  EXPECT_TRUE(
      contains(error_of([&] {
                 gradient_penalty_interpolate(real, real, make({0.1f, 0.2f}, {2}, device()));
               }),
               "gradient_penalty_interpolate: expected alpha of shape [3] (one per sample "
               "of real [3, 4]), got shape [2]"));
  EXPECT_TRUE(contains(
      error_of([&] {
        gradient_penalty_interpolate(real, real, make(lcg_values(12, 2), {3, 4}, device()));
      }),
      "got shape [3, 4]"));
  EXPECT_TRUE(contains(
      error_of([&] { gradient_penalty_interpolate(scalar_tensor(1.f, device()), real, alpha); }),
      "gradient_penalty_interpolate: expected real [N, ...] with a batch dim, got shape []"));
  EXPECT_TRUE(contains(error_of([&] { gradient_penalty(scalar_tensor(1.f, device())); }),
                       "gradient_penalty: expected grad [N, ...] with N >= 1 samples, got shape "
                       "[]"));
  EXPECT_TRUE(contains(error_of([&] {
                         gradient_penalty(zeros({0, 3}, device()));
                       }),
                       "got shape [0, 3]"));
  EXPECT_TRUE(contains(error_of([&] { gradient_penalty(real, NAN); }),
                       "gradient_penalty: expected a finite lambda, got nan"));
  EXPECT_TRUE(contains(error_of([&] { wgan_gradient_penalty({}, real, real); }),
                       "wgan_gradient_penalty: expected a critic function, got an empty one"));
  const auto critic = [](const Tensor& x) { return sum(x, {1}); };
  EXPECT_TRUE(
      contains(error_of([&] {
                 wgan_gradient_penalty(critic, real, make(lcg_values(8, 3), {4, 2}, device()));
               }),
               "expected fake of real's shape [3, 4], got [4, 2]"));
  if (cuda_is_available()) {
    const Tensor other = make(lcg_values(12, 4), {3, 4}, other_device(device()));
    EXPECT_TRUE(contains(error_of([&] { gradient_penalty_interpolate(real, other, alpha); }),
                         "gradient_penalty_interpolate: expected all tensors on the same device"));
  }
}

GE_INSTANTIATE_DEVICE_TEST(GradientPenaltyTest);

}  // namespace
}  // namespace ge::optest
