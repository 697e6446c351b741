// prelu against F.prelu (PyTorch 1.13, tests/golden/) with one shared slope and per-channel
// slopes (negative and zero ones among them), on [N, C, H, W] and [N, C]: output, grad x and
// weight, and the second order ggw (the weight gradient of <gx, v>).
#include "ganengine/prelu.h"

#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/ops.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenPrelu : public DeviceTest {};

TEST_P(GoldenPrelu, AllCases) {
  const File& f = File::get("prelu");
  const auto check = [&](const std::string& c, const Params&) {
    const Tensor x = f.on(c, "x", device(), true);
    const Tensor w = f.on(c, "weight", device(), true);
    const Tensor y = prelu(x, w);
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), Tol{1.0}));
    const std::vector<Tensor> g = ge::grad({y}, {x, w}, {f.on(c, "gy", device())}, true);
    EXPECT_TRUE(close(c + " gx", g[0], f.host(c, "gx"), Tol{1.0}));
    // A slope's gradient and ggw sum over every element sharing it.
    const double per_slope = static_cast<double>(x.numel() / w.numel());
    EXPECT_TRUE(close(c + " gw", g[1], f.host(c, "gw"), Tol{per_slope}));
    const Tensor ggw = ge::grad({sum(g[0] * f.on(c, "v", device()))}, {w})[0];
    EXPECT_TRUE(close(c + " ggw", ggw, f.host(c, "ggw"), Tol{per_slope}));
  };
  EXPECT_EQ(for_each_case(f, check), 3);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenPrelu);

}  // namespace
}  // namespace ge::golden
