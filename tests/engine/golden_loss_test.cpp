// binary_cross_entropy_with_logits (tensor and scalar targets) and softplus_loss against
// PyTorch 1.13 (tests/golden/) for every reduction, with logits up to +-100 where a naive
// log(sigmoid) overflows: loss, gradients for the logits (and a tensor target), and the
// second-order gradient of <grad logits, v>.
#include "ganengine/loss.h"

#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

Reduction reduction_of(const std::string& name) {
  if (name == "none") return Reduction::None;
  if (name == "sum") return Reduction::Sum;
  return Reduction::Mean;
}

class GoldenLoss : public DeviceTest {};

TEST_P(GoldenLoss, AllCases) {
  const File& f = File::get("loss");
  const auto check = [&](const std::string& c, const Params& p) {
    const Reduction r = reduction_of(p.str("reduction"));
    const Tensor x = f.on(c, "x", device(), true);
    const bool tensor_target = f.has(c, "target");
    const Tensor t = tensor_target ? f.on(c, "target", device(), true) : Tensor();
    // A reduced loss sums every element; the elementwise values and gradients are a few
    // roundings each (exp, log1p, and the 1/n of the mean).
    const Tol reduced{static_cast<double>(x.numel())}, elementwise{2};
    Tensor y;
    if (p.str("op") == "softplus_loss")
      y = softplus_loss(x, p.f("sign"), r);
    else if (tensor_target)
      y = binary_cross_entropy_with_logits(x, t, r);
    else
      y = binary_cross_entropy_with_logits(x, p.f("target"), r);
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), r == Reduction::None ? elementwise : reduced));

    std::vector<Tensor> inputs{x};
    if (tensor_target) inputs.push_back(t);
    const bool second = f.has(c, "ggx");
    const std::vector<Tensor> g = ge::grad({y}, inputs, {f.on(c, "gy", device())}, second);
    EXPECT_TRUE(close(c + " gx", g[0], f.host(c, "gx"), elementwise));
    if (tensor_target) {
      EXPECT_TRUE(close(c + " gtarget", g[1], f.host(c, "gtarget"), elementwise));
    }
    if (second) {
      const Tensor ggx = ge::grad({g[0]}, {x}, {f.on(c, "v", device())})[0];
      EXPECT_TRUE(close(c + " ggx", ggx, f.host(c, "ggx"), with_term_scale(p, "ggx", elementwise)));
    }
  };
  // The file also holds the regression losses' cases (golden_regression_loss_test.cpp).
  const auto logistic = [](const std::string&, const Params& p) {
    return p.str("op") == "bce_with_logits" || p.str("op") == "softplus_loss";
  };
  EXPECT_EQ(for_each_case(f, logistic, check), 21);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenLoss);

}  // namespace
}  // namespace ge::golden
