// resize_bicubic2d on every device against the double matrices of support/resize_reference.h
// (up x4, down x4, odd sizes 7x5 -> 17x23 and 23x17 -> 6x4, 1-pixel inputs and outputs, each with
// antialias and align_corners both ways); [C, H, W] images; non-contiguous input; the backward
// against the reference adjoint; gradcheck and gradgradcheck; the backward of the backward;
// argument errors.
#include "ganengine/resize.h"

#include <string>
#include <utility>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"
#include "support/resize_reference.h"

namespace ge::optest {
namespace {

class ResizeTest : public DeviceTest {};

using Size = std::array<int64_t, 2>;

std::string describe(const Shape& s, Size size, const BicubicOptions& o) {
  return to_string(s) + " -> " + std::to_string(size[0]) + "x" + std::to_string(size[1]) +
         (o.align_corners ? " align_corners" : "") + (o.antialias ? " antialias" : "");
}

std::vector<BicubicOptions> all_options() {
  return {{false, false}, {true, false}, {false, true}, {true, true}};
}

ge::testing::ResizeRef reference(const std::vector<float>& x, const std::vector<float>& dy,
                                 const Shape& s, Size size, const BicubicOptions& o) {
  return ge::testing::resize_reference(x, dy, s[0] * s[1], s[2], s[3], size[0], size[1],
                                       o.align_corners, o.antialias);
}

std::vector<float> to_float(const std::vector<double>& v) {
  return {v.begin(), v.end()};
}

const std::pair<Shape, Size> kCases[] = {
    {{2, 3, 5, 4}, {20, 16}},                                                    // up x4
    {{1, 2, 4, 6}, {8, 12}},                                                     // up x2
    {{2, 2, 16, 12}, {4, 3}},                                                    // down x4
    {{1, 2, 7, 5}, {17, 23}}, {{1, 3, 23, 17}, {6, 4}}, {{2, 1, 1, 1}, {3, 4}},  // a 1-pixel input
    {{1, 2, 5, 4}, {1, 1}},                                                      // a 1-pixel output
};

TEST_P(ResizeTest, ForwardAndBackwardMatchReference) {
  for (const BicubicOptions& o : all_options()) {
    for (const auto& [shape, size] : kCases) {
      SCOPED_TRACE(describe(shape, size, o));
      const Shape out_shape = {shape[0], shape[1], size[0], size[1]};
      const std::vector<float> xv = lcg_values(count(shape), 1),
                               gv = lcg_values(count(out_shape), 2);
      const Tensor x = make(xv, shape, device(), true);
      const Tensor y = resize_bicubic2d(x, size, o);
      EXPECT_EQ(y.shape(), out_shape);
      const ge::testing::ResizeRef ref = reference(xv, gv, shape, size, o);
      EXPECT_TRUE(all_close(y, to_float(ref.y), 2e-5, 2e-5));
      const Tensor gx = grad({y}, {x}, {make(gv, out_shape, device())})[0];
      EXPECT_TRUE(all_close(gx, to_float(ref.dx), 5e-5, 2e-5));
    }
  }
}

// Spot values worked out by hand from the definition (and F.interpolate agrees): a 1x1x1x4 ramp
// [0, 1, 2, 3] resized to width 2. Without antialias, output 0 samples src = 2 * 0.5 - 0.5 = 0.5
// with taps -1 (clamped to 0), 0, 1, 2 weighted [-0.09375, 0.59375, 0.59375, -0.09375]:
// 0 * (-0.09375 + 0.59375) + 1 * 0.59375 + 2 * (-0.09375) = 0.40625. With antialias the window
// is centred on 1 with support 4, so inputs 0..3 at (i + 0.5 - 1) / 2 = -0.25, 0.25, 0.75, 1.25
// weigh 0.8671875, 0.8671875, 0.2265625, -0.0703125 (a = -0.5), 1.890625 in all: output 0 is
// (1 * 0.8671875 + 2 * 0.2265625 + 3 * (-0.0703125)) / 1.890625 = 1.109375 / 1.890625.
TEST_P(ResizeTest, KnownValues) {
  const Tensor x = make({0.f, 1.f, 2.f, 3.f}, {1, 1, 1, 4}, device());
  EXPECT_FLOAT_EQ(resize_bicubic2d(x, {1, 2}).to_vector()[0], 0.40625f);
  EXPECT_FLOAT_EQ(resize_bicubic2d(x, {1, 2}, {false, true}).to_vector()[0],
                  static_cast<float>(1.109375 / 1.890625));
  // Same size is the identity in every mode.
  for (const BicubicOptions& o : all_options())
    EXPECT_EQ(resize_bicubic2d(x, {1, 4}, o).to_vector(), x.to_vector());
}

TEST_P(ResizeTest, ImageWithoutBatch) {
  const std::vector<float> xv = lcg_values(3 * 8 * 6, 3);
  const Tensor y = resize_bicubic2d(make(xv, {3, 8, 6}, device()), {2, 3}, {false, true});
  EXPECT_EQ(y.shape(), (Shape{3, 2, 3}));
  EXPECT_TRUE(all_close(y, to_float(reference(xv, {}, {1, 3, 8, 6}, {2, 3}, {false, true}).y)));
}

TEST_P(ResizeTest, NonContiguousInput) {
  const std::vector<float> base = lcg_values(2 * 5 * 3, 4);
  const Tensor x = make(base, {1, 5, 3, 2}, device()).permute({0, 3, 2, 1});  // [1, 2, 3, 5]
  ASSERT_FALSE(x.is_contiguous());
  const std::vector<float> xv = permuted(base, {1, 5, 3, 2}, {0, 3, 2, 1});
  const Tensor y = resize_bicubic2d(x, {7, 2});
  EXPECT_TRUE(all_close(y, to_float(reference(xv, {}, {1, 2, 3, 5}, {7, 2}, {}).y)));
}

TEST_P(ResizeTest, Gradients) {
  const std::pair<Shape, Size> cases[] = {{{1, 2, 3, 2}, {5, 4}}, {{1, 1, 6, 5}, {2, 3}}};
  for (const BicubicOptions& o : all_options()) {
    for (const auto& [shape, size] : cases) {
      SCOPED_TRACE(describe(shape, size, o));
      const auto fn = [size, o](const std::vector<Tensor>& in) {
        return resize_bicubic2d(in[0], size, o);
      };
      const std::vector<Tensor> in = {make(lcg_values(count(shape), 5), shape, device(), true)};
      EXPECT_TRUE(grad_ok(fn, in));
      EXPECT_TRUE(gradgrad_ok(fn, in));
    }
  }
}

// The backward of the backward is the resize again: for a linear map R, the gradient of
// <R^T g, v> with respect to g is R v.
TEST_P(ResizeTest, BackwardOfBackwardIsResize) {
  const Shape s = {1, 2, 5, 3};
  const Size size = {2, 7};
  const std::vector<float> vv = lcg_values(count(s), 6);
  const Tensor v = make(vv, s, device());
  for (const BicubicOptions& o : all_options()) {
    SCOPED_TRACE(describe(s, size, o));
    const Tensor x = make(lcg_values(count(s), 7), s, device(), true);
    const Tensor g = make(lcg_values(2 * 2 * 7, 8), {1, 2, 2, 7}, device(), true);
    const Tensor dx = grad({resize_bicubic2d(x, size, o)}, {x}, {g}, /*create_graph=*/true)[0];
    const Tensor dg = grad({sum(dx * v)}, {g})[0];
    EXPECT_TRUE(all_close(dg, to_float(reference(vv, {}, s, size, o).y)));
  }
}

TEST_P(ResizeTest, Errors) {
  const Device d = device();
  EXPECT_TRUE(contains(error_of([&] {
                         resize_bicubic2d(zeros({4, 4}, d), {2, 2});
                       }),
                       "resize_bicubic2d: expected a 4-D input [N, C, H, W] or a 3-D image "
                       "[C, H, W], got shape [4, 4]"));
  EXPECT_TRUE(contains(error_of([&] {
                         resize_bicubic2d(zeros({1, 1, 4, 4}, d), {0, 2});
                       }),
                       "resize_bicubic2d: expected an output size >= 1, got [0, 2]"));
  EXPECT_TRUE(contains(error_of([&] {
                         resize_bicubic2d(zeros({1, 1, 4, 4}, d), {3, -1});
                       }),
                       "resize_bicubic2d: expected an output size >= 1, got [3, -1]"));
  EXPECT_TRUE(contains(error_of([&] {
                         resize_bicubic2d(zeros({1, 1, 0, 4}, d), {2, 2});
                       }),
                       "resize_bicubic2d: expected an input of height and width >= 1, got shape "
                       "[1, 1, 0, 4]"));
  EXPECT_TRUE(contains(error_of([&] {
                         resize_bicubic2d(Tensor(), {2, 2});
                       }),
                       "resize_bicubic2d: expected a defined"));
}

GE_INSTANTIATE_DEVICE_TEST(ResizeTest);

}  // namespace
}  // namespace ge::optest
