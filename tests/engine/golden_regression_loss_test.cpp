// mse_loss and l1_loss (tensor targets with an exact tie, scalar targets 1 and 0) against
// PyTorch 1.13 (tests/golden/loss.safetensors) for every reduction: loss, gradients for the
// input (and a tensor target), and for mse the second-order gradient of <grad input, v>.
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/loss.h"
#include "engine/golden_loss_case.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenRegressionLoss : public DeviceTest {};

TEST_P(GoldenRegressionLoss, AllCases) {
  const File& f = File::get("loss");
  const auto regression = [](const std::string&, const Params& p) {
    return p.str("op") == "mse_loss" || p.str("op") == "l1_loss";
  };
  const auto check = [&](const std::string& c, const Params& p) {
    // The elementwise values and gradients are a few roundings each (the difference, the
    // square, the 1/n of the mean).
    const Tol elementwise{2};
    const bool mse = p.str("op") == "mse_loss";
    const auto loss = [&](const Tensor& x, const Tensor& t, Reduction r) {
      if (t.defined()) return mse ? mse_loss(x, t, r) : l1_loss(x, t, r);
      return mse ? mse_loss(x, p.f("target"), r) : l1_loss(x, p.f("target"), r);
    };
    check_loss_case(f, c, p, device(), loss, elementwise, elementwise);
  };
  EXPECT_EQ(for_each_case(f, regression, check), 18);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenRegressionLoss);

}  // namespace
}  // namespace ge::golden
