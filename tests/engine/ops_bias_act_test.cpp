// bias_act and leaky_relu on every device: forward against a host reference in double for each
// activation, with and without bias and clamp, bias along dim 1 and the last dim; gradcheck and
// gradgradcheck for each activation (inputs kept off the kinks at 0 and the clamp boundary), a
// third-order check through create_graph, and the argument errors.
#include "ganengine/bias_act.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"
#include "support/act_reference.h"

namespace ge::optest {
namespace {

class BiasActTest : public DeviceTest {};

constexpr Activation kActs[] = {Activation::Linear, Activation::Relu, Activation::LeakyRelu,
                                Activation::Tanh, Activation::Sigmoid};

const char* act_name(Activation a) {
  switch (a) {
    case Activation::Linear:
      return "linear";
    case Activation::Relu:
      return "relu";
    case Activation::LeakyRelu:
      return "lrelu";
    case Activation::Tanh:
      return "tanh";
    case Activation::Sigmoid:
      return "sigmoid";
  }
  return "?";
}

// The gain `o` resolves to.
double expected_gain(const BiasActOptions& o) {
  return o.gain ? *o.gain : testing::default_gain_ref(o.act);
}

// The bias index of flat element i of x for bias along `dim` (non-negative).
int64_t channel_of(int64_t i, const Shape& shape, int64_t dim) {
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(dim) + 1; d < shape.size(); ++d)
    inner *= shape[d];
  return (i / inner) % shape[static_cast<size_t>(dim)];
}

std::vector<float> bias_act_ref(const std::vector<float>& x, const Shape& shape,
                                const std::vector<float>* bias, const BiasActOptions& o) {
  const int64_t dim = o.dim < 0 ? o.dim + static_cast<int64_t>(shape.size()) : o.dim;
  const double gain = expected_gain(o);
  std::vector<float> out(x.size());
  for (int64_t i = 0; i < count(shape); ++i) {
    const double b = bias ? (*bias)[static_cast<size_t>(channel_of(i, shape, dim))] : 0.0;
    out[static_cast<size_t>(i)] = static_cast<float>(
        testing::epilogue_ref(o.act, x[static_cast<size_t>(i)] + b, o.alpha, gain, o.clamp));
  }
  return out;
}

// Moves x so that u = x + b stays >= 0.2 from the kink at 0 and |y| stays >= 0.05 from the clamp:
// finite differences of size 1e-3 then never straddle either.
std::vector<float> off_kinks(std::vector<float> x, const Shape& shape, const std::vector<float>& b,
                             const BiasActOptions& o) {
  const int64_t dim = o.dim < 0 ? o.dim + static_cast<int64_t>(shape.size()) : o.dim;
  const double gain = expected_gain(o);
  for (int64_t i = 0; i < count(shape); ++i) {
    float& v = x[static_cast<size_t>(i)];
    const double bi = b[static_cast<size_t>(channel_of(i, shape, dim))];
    for (int tries = 0; tries < 100; ++tries) {
      const double u = v + bi;
      const double y = std::fabs(testing::act_ref(o.act, u, o.alpha) * gain);
      if (std::fabs(u) >= 0.2 && (o.clamp < 0 || std::fabs(y - o.clamp) >= 0.05)) break;
      v += 0.07f;
    }
  }
  return x;
}

BiasActOptions options(Activation act, int64_t dim, float clamp) {
  BiasActOptions o;
  o.act = act;
  o.dim = dim;
  o.clamp = clamp;
  return o;
}

std::string case_name(Activation act, int64_t dim, bool with_bias, float clamp) {
  return std::string(act_name(act)) + " dim " + std::to_string(dim) + " bias " +
         std::to_string(with_bias) + " clamp " + std::to_string(clamp);
}

TEST_P(BiasActTest, ForwardMatchesReference) {
  const Shape shape = {2, 3, 4, 5};
  const std::vector<float> x = lcg_values(count(shape), 1, -2.f, 2.f);
  for (Activation act : kActs) {
    for (int64_t dim : {int64_t{1}, int64_t{-1}}) {
      const int64_t channels = dim == 1 ? 3 : 5;
      const std::vector<float> b = lcg_values(channels, 2, -0.5f, 0.5f);
      for (bool with_bias : {false, true}) {
        for (float clamp : {-1.f, 0.6f}) {
          SCOPED_TRACE(case_name(act, dim, with_bias, clamp));
          const BiasActOptions o = options(act, dim, clamp);
          const Tensor y = bias_act(make(x, shape, device()),
                                    with_bias ? make(b, {channels}, device()) : Tensor(), o);
          EXPECT_EQ(y.shape(), shape);
          EXPECT_EQ(y.device(), device());
          EXPECT_TRUE(all_close(y, bias_act_ref(x, shape, with_bias ? &b : nullptr, o)));
        }
      }
    }
  }
}

TEST_P(BiasActTest, GainAndAlphaOverrides) {
  const Shape shape = {3, 4};
  const std::vector<float> x = lcg_values(12, 3, -2.f, 2.f), b = lcg_values(4, 4);
  BiasActOptions o;
  o.act = Activation::LeakyRelu;
  o.alpha = 0.05f;
  o.gain = 0.75f;
  o.dim = 1;
  EXPECT_TRUE(all_close(bias_act(make(x, shape, device()), make(b, {4}, device()), o),
                        bias_act_ref(x, shape, &b, o)));
  EXPECT_FLOAT_EQ(default_gain(Activation::Relu), std::sqrt(2.f));
  EXPECT_FLOAT_EQ(default_gain(Activation::Tanh), 1.f);
}

TEST_P(BiasActTest, NonContiguousInput) {
  const std::vector<float> base = lcg_values(12, 5, -2.f, 2.f), b = lcg_values(3, 6);
  const Tensor x = make(base, {4, 3}, device()).t();  // [3, 4], bias along dim 0
  ASSERT_FALSE(x.is_contiguous());
  BiasActOptions o;
  o.act = Activation::Tanh;
  o.dim = 0;
  EXPECT_TRUE(all_close(bias_act(x, make(b, {3}, device()), o),
                        bias_act_ref(permuted(base, {4, 3}, {1, 0}), {3, 4}, &b, o)));
}

TEST_P(BiasActTest, LeakyReluIsPyTorchs) {
  const std::vector<float> x = lcg_values(10, 7, -2.f, 2.f);
  std::vector<float> want;
  for (float v : x)
    want.push_back(v > 0 ? v : 0.01f * v);
  EXPECT_TRUE(all_close(leaky_relu(make(x, {2, 5}, device())), want));
  const Tensor xg = make(away_from_zero(6, 8), {6}, device(), true);
  EXPECT_TRUE(grad_ok([](const std::vector<Tensor>& in) { return leaky_relu(in[0], 0.1f); }, {xg}));
  EXPECT_TRUE(
      gradgrad_ok([](const std::vector<Tensor>& in) { return leaky_relu(in[0], 0.1f); }, {xg}));
}

// gradcheck and gradgradcheck for every activation, with and without bias and clamp, bias along
// dim 1 and along the last dim.
TEST_P(BiasActTest, FirstAndSecondOrderGradients) {
  const Shape shape = {2, 3, 2};
  for (Activation act : kActs) {
    for (int64_t dim : {int64_t{1}, int64_t{-1}}) {
      for (bool with_bias : {false, true}) {
        for (float clamp : {-1.f, 0.5f}) {
          SCOPED_TRACE(case_name(act, dim, with_bias, clamp));
          const BiasActOptions o = options(act, dim, clamp);
          const int64_t channels = shape[dim == 1 ? 1 : 2];
          const std::vector<float> b =
              with_bias ? lcg_values(channels, 9, -0.1f, 0.1f) : std::vector<float>(3, 0.f);
          const std::vector<float> xv =
              off_kinks(lcg_values(count(shape), 10, -1.2f, 1.2f), shape, b, o);
          std::vector<Tensor> inputs = {make(xv, shape, device(), true)};
          if (with_bias) inputs.push_back(make(b, {channels}, device(), true));
          const auto fn = [o](const std::vector<Tensor>& in) {
            return bias_act(in[0], in.size() > 1 ? in[1] : Tensor(), o);
          };
          EXPECT_TRUE(grad_ok(fn, inputs));
          EXPECT_TRUE(gradgrad_ok(fn, inputs));
        }
      }
    }
  }
}

// The second-order backward is itself differentiable: check third derivatives by running
// gradgradcheck on the first-order gradient built with create_graph.
TEST_P(BiasActTest, ThirdOrderThroughCreateGraph) {
  const Shape shape = {2, 3};
  for (Activation act : {Activation::Tanh, Activation::Sigmoid}) {
    for (float clamp : {-1.f, 0.45f}) {
      SCOPED_TRACE(std::string(act_name(act)) + " clamp " + std::to_string(clamp));
      BiasActOptions o;
      o.act = act;
      o.clamp = clamp;
      o.gain = 1.3f;
      const std::vector<float> b = lcg_values(3, 11, -0.1f, 0.1f);
      const std::vector<float> xv = off_kinks(lcg_values(6, 12, -1.2f, 1.2f), shape, b, o);
      const Tensor w = make(lcg_values(6, 13), shape, device());
      const auto first = [o, w](const std::vector<Tensor>& in) {
        // gradgradcheck also calls fn on detached inputs (to size its output); grad() needs
        // an x that requires grad even then.
        EnableGradGuard enable;
        const Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_(true);
        const Tensor y = bias_act(x, in[1], o);
        return grad({sum(y * w)}, {x}, {}, /*create_graph=*/true)[0];
      };
      EXPECT_TRUE(
          gradgrad_ok(first, {make(xv, shape, device(), true), make(b, {3}, device(), true)}));
    }
  }
}

// The backward keeps y, not x: changing x in place after the forward leaves backward valid.
TEST_P(BiasActTest, BackwardDoesNotSaveInput) {
  const Tensor leaf = make(lcg_values(6, 14, 0.5f, 1.f), {2, 3}, device(), true);
  const Tensor x = leaf * 1.f;
  BiasActOptions o;
  o.act = Activation::Sigmoid;
  const Tensor y = bias_act(x, Tensor(), o);
  {
    NoGradGuard no_grad;
    x.detach().fill_(100.f);  // bumps the version counter x shares with its storage
  }
  EXPECT_NO_THROW(sum(y).backward());
  ASSERT_TRUE(leaf.grad().defined());
}

TEST_P(BiasActTest, Errors) {
  const Tensor x = make(lcg_values(24, 15), {2, 3, 4}, device());
  BiasActOptions o;
  o.act = Activation::LeakyRelu;
  EXPECT_TRUE(throws_with(
      [&] {
        bias_act(x, make({1, 2, 3, 4}, {4}, device()), o);
      },
      {"bias_act", "bias of size x.shape[1] = 3", "[4]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        bias_act(x, make({1, 2, 3, 4, 5, 6}, {2, 3}, device()), o);
      },
      {"bias_act", "1-D bias", "[2, 3]"}));
  o.dim = 3;
  EXPECT_TRUE(throws_with(
      [&] {
        bias_act(x, make({1, 2, 3}, {3}, device()), o);
      },
      {"bias_act", "dim in [-3, 3)", "[2, 3, 4]", "got 3"}));
  o.dim = 1;
  EXPECT_TRUE(throws_with([&] { bias_act(Tensor(), Tensor(), o); }, {"bias_act", "defined"}));
  o.alpha = -0.5f;
  EXPECT_TRUE(throws_with([&] { bias_act(x, Tensor(), o); }, {"bias_act", "alpha >= 0", "-0.5"}));
  EXPECT_TRUE(
      throws_with([&] { leaky_relu(x, -0.2f); }, {"leaky_relu", "negative_slope >= 0", "-0.2"}));
  o.alpha = 0.2f;
  o.gain = INFINITY;
  EXPECT_TRUE(throws_with([&] { bias_act(x, Tensor(), o); }, {"bias_act", "finite gain", "inf"}));
  if (cuda_is_available()) {
    o.gain.reset();
    const Tensor b = make({1, 2, 3}, {3}, other_device(device()));
    EXPECT_TRUE(throws_with([&] { bias_act(x, b, o); }, {"bias_act", "same device"}));
  }
}

GE_INSTANTIATE_DEVICE_TEST(BiasActTest);

}  // namespace
}  // namespace ge::optest
