// instance_norm2d on every device against a double loop written here (each plane normalised by
// its own mean and biased variance): odd plane sizes (1x1, 3x5, 7x7), large planes (64x64), N = 1,
// with and without affine, a non-contiguous input; gradcheck and gradgradcheck for x, weight and
// bias (and with constant parameters, where the backward skips the parameter gradients), a
// third-order check, and the argument errors.
#include "ganengine/instance_norm.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/norm_test_util.h"
#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class InstanceNormTest : public DeviceTest {};

// F.instance_norm in double. weight/bias empty: no affine.
std::vector<float> instance_norm_ref(const std::vector<float>& x, const Shape& s,
                                     const std::vector<float>& weight,
                                     const std::vector<float>& bias, double eps) {
  const int64_t c = s[1], hw = s[2] * s[3];
  std::vector<float> y(x.size());
  for (int64_t p = 0; p < s[0] * c; ++p) {
    const size_t base = static_cast<size_t>(p * hw), ch = static_cast<size_t>(p % c);
    double sum = 0;
    for (int64_t j = 0; j < hw; ++j)
      sum += x[base + j];
    const double mean = sum / hw;
    double sq = 0;
    for (int64_t j = 0; j < hw; ++j)
      sq += (x[base + j] - mean) * (x[base + j] - mean);
    const double scale = (weight.empty() ? 1.0 : weight[ch]) / std::sqrt(sq / hw + eps);
    const double shift = bias.empty() ? 0.0 : bias[ch];
    for (int64_t j = 0; j < hw; ++j)
      y[base + j] = static_cast<float>((x[base + j] - mean) * scale + shift);
  }
  return y;
}

TEST_P(InstanceNormTest, MatchesReference) {
  for (const Shape& s : {Shape{2, 3, 1, 1}, Shape{1, 4, 3, 5}, Shape{3, 2, 7, 7},
                         Shape{1, 2, 64, 64}, Shape{2, 3, 4, 4}}) {
    SCOPED_TRACE(to_string(s));
    const int64_t c = s[1];
    std::vector<float> xv = lcg_values(count(s), 1, -2.f, 2.f);
    for (float& v : xv)
      v += 3.f;  // a mean far from 0
    const std::vector<float> w = lcg_values(c, 2, 0.5f, 1.5f), b = lcg_values(c, 3);
    for (bool affine : {false, true}) {
      SCOPED_TRACE(affine ? "affine" : "no affine");
      for (float eps : {1e-5f, 1e-2f}) {
        const Tensor y =
            instance_norm2d(make(xv, s, device()), affine ? make(w, {c}, device()) : Tensor(),
                            affine ? make(b, {c}, device()) : Tensor(), eps);
        EXPECT_EQ(y.shape(), s);
        EXPECT_TRUE(all_close(y,
                              instance_norm_ref(xv, s, affine ? w : std::vector<float>{},
                                                affine ? b : std::vector<float>{}, eps),
                              1e-4, 1e-4));
      }
    }
  }
}

TEST_P(InstanceNormTest, NonContiguousInput) {
  const Shape s = {2, 3, 2, 5};
  const std::vector<float> base = lcg_values(count(s), 4, -1.f, 1.f);
  // x laid out [N, H, W, C] and permuted to [N, C, H, W].
  const Tensor x = make(base, {2, 2, 5, 3}, device()).permute({0, 3, 1, 2});
  ASSERT_FALSE(x.is_contiguous());
  const std::vector<float> xv = permuted(base, {2, 2, 5, 3}, {0, 3, 1, 2});
  const std::vector<float> w = {0.5f, 1.f, 2.f}, b = {0.1f, -0.2f, 0.3f};
  EXPECT_TRUE(all_close(instance_norm2d(x, make(w, {3}, device()), make(b, {3}, device())),
                        instance_norm_ref(xv, s, w, b, 1e-5), 1e-4, 1e-4));
}

TEST_P(InstanceNormTest, EmptyBatch) {
  const Tensor x = zeros({0, 3, 2, 2}, device()).requires_grad_(true);
  const Tensor w = ones({3}, device()).requires_grad_(true);
  const Tensor b = zeros({3}, device()).requires_grad_(true);
  const Tensor y = instance_norm2d(x, w, b);
  EXPECT_EQ(y.shape(), (Shape{0, 3, 2, 2}));
  const std::vector<Tensor> g = grad({sum(y)}, {x, w, b});
  EXPECT_TRUE(all_close(g[1], {0.f, 0.f, 0.f}, 0, 0));
  EXPECT_TRUE(all_close(g[2], {0.f, 0.f, 0.f}, 0, 0));
}

Tensor call(const std::vector<Tensor>& in) {
  return instance_norm2d(in[0], in.size() > 1 ? in[1] : Tensor(), in.size() > 2 ? in[2] : Tensor());
}

TEST_P(InstanceNormTest, Gradients) {
  // 2x3 and 3x5 planes (scalar kernels), 2x2 (float4), N = 1 and N > 1, 1x1 planes.
  for (const Shape& s :
       {Shape{2, 3, 2, 3}, Shape{1, 2, 3, 5}, Shape{3, 2, 2, 2}, Shape{2, 2, 1, 1}}) {
    for (bool affine : {false, true}) {
      SCOPED_TRACE(to_string(s) + (affine ? " affine" : " no affine"));
      const std::vector<Tensor> in = inputs_for(s, device(), affine, 20);
      EXPECT_TRUE(grad_ok(call, in));
      EXPECT_TRUE(gradgrad_ok(call, in));
    }
  }
}

TEST_P(InstanceNormTest, GradientsWithConstantParameters) {
  // Only x requires grad: the backward computes dx alone, and its double backward still carries
  // the weight.
  const Shape s = {2, 3, 1, 5};
  const Tensor w = make(lcg_values(3, 30, 0.5f, 1.5f), {3}, device());
  const Tensor b = make(lcg_values(3, 31), {3}, device());
  const auto fn = [w, b](const std::vector<Tensor>& in) { return instance_norm2d(in[0], w, b); };
  const std::vector<Tensor> in = {make(lcg_values(count(s), 32, -1.f, 1.f), s, device(), true)};
  EXPECT_TRUE(grad_ok(fn, in));
  EXPECT_TRUE(gradgrad_ok(fn, in));
}

TEST_P(InstanceNormTest, GradientsForParametersOnly) {
  const Shape s = {3, 2, 2, 3};
  const Tensor x = make(lcg_values(count(s), 33, -1.f, 1.f), s, device());
  const auto fn = [x](const std::vector<Tensor>& in) { return instance_norm2d(x, in[0], in[1]); };
  const std::vector<Tensor> in = {make(lcg_values(2, 34, 0.5f, 1.5f), {2}, device(), true),
                                  make(lcg_values(2, 35), {2}, device(), true)};
  EXPECT_TRUE(grad_ok(fn, in));
  EXPECT_TRUE(gradgrad_ok(fn, in));
}

// The double backward is itself differentiable: gradgradcheck of the create_graph gradient.
TEST_P(InstanceNormTest, ThirdOrderThroughCreateGraph) {
  const Shape s = {2, 2, 1, 3};
  const Tensor v = make(lcg_values(count(s), 50), s, device());
  const auto first = create_graph_grad(v, [](const Tensor& x, const std::vector<Tensor>& in) {
    return instance_norm2d(x, in[1], in[2]);
  });
  const std::vector<Tensor> in = inputs_for(s, device(), true, 51);
  EXPECT_TRUE(gradgrad_ok(first, in));
}

TEST_P(InstanceNormTest, Errors) {
  const Device d = device();
  const Tensor x = make(lcg_values(24, 60), {2, 3, 2, 2}, d);
  const Tensor c3 = ones({3}, d), c4 = ones({4}, d);
  EXPECT_TRUE(contains(error_of([&] {
                         instance_norm2d(make(lcg_values(6, 1), {2, 3}, d), Tensor(), Tensor());
                       }),
                       "instance_norm2d: expected a 4-D input [N, C, H, W], got shape [2, 3]"));
  EXPECT_TRUE(
      contains(error_of([&] {
                 instance_norm2d(make(lcg_values(6, 1), {1, 2, 3, 1, 1}, d), Tensor(), Tensor());
               }),
               "got shape [1, 2, 3, 1, 1]"));
  EXPECT_TRUE(contains(error_of([&] { instance_norm2d(x, c4, c3); }),
                       "instance_norm2d: expected weight of shape [3] (the channels of x [2, 3, "
                       "2, 2]), got [4]"));
  EXPECT_TRUE(contains(error_of([&] { instance_norm2d(x, c3, c4); }),
                       "instance_norm2d: expected bias of shape [3]"));
  EXPECT_TRUE(
      contains(error_of([&] {
                 instance_norm2d(x, ones({3, 1}, d), c3);
               }),
               "expected weight of shape [3] (the channels of x [2, 3, 2, 2]), got [3, 1]"));
  EXPECT_TRUE(contains(error_of([&] { instance_norm2d(x, c3, Tensor()); }),
                       "instance_norm2d: expected weight and bias both defined (affine) or both "
                       "undefined, got weight only"));
  EXPECT_TRUE(contains(error_of([&] { instance_norm2d(x, Tensor(), c3); }),
                       "both undefined, got bias only"));
  EXPECT_TRUE(contains(error_of([&] { instance_norm2d(x, Tensor(), Tensor(), 0.f); }),
                       "instance_norm2d: expected eps > 0, got 0"));
  EXPECT_TRUE(contains(error_of([&] { instance_norm2d(x, Tensor(), Tensor(), -1e-5f); }),
                       "instance_norm2d: expected eps > 0, got -1e-05"));
  EXPECT_TRUE(contains(error_of([&] {
                         instance_norm2d(zeros({2, 3, 0, 4}, d), Tensor(), Tensor());
                       }),
                       "instance_norm2d: expected at least one value per plane (H * W > 0), got "
                       "input shape [2, 3, 0, 4]"));
  if (cuda_is_available()) {
    const Tensor other = ones({3}, other_device(d));
    EXPECT_TRUE(contains(error_of([&] { instance_norm2d(x, other, other); }), "same device"));
  }
}

GE_INSTANTIATE_DEVICE_TEST(InstanceNormTest);

}  // namespace
}  // namespace ge::optest
