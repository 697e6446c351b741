// reflection_pad2d and replication_pad2d against F.pad (PyTorch 1.13, tests/golden/): the
// CycleGAN c7s1 pad 3 on a 4x5 map, asymmetric pads with zero sides, a replication pad beyond
// the input, a 3-D input; output and gradient.
#include "ganengine/pad.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "ganengine/autograd.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenPad : public DeviceTest {};

TEST_P(GoldenPad, AllCases) {
  const File& f = File::get("pad");
  const auto check = [&](const std::string& c, const Params& p) {
    const Tensor x = f.on(c, "x", device(), true);
    const std::array<int64_t, 4> pad = {p.i("left"), p.i("right"), p.i("top"), p.i("bottom")};
    const Tensor y =
        p.str("mode") == "reflect" ? reflection_pad2d(x, pad) : replication_pad2d(x, pad);
    // The forward copies; the backward gathers up to (pad + 1)^2 outputs per input (a replicated
    // corner), at most 3 x 3 for reflection.
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), Tol{1}));
    const Tensor gx = ge::grad({y}, {x}, {f.on(c, "gy", device())})[0];
    const double side = static_cast<double>(std::max({pad[0], pad[1], pad[2], pad[3]}) + 1);
    EXPECT_TRUE(close(c + " gx", gx, f.host(c, "gx"), Tol{side * side}));
  };
  EXPECT_EQ(for_each_case(f, check), 5);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenPad);

}  // namespace
}  // namespace ge::golden
