// mse_loss and l1_loss on every device: values against references in double for every
// reduction, tensor and float targets; gradients for the input and the target against the closed
// forms (sign 0 at ties); gradcheck for both (l1 away from its kink), gradgradcheck and a
// third-order check for mse; l1's zero second derivative; a multi-block reduction that is
// bitwise reproducible; non-contiguous and empty inputs; the argument errors.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine/loss_test_util.h"
#include "engine/op_test_util.h"
#include "ganengine/error.h"
#include "ganengine/loss.h"

namespace ge::optest {
namespace {

class RegressionLossTest : public DeviceTest {};

enum class Kind { Mse, L1 };

const char* kind_name(Kind k) {
  return k == Kind::Mse ? "mse_loss" : "l1_loss";
}

double loss_ref(Kind k, double d) {
  return k == Kind::Mse ? d * d : std::fabs(d);
}

double grad_ref(Kind k, double d) {
  if (k == Kind::Mse) return 2.0 * d;
  return d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
}

Tensor run(Kind k, const Tensor& x, const Tensor& t, Reduction r) {
  return k == Kind::Mse ? mse_loss(x, t, r) : l1_loss(x, t, r);
}

Tensor run(Kind k, const Tensor& x, float t, Reduction r) {
  return k == Kind::Mse ? mse_loss(x, t, r) : l1_loss(x, t, r);
}

TEST_P(RegressionLossTest, TensorTargetMatchesReference) {
  const Shape shape = {4, 3};
  const std::vector<float> x = lcg_values(12, 1, -3.f, 3.f), t = lcg_values(12, 2, -1.f, 1.f);
  for (Kind k : {Kind::Mse, Kind::L1}) {
    std::vector<double> want;
    for (size_t i = 0; i < x.size(); ++i)
      want.push_back(loss_ref(k, static_cast<double>(x[i]) - t[i]));
    for (Reduction r : kReductions) {
      SCOPED_TRACE(std::string(kind_name(k)) + " " + reduction_name(r));
      const Tensor out = run(k, make(x, shape, device()), make(t, shape, device()), r);
      EXPECT_EQ(out.shape(), expected_shape(shape, r));
      EXPECT_EQ(out.device(), device());
      EXPECT_TRUE(all_close(out, reduce(want, r)));
    }
  }
}

TEST_P(RegressionLossTest, FloatTargetMatchesReference) {
  const Shape shape = {2, 1, 5};
  const std::vector<float> x = lcg_values(10, 3, -2.f, 2.f);
  for (Kind k : {Kind::Mse, Kind::L1}) {
    for (float target : {1.f, 0.f, -0.5f}) {
      std::vector<double> want;
      for (float v : x)
        want.push_back(loss_ref(k, static_cast<double>(v) - target));
      for (Reduction r : kReductions) {
        SCOPED_TRACE(std::string(kind_name(k)) + " " + reduction_name(r) + " target " +
                     std::to_string(target));
        const Tensor out = run(k, make(x, shape, device()), target, r);
        EXPECT_EQ(out.shape(), expected_shape(shape, r));
        EXPECT_TRUE(all_close(out, reduce(want, r)));
      }
    }
  }
  // The defaults: mean. (1 - 3)^2 and (2 - 3)^2 average to 2.5; |.| to 1.5.
  const Tensor two = make({1.f, 2.f}, {2}, device());
  EXPECT_TRUE(all_close(mse_loss(two, 3.f), {2.5f}, 0.0, 0.0));
  EXPECT_TRUE(all_close(l1_loss(two, make({3.f, 3.f}, {2}, device())), {1.5f}, 0.0, 0.0));
}

TEST_P(RegressionLossTest, GradientsMatchClosedForm) {
  const Shape shape = {2, 3};
  std::vector<float> x = lcg_values(6, 5, -2.f, 2.f);
  const std::vector<float> t = lcg_values(6, 6, -1.f, 1.f), g = lcg_values(6, 7);
  x[4] = t[4];  // a tie: l1's gradient is 0 there, as PyTorch's sign
  for (Kind k : {Kind::Mse, Kind::L1}) {
    for (Reduction r : kReductions) {
      SCOPED_TRACE(std::string(kind_name(k)) + " " + reduction_name(r));
      const Tensor xt = make(x, shape, device(), true), tt = make(t, shape, device(), true);
      const Tensor out = run(k, xt, tt, r);
      if (r == Reduction::None) {
        out.backward(make(g, shape, device()));
      } else {
        out.backward();
      }
      std::vector<float> dx, dt;
      for (size_t i = 0; i < x.size(); ++i) {
        const double gi = r == Reduction::None ? g[i] : (r == Reduction::Mean ? 1.0 / 6.0 : 1.0);
        const double d = gi * grad_ref(k, static_cast<double>(x[i]) - t[i]);
        dx.push_back(static_cast<float>(d));
        dt.push_back(static_cast<float>(-d));
      }
      EXPECT_TRUE(all_close(xt.grad(), dx, 1e-6, 1e-5));
      EXPECT_TRUE(all_close(tt.grad(), dt, 1e-6, 1e-5));
      if (k == Kind::L1) {
        EXPECT_EQ(xt.grad().to_vector()[4], 0.f);
      }
    }
  }
}

// Only the target requires grad (a learned target, or D's output passed as the target).
TEST_P(RegressionLossTest, TargetAloneRequiresGrad) {
  const std::vector<float> x = lcg_values(4, 8, -1.f, 1.f), t = lcg_values(4, 9, -1.f, 1.f);
  for (Kind k : {Kind::Mse, Kind::L1}) {
    SCOPED_TRACE(kind_name(k));
    const Tensor tt = make(t, {4}, device(), true);
    run(k, make(x, {4}, device()), tt, Reduction::Sum).backward();
    std::vector<float> dt;
    for (size_t i = 0; i < x.size(); ++i)
      dt.push_back(static_cast<float>(-grad_ref(k, static_cast<double>(x[i]) - t[i])));
    EXPECT_TRUE(all_close(tt.grad(), dt, 1e-6, 1e-5));
  }
}

TEST_P(RegressionLossTest, FirstAndSecondOrderGradients) {
  const Shape shape = {2, 3};
  // x - t stays at least 0.2 away from 0, so l1's finite differences never cross its kink.
  const std::vector<float> t = lcg_values(6, 10, -1.f, 1.f), off = away_from_zero(6, 11, 0.2f);
  std::vector<float> x(6);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = t[i] + off[i];
  for (Reduction r : kReductions) {
    SCOPED_TRACE(reduction_name(r));
    const std::vector<Tensor> both = {make(x, shape, device(), true),
                                      make(t, shape, device(), true)};
    const std::vector<Tensor> input_only = {make(x, shape, device(), true),
                                            make(t, shape, device())};
    for (Kind k : {Kind::Mse, Kind::L1}) {
      const auto fn = [k, r](const std::vector<Tensor>& in) { return run(k, in[0], in[1], r); };
      EXPECT_TRUE(grad_ok(fn, both)) << kind_name(k);
      EXPECT_TRUE(grad_ok(fn, input_only)) << kind_name(k);
      EXPECT_TRUE(gradgrad_ok(fn, both)) << kind_name(k);
      for (float target : {1.f, 0.f}) {
        const std::vector<Tensor> far = {
            make(away_from_zero(6, 12, 0.2f, 0.5f), shape, device(), true)};
        const auto fn_f = [k, r, target](const std::vector<Tensor>& in) {
          return run(k, in[0], target, r);
        };
        // target +- 0.5 keeps x - target away from 0 for target 1; for 0, x is away from 0.
        EXPECT_TRUE(grad_ok(fn_f, far)) << kind_name(k) << " target " << target;
        EXPECT_TRUE(gradgrad_ok(fn_f, far)) << kind_name(k) << " target " << target;
      }
    }
  }
}

// The backward's backward is itself differentiable: third derivatives through create_graph.
TEST_P(RegressionLossTest, MseThirdOrderThroughCreateGraph) {
  const Shape shape = {2, 2};
  const std::vector<float> x = lcg_values(4, 13, -2.f, 2.f), t = lcg_values(4, 14, -1.f, 1.f);
  for (Reduction r : {Reduction::Mean, Reduction::None}) {
    SCOPED_TRACE(reduction_name(r));
    const Tensor w = make(lcg_values(4, 15), shape, device());
    const auto first = [r, w](const std::vector<Tensor>& in) {
      EnableGradGuard enable;
      const Tensor xi = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_(true);
      Tensor loss = mse_loss(xi * xi, in[1], r);  // x^2: a non-zero third derivative
      if (r == Reduction::None) loss = sum(loss * w);
      return grad({loss}, {xi}, {}, /*create_graph=*/true)[0];
    };
    EXPECT_TRUE(
        gradgrad_ok(first, {make(x, shape, device(), true), make(t, shape, device(), true)}));
  }
}

// d/dx of l1's gradient is 0; d/dg of it is sign(x - t) (the gradient with respect to the
// upstream gradient of <dx, v>).
TEST_P(RegressionLossTest, L1SecondOrder) {
  const std::vector<float> x = {0.5f, -1.f, 2.f}, t = {0.f, 0.f, 2.f};
  const Tensor xt = make(x, {3}, device(), true), tt = make(t, {3}, device());
  const Tensor gy = make({1.f, 2.f, 3.f}, {3}, device(), true);
  const Tensor dx = grad({l1_loss(xt, tt, Reduction::None)}, {xt}, {gy}, true)[0];
  EXPECT_TRUE(all_close(dx, {1.f, -2.f, 0.f}, 0.0, 0.0));
  const Tensor v = make({1.f, 1.f, 1.f}, {3}, device());
  const std::vector<Tensor> gg = grad({sum(dx * v)}, {xt, gy}, {}, false, std::nullopt,
                                      /*allow_unused=*/true);
  if (gg[0].defined()) {
    EXPECT_TRUE(all_close(gg[0], {0.f, 0.f, 0.f}, 0.0, 0.0));
  }
  EXPECT_TRUE(all_close(gg[1], {1.f, -1.f, 0.f}, 0.0, 0.0));
}

TEST_P(RegressionLossTest, LargeReductionIsAccurateAndReproducible) {
  const int64_t n = 50000;
  const std::vector<float> x = lcg_values(n, 16, -3.f, 3.f), t = lcg_values(n, 17, -1.f, 1.f);
  const Tensor xt = make(x, {n / 100, 100}, device()), tt = make(t, {n / 100, 100}, device());
  for (Kind k : {Kind::Mse, Kind::L1}) {
    SCOPED_TRACE(kind_name(k));
    std::vector<double> want;
    for (size_t i = 0; i < x.size(); ++i)
      want.push_back(loss_ref(k, static_cast<double>(x[i]) - t[i]));
    const Tensor a = run(k, xt, tt, Reduction::Sum);
    EXPECT_TRUE(all_close(a, reduce(want, Reduction::Sum), 1e-3, 1e-5));
    EXPECT_TRUE(
        all_close(run(k, xt, tt, Reduction::Mean), reduce(want, Reduction::Mean), 1e-6, 1e-5));
    const float first = a.item();
    for (int i = 0; i < 3; ++i) {
      const float again = run(k, xt, tt, Reduction::Sum).item();
      EXPECT_EQ(std::memcmp(&first, &again, sizeof(float)), 0) << first << " vs " << again;
    }
  }
}

TEST_P(RegressionLossTest, NonContiguousInputs) {
  const std::vector<float> x = lcg_values(12, 18, -3.f, 3.f), t = lcg_values(12, 19, -1.f, 1.f);
  const Tensor xt = make(x, {4, 3}, device(), true).t();  // [3, 4]
  const Tensor tt = make(t, {4, 3}, device()).t();
  const std::vector<float> xp = permuted(x, {4, 3}, {1, 0});
  const std::vector<float> tp = permuted(t, {4, 3}, {1, 0});
  for (Kind k : {Kind::Mse, Kind::L1}) {
    std::vector<double> want;
    for (size_t i = 0; i < xp.size(); ++i)
      want.push_back(loss_ref(k, static_cast<double>(xp[i]) - tp[i]));
    EXPECT_TRUE(all_close(run(k, xt, tt, Reduction::None), reduce(want, Reduction::None)));
  }
  EXPECT_TRUE(grad_ok(
      [&](const std::vector<Tensor>& in) { return mse_loss(in[0], tt, Reduction::Mean); }, {xt}));
}

TEST_P(RegressionLossTest, EmptyInput) {
  const Tensor x = zeros({0, 3}, device());
  EXPECT_TRUE(std::isnan(mse_loss(x, 1.f).item()));
  EXPECT_EQ(l1_loss(x, 1.f, Reduction::Sum).item(), 0.f);
  EXPECT_EQ(mse_loss(x, x, Reduction::None).shape(), (Shape{0, 3}));
}

TEST_P(RegressionLossTest, Errors) {
  const Tensor x = zeros({4, 3}, device());
  for (const char* op : {"mse_loss", "l1_loss"}) {
    const Kind k = std::string(op) == "mse_loss" ? Kind::Mse : Kind::L1;
    EXPECT_TRUE(throws_with(
        [&] {
          run(k, x, zeros({3, 4}, device()), Reduction::Mean);
        },
        {op, "target of shape [4, 3] (the input's shape), got [3, 4]"}));
    EXPECT_TRUE(throws_with(
        [&] {
          run(k, x, zeros({4, 1}, device()), Reduction::Mean);
        },
        {op, "[4, 3]", "got [4, 1]"}));
    EXPECT_TRUE(throws_with([&] { run(k, x, Tensor(), Reduction::Mean); }, {op, "defined target"}));
    EXPECT_TRUE(throws_with([&] { run(k, Tensor(), 1.f, Reduction::Mean); }, {op, "defined"}));
    EXPECT_TRUE(throws_with([&] { run(k, x, 1.f, static_cast<Reduction>(9)); },
                            {op, "Reduction::None, Mean or Sum, got 9"}));
    if (cuda_is_available()) {
      const Tensor t = zeros({4, 3}, other_device(device()));
      EXPECT_TRUE(
          throws_with([&] { run(k, x, t, Reduction::Mean); }, {op, "same device", device().str()}));
    }
  }
}

GE_INSTANTIATE_DEVICE_TEST(RegressionLossTest);

}  // namespace
}  // namespace ge::optest
