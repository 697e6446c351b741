// binary_cross_entropy_with_logits (tensor and scalar targets) and softplus_loss against
// PyTorch 1.13 (tests/golden/) for every reduction, with logits up to +-100 where a naive
// log(sigmoid) overflows: loss, gradients for the logits (and a tensor target), and the
// second-order gradient of <grad logits, v>.
#include "ganengine/loss.h"

#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "engine/golden_loss_case.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenLoss : public DeviceTest {};

TEST_P(GoldenLoss, AllCases) {
  const File& f = File::get("loss");
  const auto check = [&](const std::string& c, const Params& p) {
    // The elementwise values and gradients are a few roundings each (exp, log1p, and the 1/n of
    // the mean).
    const Tol elementwise{2};
    const auto loss = [&](const Tensor& x, const Tensor& t, Reduction r) {
      if (p.str("op") == "softplus_loss") return softplus_loss(x, p.f("sign"), r);
      if (t.defined()) return binary_cross_entropy_with_logits(x, t, r);
      return binary_cross_entropy_with_logits(x, p.f("target"), r);
    };
    check_loss_case(f, c, p, device(), loss, elementwise, with_term_scale(p, "ggx", elementwise));
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
