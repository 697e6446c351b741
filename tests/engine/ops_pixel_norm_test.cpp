// pixel_norm on every device against a double loop written here, along dim 1 of NCHW, the last
// dim of a batch of latents and a negative dim, non-contiguous input; gradcheck, gradgradcheck
// and a third-order check; argument errors.
#include "ganengine/pixel_norm.h"

#include <cmath>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class PixelNormTest : public DeviceTest {};

// x * 1 / sqrt(mean(x^2 along dim) + eps), in double; dim non-negative.
std::vector<float> pixel_norm_ref(const std::vector<float>& x, const Shape& s, int64_t dim,
                                  double eps) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d)
    outer *= s[d];
  for (size_t d = static_cast<size_t>(dim) + 1; d < s.size(); ++d)
    inner *= s[d];
  const int64_t r = s[dim];
  std::vector<float> y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double sq = 0;
      for (int64_t j = 0; j < r; ++j) {
        const double v = x[static_cast<size_t>((o * r + j) * inner + i)];
        sq += v * v;
      }
      const double rs = 1.0 / std::sqrt(sq / r + eps);
      for (int64_t j = 0; j < r; ++j) {
        const size_t at = static_cast<size_t>((o * r + j) * inner + i);
        y[at] = static_cast<float>(x[at] * rs);
      }
    }
  return y;
}

TEST_P(PixelNormTest, ForwardMatchesReference) {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  const Case cases[] = {{{2, 8, 3, 4}, 1}, {{4, 512}, 1},     {{3, 6}, -1},
                        {{2, 3, 5}, -2},   {{2, 5, 3, 3}, 1}, {{7}, 0}};
  for (const Case& c : cases) {
    SCOPED_TRACE(to_string(c.shape) + " dim " + std::to_string(c.dim));
    const std::vector<float> x = lcg_values(count(c.shape), 1, -2.f, 2.f);
    const int64_t d = c.dim < 0 ? c.dim + static_cast<int64_t>(c.shape.size()) : c.dim;
    const Tensor y = pixel_norm(make(x, c.shape, device()), c.dim);
    EXPECT_EQ(y.shape(), c.shape);
    EXPECT_TRUE(all_close(y, pixel_norm_ref(x, c.shape, d, 1e-8)));
  }
}

TEST_P(PixelNormTest, EpsAndZeroInput) {
  // An all-zero row stays zero (eps keeps the scale finite), as in StyleGAN.
  const Tensor y = pixel_norm(zeros({2, 4}, device()), 1);
  EXPECT_TRUE(all_close(y, std::vector<float>(8, 0.f)));
  const std::vector<float> x = lcg_values(12, 2, -0.1f, 0.1f);
  EXPECT_TRUE(
      all_close(pixel_norm(make(x, {3, 4}, device()), 1, 0.5f), pixel_norm_ref(x, {3, 4}, 1, 0.5)));
}

TEST_P(PixelNormTest, NonContiguousInput) {
  const std::vector<float> base = lcg_values(24, 3, -1.f, 1.f);
  const Tensor x = make(base, {4, 6}, device()).t();  // [6, 4]
  ASSERT_FALSE(x.is_contiguous());
  EXPECT_TRUE(
      all_close(pixel_norm(x, 0), pixel_norm_ref(permuted(base, {4, 6}, {1, 0}), {6, 4}, 0, 1e-8)));
}

TEST_P(PixelNormTest, Gradients) {
  struct Case {
    Shape shape;
    int64_t dim;
  };
  for (const Case& c : {Case{{2, 3, 2, 2}, 1}, Case{{3, 4}, -1}, Case{{2, 3, 3}, 0}}) {
    SCOPED_TRACE(to_string(c.shape) + " dim " + std::to_string(c.dim));
    const auto fn = [d = c.dim](const std::vector<Tensor>& in) { return pixel_norm(in[0], d); };
    const std::vector<Tensor> in = {
        make(away_from_zero(count(c.shape), 4, 0.2f), c.shape, device(), true)};
    EXPECT_TRUE(grad_ok(fn, in));
    EXPECT_TRUE(gradgrad_ok(fn, in));
  }
}

TEST_P(PixelNormTest, ThirdOrderThroughCreateGraph) {
  const Shape s = {2, 3, 2};
  const Tensor v = make(lcg_values(count(s), 5), s, device());
  const auto first = [v](const std::vector<Tensor>& in) {
    EnableGradGuard enable;
    const Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_(true);
    return grad({sum(pixel_norm(x, 1) * v)}, {x}, {}, /*create_graph=*/true)[0];
  };
  EXPECT_TRUE(gradgrad_ok(first, {make(away_from_zero(count(s), 6, 0.2f), s, device(), true)}));
}

TEST_P(PixelNormTest, Errors) {
  const Tensor x = make(lcg_values(6, 7), {2, 3}, device());
  EXPECT_TRUE(contains(error_of([&] { pixel_norm(x, 2); }),
                       "pixel_norm: dim 2 out of range for a tensor with 2 dims"));
  EXPECT_TRUE(
      contains(error_of([&] { pixel_norm(x, 1, -1.f); }), "pixel_norm: expected eps >= 0, got -1"));
  EXPECT_TRUE(contains(error_of([&] { pixel_norm(scalar_tensor(1.f, device()), 0); }),
                       "pixel_norm: expected a tensor with at least 1 dim, got shape []"));
  EXPECT_TRUE(contains(error_of([&] { pixel_norm(Tensor()); }), "pixel_norm: expected a defined"));
}

GE_INSTANTIATE_DEVICE_TEST(PixelNormTest);

}  // namespace
}  // namespace ge::optest
