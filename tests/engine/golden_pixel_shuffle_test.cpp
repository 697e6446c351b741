// pixel_shuffle (r = 2, 3) and pixel_unshuffle (r = 2) against F.pixel_shuffle /
// F.pixel_unshuffle (PyTorch 1.13, tests/golden/): output and gradient, exact (permutations).
#include "ganengine/pixel_shuffle.h"

#include <string>

#include "ganengine/autograd.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenPixelShuffle : public DeviceTest {};

TEST_P(GoldenPixelShuffle, AllCases) {
  const File& f = File::get("pixel_shuffle");
  const auto check = [&](const std::string& c, const Params& p) {
    const Tensor x = f.on(c, "x", device(), true);
    const int64_t r = p.i("factor");
    const Tensor y = p.str("op") == "shuffle" ? pixel_shuffle(x, r) : pixel_unshuffle(x, r);
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), Tol{1.0, 0.0, 0.0}));
    const Tensor gx = ge::grad({y}, {x}, {f.on(c, "gy", device())})[0];
    EXPECT_TRUE(close(c + " gx", gx, f.host(c, "gx"), Tol{1.0, 0.0, 0.0}));
  };
  EXPECT_EQ(for_each_case(f, check), 3);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenPixelShuffle);

}  // namespace
}  // namespace ge::golden
