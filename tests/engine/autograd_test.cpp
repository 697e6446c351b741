// Autograd engine: accumulation, graph freeing, higher order, pruning, guards, saved tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "ganengine/ganengine.h"
#include "support/devices.h"
#include "support/reference.h"

namespace {

using ge::testing::all_close;

class AutogradTest : public DeviceTest {
 protected:
  ge::Tensor leaf(const std::vector<float>& v, const ge::Shape& shape) const {
    return ge::from_vector(v, shape, ge::TensorOptions(device()).requires_grad(true));
  }
};

TEST_P(AutogradTest, BackwardAccumulatesIntoLeaves) {
  ge::Tensor x = leaf({1, 2, 3}, {3});
  ge::Tensor w = leaf({0.5f, -1, 2}, {3});
  ge::Tensor y = (x * w).sum();
  y.backward();
  EXPECT_TRUE(all_close(x.grad(), {0.5f, -1, 2}));
  EXPECT_TRUE(all_close(w.grad(), {1, 2, 3}));
  // A second graph adds to the existing .grad.
  (x * x).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), {2.5f, 3, 8}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST_P(AutogradTest, SharedSubexpressionSumsGradients) {
  ge::Tensor x = leaf({2}, {1});
  ge::Tensor a = x * 3.f;
  ge::Tensor y = (a * a + a).sum();  // 9x^2 + 3x -> 18x + 3
  y.backward();
  EXPECT_TRUE(all_close(x.grad(), {39}));
}

// The hook runs once per backward, after the leaf's gradient from every path is in .grad; never
// for grad(), which returns gradients instead; and no more once removed.
TEST_P(AutogradTest, PostAccumulateGradHookSeesTheWholeGradientOncePerBackward) {
  ge::Tensor x = leaf({2}, {1});
  std::vector<std::vector<float>> seen;
  const uint64_t id = x.register_post_accumulate_grad_hook(
      [&](const ge::Tensor& t) { seen.push_back(t.grad().to_vector()); });
  const ge::Tensor a = x * 3.f;
  (a * a + a).sum().backward();  // three paths into x: 18x + 3
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], std::vector<float>({39.f}));
  (x * x).sum().backward();  // accumulates: 39 + 4
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], std::vector<float>({43.f}));
  (void)ge::grad({(x * x).sum()}, {x});
  EXPECT_EQ(seen.size(), 2u);
  x.remove_post_accumulate_grad_hook(id);
  (x * x).sum().backward();
  EXPECT_EQ(seen.size(), 2u);
  // Only leaves that require grad take hooks.
  EXPECT_THROW(a.register_post_accumulate_grad_hook([](const ge::Tensor&) {}), ge::Error);
  EXPECT_THROW(ge::zeros({1}).register_post_accumulate_grad_hook([](const ge::Tensor&) {}),
               ge::Error);
}

TEST_P(AutogradTest, SecondBackwardWithoutRetainGraphFails) {
  ge::Tensor x = leaf({1, 2}, {2});
  ge::Tensor y = (ge::exp(x) * x).sum();
  y.backward();
  const std::string msg = ge::testing::error_of([&] { y.backward(); });
  EXPECT_NE(msg.find("graph was freed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("retain_graph=true"), std::string::npos) << msg;
}

TEST_P(AutogradTest, RetainGraphAllowsASecondBackward) {
  ge::Tensor x = leaf({1, 2}, {2});
  ge::Tensor y = (ge::exp(x) * x).sum();
  y.backward(ge::Tensor(), /*retain_graph=*/true);
  y.backward();
  const float e1 = std::exp(1.f), e2 = std::exp(2.f);
  EXPECT_TRUE(all_close(x.grad(), {2 * (e1 + e1), 2 * (e2 + 2 * e2)}, 1e-4, 1e-5));
}

TEST_P(AutogradTest, NonScalarBackwardNeedsGradOutput) {
  ge::Tensor x = leaf(std::vector<float>(6, 1.f), {2, 3});
  ge::Tensor y = x * 2.f;
  const std::string msg = ge::testing::error_of([&] { y.backward(); });
  EXPECT_NE(msg.find("backward: expected a scalar output"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got shape [2, 3]"), std::string::npos) << msg;
  y.backward(ge::ones({2, 3}, device()));
  EXPECT_TRUE(all_close(x.grad(), std::vector<float>(6, 2.f)));
}

TEST_P(AutogradTest, SecondDerivativeOfCube) {
  ge::Tensor x = leaf({-1.5f, 0.5f, 2.f}, {3});
  ge::Tensor y = ge::pow(x, 3.f).sum();
  const ge::Tensor dy = ge::grad({y}, {x}, {}, /*create_graph=*/true)[0];
  EXPECT_TRUE(dy.requires_grad());
  EXPECT_TRUE(all_close(dy, {3 * 2.25f, 3 * 0.25f, 3 * 4.f}, 1e-4, 1e-5));
  const ge::Tensor d2y = ge::grad({dy.sum()}, {x})[0];
  EXPECT_TRUE(all_close(d2y, {6 * -1.5f, 6 * 0.5f, 6 * 2.f}, 1e-4, 1e-5));  // 6x
  EXPECT_FALSE(x.grad().defined()) << "grad() must not touch .grad";
}

TEST_P(AutogradTest, SecondDerivativesOfTanhAndSigmoid) {
  const std::vector<float> v = {-0.7f, 0.2f, 1.1f};
  ge::Tensor x = leaf(v, {3});
  const ge::Tensor g1 = ge::grad({(ge::tanh(x) + ge::sigmoid(x)).sum()}, {x}, {}, true)[0];
  const ge::Tensor g2 = ge::grad({g1.sum()}, {x})[0];
  std::vector<float> expected;
  for (float a : v) {
    const double t = std::tanh(a), s = 1 / (1 + std::exp(-a));
    expected.push_back(static_cast<float>(-2 * t * (1 - t * t) + s * (1 - s) * (1 - 2 * s)));
  }
  EXPECT_TRUE(all_close(g2, expected, 1e-4, 1e-4));
}

TEST_P(AutogradTest, GradWrtNonLeafAndBackwardWithCreateGraph) {
  ge::Tensor x = leaf({1, 2}, {2});
  ge::Tensor h = x * x;  // non-leaf input
  ge::Tensor y = (h * 3.f).sum();
  const ge::Tensor gh = ge::grad({y}, {h}, {}, false, true)[0];
  EXPECT_TRUE(all_close(gh, {3, 3}));
  // backward(create_graph) leaves a .grad with history: d/dx sum(x.grad) = d/dx sum(6x) = 6.
  y.backward(ge::Tensor(), false, /*create_graph=*/true);
  EXPECT_TRUE(x.grad().requires_grad());
  const ge::Tensor g2 = ge::grad({x.grad().sum()}, {x})[0];
  EXPECT_TRUE(all_close(g2, {6, 6}));
}

TEST_P(AutogradTest, GradPrunesOtherLeaves) {
  ge::Tensor x = leaf({1, 2}, {2});
  ge::Tensor w = leaf({3, 4}, {2});
  ge::Tensor y = (x * w).sum();
  const ge::Tensor gx = ge::grad({y}, {x})[0];
  EXPECT_TRUE(all_close(gx, {3, 4}));
  EXPECT_FALSE(w.grad().defined()) << "grad() wrt x accumulated into w.grad";
  EXPECT_FALSE(x.grad().defined());
}

TEST_P(AutogradTest, AllowUnused) {
  ge::Tensor x = leaf({1}, {1});
  ge::Tensor unused = leaf({1}, {1});
  ge::Tensor y = (x * 2.f).sum();
  const std::string msg = ge::testing::error_of([&] {
    (void)ge::grad({y}, {x, unused}, {}, false, true);
  });
  EXPECT_NE(msg.find("allow_unused"), std::string::npos) << msg;
  const auto g = ge::grad({y}, {x, unused}, {}, false, true, /*allow_unused=*/true);
  EXPECT_TRUE(all_close(g[0], {2}));
  EXPECT_FALSE(g[1].defined());
}

TEST_P(AutogradTest, NoGradAndDetach) {
  ge::Tensor x = leaf({1, 2}, {2});
  {
    ge::NoGradGuard no_grad;
    EXPECT_FALSE(ge::is_grad_enabled());
    ge::Tensor y = x * 2.f;
    EXPECT_FALSE(y.requires_grad());
    {
      ge::EnableGradGuard enable;
      EXPECT_TRUE((x * 2.f).requires_grad());
    }
    x.add_(ge::ones({2}, device()));  // optimizer-style update is allowed here
  }
  EXPECT_TRUE(ge::is_grad_enabled());
  EXPECT_TRUE(all_close(x, {2, 3}));
  ge::Tensor d = (x * 1.f).detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  ge::Tensor xd = x.detach();
  EXPECT_EQ(xd.data_ptr(), x.data_ptr()) << "detach shares storage";
  const std::string msg = ge::testing::error_of([&] { x.fill_(0.f); });
  EXPECT_NE(msg.find("fill_: cannot modify a tensor that requires grad in place"),
            std::string::npos)
      << msg;
}

TEST_P(AutogradTest, GradModeIsPerThread) {
  ge::Tensor x = leaf({1}, {1});
  ge::NoGradGuard no_grad;
  bool other_thread_records = false;
  std::thread t([&] { other_thread_records = (x * 2.f).requires_grad(); });
  t.join();
  EXPECT_TRUE(other_thread_records);
  EXPECT_FALSE((x * 2.f).requires_grad());
}

TEST_P(AutogradTest, BackwardOfSeveralOutputs) {
  ge::Tensor x = leaf({1, 2}, {2});
  ge::Tensor h = x * x;
  ge::backward({h.sum(), (h * 3.f).sum()});  // 2x + 6x
  EXPECT_TRUE(all_close(x.grad(), {8, 16}));
}

TEST_P(AutogradTest, InPlaceChangeOfSavedTensorIsDetected) {
  ge::Tensor w = leaf({1, 2}, {2});
  ge::Tensor x = ge::from_vector({3, 4}, {2}, device());  // saved by mul, no grad
  ge::Tensor y = (w * x).sum();
  x.fill_(1.f);
  const std::string msg = ge::testing::error_of([&] { y.backward(); });
  EXPECT_NE(msg.find("modified by an in-place operation"), std::string::npos) << msg;
  EXPECT_NE(msg.find("MulBackward"), std::string::npos) << msg;
}

TEST_P(AutogradTest, SavedOutputDoesNotKeepItsNodeAlive) {
  std::weak_ptr<ge::autograd::Node> node;
  {
    ge::Tensor x = leaf({1, 2}, {2});
    ge::Tensor y = ge::exp(x);  // saves its own output
    node = y.grad_fn();
    EXPECT_FALSE(node.expired());
  }
  EXPECT_TRUE(node.expired()) << "exp's node and its saved output form a reference cycle";
}

TEST_P(AutogradTest, CreateGraphGradDoesNotKeepTheLeafAlive) {
  std::weak_ptr<ge::autograd::Node> node;
  {
    // exp saves its output, not x, so x.grad's history reaches x only through its
    // accumulator. (An op that saves x itself, like x * x, does tie x and x.grad together, as
    // in PyTorch: zero_grad() or grad() instead of backward(create_graph) avoids that.)
    ge::Tensor x = leaf({1, 2}, {2});
    ge::exp(x).sum().backward(ge::Tensor(), false, /*create_graph=*/true);
    node = x.grad().grad_fn();
    EXPECT_FALSE(node.expired());
  }
  EXPECT_TRUE(node.expired()) << "leaf -> grad -> history -> AccumulateGrad -> leaf cycle";
}

TEST_P(AutogradTest, ToIsDifferentiable) {
  ge::Tensor x = ge::from_vector({1, 2}, {2}, ge::TensorOptions(ge::kCPU).requires_grad(true));
  ge::Tensor y = (x.to(device()) * ge::from_vector({5, 6}, {2}, device())).sum();
  y.backward();
  EXPECT_TRUE(x.grad().device().is_cpu());
  EXPECT_TRUE(all_close(x.grad(), {5, 6}));
}

TEST_P(AutogradTest, ViewAndCatGradients) {
  ge::Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  ge::Tensor y = ge::cat({x.slice(1, 1, 3), x.t().select(0, 0).unsqueeze(1)}, 1);  // [2, 3]
  (y * ge::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, device())).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), {3, 1, 2, 6, 4, 5}));
}

// WGAN-GP: penalty = (||d critic(x)/dx|| - 1)^2 for a tiny MLP critic. Its gradient wrt the
// weights needs second-order autograd; gradcheck compares it with finite differences.
TEST_P(AutogradTest, GradientPenaltyOfTinyMlpPassesGradcheck) {
  const ge::TensorOptions opts = ge::TensorOptions(device()).requires_grad(true);
  const ge::Tensor w1 = ge::from_vector(ge::testing::lcg_values(6, 1), {3, 2}, opts);
  const ge::Tensor b1 = ge::from_vector(ge::testing::lcg_values(3, 2), {3}, opts);
  const ge::Tensor w2 = ge::from_vector(ge::testing::lcg_values(3, 3), {1, 3}, opts);
  const ge::Tensor x = ge::from_vector(ge::testing::lcg_values(4, 4), {2, 2}, device());
  auto penalty = [x](const std::vector<ge::Tensor>& p) {
    ge::Tensor xi = x.detach().requires_grad_(true);
    ge::Tensor critic = ge::linear(ge::tanh(ge::linear(xi, p[0], p[1])), p[2]);
    ge::Tensor g = ge::grad({critic.sum()}, {xi}, {}, /*create_graph=*/true)[0];
    ge::Tensor norm = ge::sqrt(ge::square(g).sum({1}) + 1e-12f);
    return ge::square(norm - 1.f).mean();
  };
  ge::GradcheckOptions opt;
  opt.eps = 1e-2;
  opt.atol = 2e-3;
  opt.rtol = 2e-2;
  EXPECT_TRUE(ge::gradcheck(penalty, {w1, b1, w2}, opt));
  // And the penalty really depends on the weights through second-order terms.
  const auto grads = ge::grad({penalty({w1, b1, w2})}, {w1, b1, w2});
  double total = 0;
  for (const auto& g : grads) {
    for (float v : g.to_vector())
      total += std::fabs(v);
  }
  EXPECT_GT(total, 1e-4);
}

GE_INSTANTIATE_DEVICE_TEST(AutogradTest);

}  // namespace
