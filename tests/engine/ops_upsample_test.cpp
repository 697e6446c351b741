// upsample_nearest2d and upsample_bilinear2d on every device against F.interpolate's formulas
// written as double loops here (align_corners both ways, odd sizes, scales 1 to 3); gradcheck
// and gradgradcheck for each mode; argument errors.
#include "ganengine/upsample.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class UpsampleTest : public DeviceTest {};

enum class Mode { Nearest, Bilinear, Aligned };

const char* mode_name(Mode m) {
  return m == Mode::Nearest ? "nearest" : m == Mode::Bilinear ? "bilinear" : "bilinear aligned";
}

// Source taps of output index dst along an axis of `in` pixels (PyTorch's
// area_pixel_compute_source_index and its clamps).
std::vector<std::pair<int64_t, double>> taps(Mode m, int64_t dst, int64_t in, int64_t scale) {
  if (m == Mode::Nearest) return {{std::min(dst / scale, in - 1), 1.0}};
  const int64_t out = in * scale;
  const double src = m == Mode::Aligned
                         ? (out > 1 ? static_cast<double>(in - 1) / (out - 1) * dst : 0.0)
                         : std::max((dst + 0.5) / scale - 0.5, 0.0);
  const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
  const double l1 = src - i0;
  return {{i0, 1.0 - l1}, {std::min(i0 + 1, in - 1), l1}};
}

std::vector<float> upsample_ref(const std::vector<float>& x, const Shape& s, int64_t scale,
                                Mode m) {
  const int64_t planes = s[0] * s[1], h = s[2], w = s[3], oh = h * scale, ow = w * scale;
  std::vector<float> y(static_cast<size_t>(planes * oh * ow));
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        double acc = 0;
        for (const auto& [hi, hk] : taps(m, i, h, scale))
          for (const auto& [wi, wk] : taps(m, j, w, scale))
            acc += hk * wk * x[static_cast<size_t>((p * h + hi) * w + wi)];
        y[static_cast<size_t>((p * oh + i) * ow + j)] = static_cast<float>(acc);
      }
  return y;
}

Tensor run(Mode m, const Tensor& x, int64_t scale) {
  return m == Mode::Nearest ? upsample_nearest2d(x, scale)
                            : upsample_bilinear2d(x, scale, m == Mode::Aligned);
}

TEST_P(UpsampleTest, ForwardMatchesReference) {
  const std::pair<Shape, int64_t> cases[] = {
      {{2, 3, 4, 4}, 2}, {{1, 2, 5, 3}, 2}, {{2, 1, 3, 5}, 3},
      {{1, 1, 1, 1}, 2}, {{1, 2, 3, 1}, 3}, {{1, 2, 3, 4}, 1},
  };
  for (Mode m : {Mode::Nearest, Mode::Bilinear, Mode::Aligned}) {
    for (const auto& [shape, scale] : cases) {
      SCOPED_TRACE(std::string(mode_name(m)) + " " + to_string(shape) + " x" +
                   std::to_string(scale));
      const std::vector<float> x = lcg_values(count(shape), 1);
      const Tensor y = run(m, make(x, shape, device()), scale);
      EXPECT_EQ(y.shape(), (Shape{shape[0], shape[1], shape[2] * scale, shape[3] * scale}));
      EXPECT_TRUE(all_close(y, upsample_ref(x, shape, scale, m)));
    }
  }
}

// Spot values worked out by hand from F.interpolate's definition, on a 1x1x2x2 input
// [[1, 2], [3, 4]] upsampled x2.
TEST_P(UpsampleTest, KnownValues) {
  const Tensor x = make({1.f, 2.f, 3.f, 4.f}, {1, 1, 2, 2}, device());
  // align_corners=False: row 0 of the output is [1, 1.25, 1.75, 2].
  const std::vector<float> bl = upsample_bilinear2d(x, 2).to_vector();
  EXPECT_FLOAT_EQ(bl[0], 1.f);
  EXPECT_FLOAT_EQ(bl[1], 1.25f);
  EXPECT_FLOAT_EQ(bl[2], 1.75f);
  EXPECT_FLOAT_EQ(bl[3], 2.f);
  EXPECT_FLOAT_EQ(bl[5], 1.75f);  // (1, 1): src (0.25, 0.25)
  // align_corners=True: row 0 is [1, 4/3, 5/3, 2].
  const std::vector<float> ac = upsample_bilinear2d(x, 2, true).to_vector();
  EXPECT_FLOAT_EQ(ac[1], 4.f / 3.f);
  EXPECT_FLOAT_EQ(ac[2], 5.f / 3.f);
  EXPECT_FLOAT_EQ(ac[15], 4.f);
  const std::vector<float> nn = upsample_nearest2d(x, 2).to_vector();
  EXPECT_EQ(nn, (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST_P(UpsampleTest, NonContiguousInput) {
  const std::vector<float> base = lcg_values(24, 2);
  const Tensor x = make(base, {1, 4, 3, 2}, device()).permute({0, 3, 2, 1});  // [1, 2, 3, 4]
  ASSERT_FALSE(x.is_contiguous());
  const std::vector<float> xv = permuted(base, {1, 4, 3, 2}, {0, 3, 2, 1});
  for (Mode m : {Mode::Nearest, Mode::Aligned})
    EXPECT_TRUE(all_close(run(m, x, 2), upsample_ref(xv, {1, 2, 3, 4}, 2, m)));
}

TEST_P(UpsampleTest, Gradients) {
  for (Mode m : {Mode::Nearest, Mode::Bilinear, Mode::Aligned}) {
    for (const auto& [shape, scale] :
         {std::pair<Shape, int64_t>{{1, 2, 2, 3}, 2}, std::pair<Shape, int64_t>{{2, 1, 3, 2}, 3}}) {
      SCOPED_TRACE(std::string(mode_name(m)) + " " + to_string(shape) + " x" +
                   std::to_string(scale));
      const auto fn = [m, scale](const std::vector<Tensor>& in) { return run(m, in[0], scale); };
      const std::vector<Tensor> in = {make(lcg_values(count(shape), 3), shape, device(), true)};
      EXPECT_TRUE(grad_ok(fn, in));
      EXPECT_TRUE(gradgrad_ok(fn, in));
    }
  }
}

// The backward of the backward is the upsampling again: for a linear map U, the gradient of
// <U^T g, v> with respect to g is U v.
TEST_P(UpsampleTest, BackwardOfBackwardIsUpsample) {
  const Shape s = {1, 2, 3, 2};
  const Tensor v = make(lcg_values(count(s), 4), s, device());
  for (Mode m : {Mode::Nearest, Mode::Bilinear, Mode::Aligned}) {
    SCOPED_TRACE(mode_name(m));
    const Tensor x = make(lcg_values(count(s), 5), s, device(), true);
    const Tensor g = make(lcg_values(count(s) * 4, 6), {1, 2, 6, 4}, device(), true);
    const Tensor dx = grad({run(m, x, 2)}, {x}, {g}, /*create_graph=*/true)[0];
    const Tensor dg = grad({sum(dx * v)}, {g})[0];
    EXPECT_TRUE(all_close(dg, upsample_ref(v.to_vector(), s, 2, m)));
  }
}

TEST_P(UpsampleTest, Errors) {
  const Device d = device();
  EXPECT_TRUE(
      contains(error_of([&] {
                 upsample_nearest2d(zeros({2, 3, 4}, d));
               }),
               "upsample_nearest2d: expected a 4-D input [N, C, H, W], got shape [2, 3, 4]"));
  EXPECT_TRUE(contains(error_of([&] {
                         upsample_bilinear2d(zeros({1, 1, 2, 2}, d), 0);
                       }),
                       "upsample_bilinear2d: expected an integer scale >= 1, got 0"));
  EXPECT_TRUE(contains(error_of([&] {
                         upsample_nearest2d(zeros({1, 1, 2, 2}, d), -2);
                       }),
                       "upsample_nearest2d: expected an integer scale >= 1, got -2"));
  EXPECT_TRUE(contains(error_of([&] { upsample_bilinear2d(Tensor()); }),
                       "upsample_bilinear2d: expected a defined"));
}

GE_INSTANTIATE_DEVICE_TEST(UpsampleTest);

}  // namespace
}  // namespace ge::optest
