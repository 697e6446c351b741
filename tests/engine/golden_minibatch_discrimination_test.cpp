// minibatch_discrimination against Salimans et al.'s MinibatchLayer (the improved-GAN code,
// written out in scripts/make_goldens.py, PyTorch 1.13, tests/golden/): a batch of 6, a batch of
// one (nothing else to compare with: zeros), 8 samples under 4 kernels of 5 dimensions; the
// output, the gradients to the features and to T, and the second-order gradients.
#include "ganengine/minibatch_discrimination.h"

#include <string>

#include "ganengine/autograd.h"
#include "ganengine/ops.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenMinibatchDiscrimination : public DeviceTest {};

TEST_P(GoldenMinibatchDiscrimination, AllCases) {
  const File& f = File::get("minibatch_discrimination");
  const auto check = [&](const std::string& c, const Params&) {
    const Tensor x = f.on(c, "x", device(), true), T = f.on(c, "T", device(), true);
    // Each output sums N exponentials of C-term L1 distances of A-term products.
    const Tol tol{static_cast<double>(x.size(0) * T.size(2) * x.size(1))};
    const Tensor y = minibatch_discrimination(x, T);
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), tol));
    const auto g = ge::grad({y}, {x, T}, {f.on(c, "gy", device())}, /*create_graph=*/true);
    EXPECT_TRUE(close(c + " gx", g[0], f.host(c, "gx"), tol));
    EXPECT_TRUE(close(c + " gT", g[1], f.host(c, "gT"), tol));
    const Tensor inner = sum(g[0] * f.on(c, "vx", device())) + sum(g[1] * f.on(c, "vT", device()));
    const auto gg = ge::grad({inner}, {x, T});
    EXPECT_TRUE(close(c + " ggx", gg[0], f.host(c, "ggx"), tol));
    EXPECT_TRUE(close(c + " ggT", gg[1], f.host(c, "ggT"), tol));
  };
  EXPECT_EQ(for_each_case(f, check), 3);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenMinibatchDiscrimination);

}  // namespace
}  // namespace ge::golden
