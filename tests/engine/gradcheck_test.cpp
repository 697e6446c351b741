// gradcheck and gradgradcheck: pass on correct formulas, and fail on a deliberately wrong one.
#include <gtest/gtest.h>

#include "ganengine/autograd_function.h"
#include "ganengine/ganengine.h"
#include "support/devices.h"
#include "support/reference.h"

namespace {

class GradcheckTest : public DeviceTest {
 protected:
  ge::Tensor input(const ge::Shape& shape, uint32_t seed, float lo = -1.f, float hi = 1.f) const {
    return ge::from_vector(ge::testing::lcg_values(ge::numel(shape), seed, lo, hi), shape,
                           ge::TensorOptions(device()).requires_grad(true));
  }
};

// cube(x) = x^3 recorded with a backward of 2x^2 instead of 3x^2.
ge::Tensor wrong_cube(const ge::Tensor& x) {
  ge::Tensor out;
  {
    ge::NoGradGuard no_grad;
    out = x * x * x;
  }
  if (ge::autograd::needs_grad({x})) {
    ge::autograd::record("WrongCubeBackward", {x}, {out},
                         [](ge::autograd::BackwardContext& ctx, const std::vector<ge::Tensor>& g) {
                           const ge::Tensor& v = ctx.saved(0);
                           return std::vector<ge::Tensor>{g[0] * v * v * 2.f};
                         },
                         {x});
  }
  return out;
}

// The same op recorded correctly, to show the helper itself is sound.
ge::Tensor right_cube(const ge::Tensor& x) {
  ge::Tensor out;
  {
    ge::NoGradGuard no_grad;
    out = x * x * x;
  }
  if (ge::autograd::needs_grad({x})) {
    ge::autograd::record("CubeBackward", {x}, {out},
                         [](ge::autograd::BackwardContext& ctx, const std::vector<ge::Tensor>& g) {
                           const ge::Tensor& v = ctx.saved(0);
                           return std::vector<ge::Tensor>{g[0] * v * v * 3.f};
                         },
                         {x});
  }
  return out;
}

TEST_P(GradcheckTest, CatchesAWrongBackward) {
  const ge::Tensor x = input({2, 2}, 7, 0.5f, 1.5f);
  auto fn = [](const std::vector<ge::Tensor>& in) { return wrong_cube(in[0]); };
  ge::GradcheckOptions opt;
  opt.raise = false;
  EXPECT_FALSE(ge::gradcheck(fn, {x}, opt));
  opt.raise = true;
  try {
    ge::gradcheck(fn, {x}, opt);
    FAIL() << "gradcheck accepted a wrong backward";
  } catch (const ge::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("input 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("numerical"), std::string::npos) << msg;
    EXPECT_NE(msg.find("analytical"), std::string::npos) << msg;
  }
}

TEST_P(GradcheckTest, AcceptsACorrectCustomBackward) {
  const ge::Tensor x = input({3}, 8, 0.5f, 1.5f);
  EXPECT_TRUE(ge::gradcheck([](const auto& in) { return right_cube(in[0]); }, {x}));
  // Its backward is written with differentiable ops, so second order works too.
  EXPECT_TRUE(ge::gradgradcheck([](const auto& in) { return right_cube(in[0]); }, {x}));
}

// cube(x) whose backward is right but computed without history (3x^2 detached), so its
// second derivative wrt x is lost: gradcheck passes, gradgradcheck must not.
ge::Tensor first_order_only_cube(const ge::Tensor& x) {
  ge::Tensor out;
  {
    ge::NoGradGuard no_grad;
    out = x * x * x;
  }
  if (ge::autograd::needs_grad({x})) {
    ge::autograd::record("FirstOrderCubeBackward", {x}, {out},
                         [](ge::autograd::BackwardContext& ctx, const std::vector<ge::Tensor>& g) {
                           const ge::Tensor v = ctx.saved(0).detach();
                           return std::vector<ge::Tensor>{g[0] * (v * v * 3.f)};
                         },
                         {x});
  }
  return out;
}

TEST_P(GradcheckTest, GradgradcheckCatchesANonDifferentiableBackward) {
  const ge::Tensor x = input({3}, 9, 0.5f, 1.5f);
  auto fn = [](const std::vector<ge::Tensor>& in) { return first_order_only_cube(in[0]); };
  EXPECT_TRUE(ge::gradcheck(fn, {x}));
  ge::GradcheckOptions opt;
  opt.raise = false;
  EXPECT_FALSE(ge::gradgradcheck(fn, {x}, ge::Tensor(), opt));
}

TEST_P(GradcheckTest, BuiltInOpsPass) {
  const ge::Tensor a = input({2, 3}, 1);
  const ge::Tensor b = input({3}, 2, 0.5f, 1.5f);
  const ge::Tensor w = input({3, 2}, 3);
  auto fn = [](const std::vector<ge::Tensor>& in) {
    const ge::Tensor h = ge::tanh(in[0] * in[1] + ge::sigmoid(in[0]) / in[1]);
    return ge::matmul(h, in[2]).max({1}) + ge::softplus(h).mean({1});
  };
  EXPECT_TRUE(ge::gradcheck(fn, {a, b, w}));
  EXPECT_TRUE(ge::gradgradcheck(fn, {a, b, w}));
}

TEST_P(GradcheckTest, InputsWithoutGradAreConstants) {
  const ge::Tensor x = input({2}, 4);
  const ge::Tensor c = ge::from_vector({2, 3}, {2}, device());
  EXPECT_TRUE(ge::gradcheck([](const auto& in) { return ge::exp(in[0]) * in[1]; }, {x, c}));
  EXPECT_THROW(ge::gradcheck([](const auto& in) { return in[0] * 2.f; }, {c}), ge::Error);
}

GE_INSTANTIATE_DEVICE_TEST(GradcheckTest);

}  // namespace
