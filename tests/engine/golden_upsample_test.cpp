// upsample_nearest2d and upsample_bilinear2d (align_corners false and true) by 2 against
// F.interpolate (PyTorch 1.13, tests/golden/) on an odd-sized map: output and gradient.
#include "ganengine/upsample.h"

#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenUpsample : public DeviceTest {};

TEST_P(GoldenUpsample, AllCases) {
  const File& f = File::get("upsample");
  const auto check = [&](const std::string& c, const Params& p) {
    const Tensor x = f.on(c, "x", device(), true);
    const int64_t scale = p.i("scale");
    const bool nearest = p.str("mode") == "nearest";
    const Tensor y = nearest ? upsample_nearest2d(x, scale)
                             : upsample_bilinear2d(x, scale, p.flag("align_corners"));
    // Bilinear blends 4 inputs per output; the backward gathers up to (2 * scale)^2 outputs
    // per input.
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), Tol{nearest ? 1.0 : 4.0}));
    const Tensor gx = ge::grad({y}, {x}, {f.on(c, "gy", device())})[0];
    EXPECT_TRUE(close(c + " gx", gx, f.host(c, "gx"), Tol{4.0 * scale * scale}));
  };
  EXPECT_EQ(for_each_case(f, check), 3);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenUpsample);

}  // namespace
}  // namespace ge::golden
