// resize_bicubic2d against F.interpolate(mode="bicubic", size=...) (PyTorch 1.13, float32,
// tests/golden/): up x2 and x4, down x4, non-integer ratios and a mixed up/down resize, with
// antialias and align_corners; output and gradient.
#include "ganengine/resize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "ganengine/autograd.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenResize : public DeviceTest {};

// The most taps one output reads along an axis (PyTorch's four, or the stretched antialias
// window), and the most outputs that read one input (four taps each, spaced in/out apart).
double taps(int64_t in, int64_t out, bool antialias) {
  return antialias && in > out ? std::ceil(4.0 * in / out) + 1 : 4;
}
double readers(int64_t in, int64_t out, bool antialias) {
  return std::ceil(taps(in, out, antialias) * out / in) + 1;
}

TEST_P(GoldenResize, AllCases) {
  const File& f = File::get("resize");
  const auto check = [&](const std::string& c, const Params& p) {
    const Tensor x = f.on(c, "x", device(), true);
    const int64_t h = x.shape()[2], w = x.shape()[3], oh = p.i("out_h"), ow = p.i("out_w");
    const BicubicOptions o{p.flag("align_corners"), p.flag("antialias")};
    const Tensor y = resize_bicubic2d(x, {oh, ow}, o);
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"),
                      Tol{taps(h, oh, o.antialias) * taps(w, ow, o.antialias)}));
    // PyTorch's backward is not the exact adjoint of its forward: its CPU forward evaluates the
    // coefficients with fused multiply-adds (as the engine's double evaluation does, to within
    // rounding), its backward in plain float, a few ulps apart on every weight; and for antialias
    // its backward recomputes the normalised weights in another order. Those weight errors are
    // shared by many terms, so they add up linearly: 16 times the terms covers them.
    const Tensor gx = ge::grad({y}, {x}, {f.on(c, "gy", device())})[0];
    EXPECT_TRUE(close(c + " gx", gx, f.host(c, "gx"),
                      Tol{16 * readers(h, oh, o.antialias) * readers(w, ow, o.antialias)}));
  };
  EXPECT_EQ(for_each_case(f, check), 12);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenResize);

}  // namespace
}  // namespace ge::golden
