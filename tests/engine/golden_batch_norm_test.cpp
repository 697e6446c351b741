// batch_norm2d against F.batch_norm (PyTorch 1.13, tests/golden/) in training and eval mode:
// output, running statistics after one step (momentum 0.1, unbiased variance), gradients for x,
// weight and bias, and the second-order gradient of <grad x, v>.
#include "ganengine/batch_norm.h"

#include <optional>
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/ops.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenBatchNorm : public DeviceTest {};

TEST_P(GoldenBatchNorm, TrainAndEval) {
  const File& f = File::get("batch_norm");
  const auto check = [&](const std::string& c, const Params& p) {
    const bool training = p.flag("training");
    const Tensor x = f.on(c, "x", device(), true);
    const Tensor w = f.on(c, "weight", device(), true), b = f.on(c, "bias", device(), true);
    const Tensor rm = f.on(c, "running_mean", device());
    const Tensor rv = f.on(c, "running_var", device());
    const Tensor gy = f.on(c, "gy", device(), true);
    // Batch statistics sum N*H*W terms; eval mode is elementwise given the running statistics.
    const double nhw = static_cast<double>(x.size(0) * x.size(2) * x.size(3));
    const Tol per_element{training ? nhw : 2.0}, per_channel{nhw};

    const Tensor y = batch_norm2d(x, w, b, rm, rv, training, p.f("momentum"), p.f("eps"));
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), per_element));
    EXPECT_TRUE(close(c + " running_mean", rm, f.host(c, "running_mean_after"), per_channel));
    EXPECT_TRUE(close(c + " running_var", rv, f.host(c, "running_var_after"), per_channel));

    const std::vector<Tensor> g = ge::grad({y}, {x, w, b}, {gy}, /*create_graph=*/true);
    EXPECT_TRUE(close(c + " gx", g[0], f.host(c, "gx"), per_element));
    EXPECT_TRUE(close(c + " gw", g[1], f.host(c, "gw"), per_channel));
    EXPECT_TRUE(close(c + " gb", g[2], f.host(c, "gb"), per_channel));

    const std::vector<Tensor> gg = ge::grad({g[0]}, {x, w}, {f.on(c, "v", device())}, false,
                                            std::nullopt, /*allow_unused=*/true);
    // In eval mode grad x does not depend on x: PyTorch stores zeros, the engine may return
    // zeros or no gradient.
    const Tensor ggx = gg[0].defined() ? gg[0] : zeros_like(f.host(c, "ggx"));
    EXPECT_TRUE(close(c + " ggx", ggx, f.host(c, "ggx"), per_channel));
    EXPECT_TRUE(close(c + " ggw", gg[1], f.host(c, "ggw"), per_channel));
  };
  EXPECT_EQ(for_each_case(f, check), 2);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenBatchNorm);

}  // namespace
}  // namespace ge::golden
