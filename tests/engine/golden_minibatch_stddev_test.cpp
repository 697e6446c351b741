// minibatch_stddev against StyleGAN2-ADA's MinibatchStdLayer (written out in
// scripts/make_goldens.py, PyTorch 1.13, tests/golden/): group 4 with one and two stddev
// channels, a batch smaller than the group, group 2; output, gradient and second-order gradient.
#include "ganengine/minibatch_stddev.h"

#include <algorithm>
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenMinibatchStddev : public DeviceTest {};

TEST_P(GoldenMinibatchStddev, AllCases) {
  const File& f = File::get("minibatch_stddev");
  const auto check = [&](const std::string& c, const Params& p) {
    const Tensor x = f.on(c, "x", device(), true);
    const int64_t group = std::min(p.i("group_size"), x.size(0));
    const int64_t channels = p.i("num_channels");
    // Each statistic: a variance over the group, averaged over C/F channels and H*W pixels.
    const Tol tol{static_cast<double>(group * x.numel() / x.size(0) / channels)};
    const Tensor y = minibatch_stddev(x, p.i("group_size"), channels);
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), tol));
    const Tensor gx = ge::grad({y}, {x}, {f.on(c, "gy", device())}, /*create_graph=*/true)[0];
    EXPECT_TRUE(close(c + " gx", gx, f.host(c, "gx"), tol));
    const Tensor ggx = ge::grad({gx}, {x}, {f.on(c, "v", device())})[0];
    EXPECT_TRUE(close(c + " ggx", ggx, f.host(c, "ggx"), with_term_scale(p, "ggx", tol)));
  };
  EXPECT_EQ(for_each_case(f, check), 4);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenMinibatchStddev);

}  // namespace
}  // namespace ge::golden
