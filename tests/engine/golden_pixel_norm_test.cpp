// pixel_norm (x * rsqrt(mean(x^2, dim 1) + 1e-8)) against PyTorch 1.13 (tests/golden/) on an
// NCHW feature map and a 2-D latent batch: output, gradient and second-order gradient.
#include "ganengine/pixel_norm.h"

#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenPixelNorm : public DeviceTest {};

TEST_P(GoldenPixelNorm, AllCases) {
  const File& f = File::get("pixel_norm");
  const auto check = [&](const std::string& c, const Params& p) {
    const Tensor x = f.on(c, "x", device(), true);
    const int64_t dim = p.i("dim");
    const Tol tol{static_cast<double>(x.size(dim))};  // the mean of squares over `dim`
    const Tensor y = pixel_norm(x, dim, p.f("eps"));
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), tol));
    const Tensor gx = ge::grad({y}, {x}, {f.on(c, "gy", device())}, /*create_graph=*/true)[0];
    EXPECT_TRUE(close(c + " gx", gx, f.host(c, "gx"), tol));
    const Tensor ggx = ge::grad({gx}, {x}, {f.on(c, "v", device())})[0];
    EXPECT_TRUE(close(c + " ggx", ggx, f.host(c, "ggx"), tol));
  };
  EXPECT_EQ(for_each_case(f, check), 2);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenPixelNorm);

}  // namespace
}  // namespace ge::golden
