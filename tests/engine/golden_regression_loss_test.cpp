// mse_loss and l1_loss (tensor targets with an exact tie, scalar targets 1 and 0) against
// PyTorch 1.13 (tests/golden/loss.safetensors) for every reduction: loss, gradients for the
// input (and a tensor target), and for mse the second-order gradient of <grad input, v>.
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/loss.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

Reduction reduction_of(const std::string& name) {
  if (name == "none") return Reduction::None;
  if (name == "sum") return Reduction::Sum;
  return Reduction::Mean;
}

class GoldenRegressionLoss : public DeviceTest {};

TEST_P(GoldenRegressionLoss, AllCases) {
  const File& f = File::get("loss");
  const auto regression = [](const std::string&, const Params& p) {
    return p.str("op") == "mse_loss" || p.str("op") == "l1_loss";
  };
  const auto check = [&](const std::string& c, const Params& p) {
    const Reduction r = reduction_of(p.str("reduction"));
    const bool mse = p.str("op") == "mse_loss";
    const Tensor x = f.on(c, "x", device(), true);
    const bool tensor_target = f.has(c, "target");
    const Tensor t = tensor_target ? f.on(c, "target", device(), true) : Tensor();
    // A reduced loss sums every element; the elementwise values and gradients are a few
    // roundings each (the difference, the square, the 1/n of the mean).
    const Tol reduced{static_cast<double>(x.numel())}, elementwise{2};
    Tensor y;
    if (tensor_target)
      y = mse ? mse_loss(x, t, r) : l1_loss(x, t, r);
    else
      y = mse ? mse_loss(x, p.f("target"), r) : l1_loss(x, p.f("target"), r);
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
      EXPECT_TRUE(close(c + " ggx", ggx, f.host(c, "ggx"), elementwise));
    }
  };
  EXPECT_EQ(for_each_case(f, regression, check), 18);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenRegressionLoss);

}  // namespace
}  // namespace ge::golden
