// instance_norm2d against F.instance_norm (PyTorch 1.13, tests/golden/), with and without affine,
// odd plane sizes and N = 1: output, gradients for x, weight and bias, and the second-order
// gradient of <grad x, v> for x and weight.
#include "ganengine/instance_norm.h"

#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/ops.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenInstanceNorm : public DeviceTest {};

TEST_P(GoldenInstanceNorm, ForwardAndGradients) {
  const File& f = File::get("instance_norm");
  const auto check = [&](const std::string& c, const Params& p) {
    const bool affine = p.flag("affine");
    const Tensor x = f.on(c, "x", device(), true);
    const Tensor w = affine ? f.on(c, "weight", device(), true) : Tensor();
    const Tensor b = affine ? f.on(c, "bias", device(), true) : Tensor();
    // Plane statistics sum H*W terms; the weight and bias gradients sum every plane of a channel.
    const double hw = static_cast<double>(x.size(2) * x.size(3));
    const Tol per_element{hw}, per_channel{hw * static_cast<double>(x.size(0))};

    const Tensor y = instance_norm2d(x, w, b, p.f("eps"));
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), per_element));

    std::vector<Tensor> inputs = {x};
    if (affine) inputs.insert(inputs.end(), {w, b});
    const std::vector<Tensor> g = ge::grad({y}, inputs, {f.on(c, "gy", device())},
                                           /*create_graph=*/true);
    EXPECT_TRUE(close(c + " gx", g[0], f.host(c, "gx"), per_element));
    if (affine) {
      EXPECT_TRUE(close(c + " gw", g[1], f.host(c, "gw"), per_channel));
      EXPECT_TRUE(close(c + " gb", g[2], f.host(c, "gb"), per_channel));
    }

    const std::vector<Tensor> second(inputs.begin(), inputs.begin() + (affine ? 2 : 1));
    const std::vector<Tensor> gg = ge::grad({g[0]}, second, {f.on(c, "v", device())});
    EXPECT_TRUE(close(c + " ggx", gg[0], f.host(c, "ggx"), per_element));
    if (affine) {
      EXPECT_TRUE(close(c + " ggw", gg[1], f.host(c, "ggw"), per_channel));
    }
  };
  EXPECT_EQ(for_each_case(f, check), 4);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenInstanceNorm);

}  // namespace
}  // namespace ge::golden
