// nn::Conv2d and nn::ConvTranspose2d on every device: PyTorch's weight layouts and fan-in,
// the forward against plain loops (stride, padding, output_padding, groups, the fused
// activation, equalized lr), gradcheck through Conv2d, and argument errors.
#include "ganengine/nn/conv.h"

#include <cmath>
#include <vector>

#include "ganengine/gradcheck.h"
#include "ganengine/nn/init.h"
#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

using nn::Conv2d;
using nn::ConvTranspose2d;
using nn::LayerOptions;

class NnConvTest : public DeviceTest {};

TEST_P(NnConvTest, Conv2dMatchesLoops) {
  const ConvGeometry g{2, 4, 5, 5, 6, 3, /*stride=*/2, /*pad=*/1, 0, /*groups=*/2};
  Conv2d layer(4, 6, 3, Conv2dOptions(2, 1, 0, 2));
  EXPECT_EQ(layer.weight.shape(), (Shape{6, 2, 3, 3}));
  const std::vector<float> w = fill_lcg(layer.weight, 1), b = fill_lcg(layer.bias, 2);
  layer.to(device());
  const std::vector<float> x = lcg_values(count({2, 4, 5, 5}), 3);
  int64_t ho = 0, wo = 0;
  const std::vector<double> expected = conv2d_ref(x, w, b, g, ho, wo);
  const Tensor y = layer(from_vector(x, {2, 4, 5, 5}, device()));
  EXPECT_EQ(y.shape(), (Shape{2, 6, ho, wo}));
  EXPECT_TRUE(all_close(y, to_float(expected), 1e-5, 1e-5));
}

TEST_P(NnConvTest, Conv2dFusedActivationAndEqualizedLr) {
  LayerOptions options;
  options.equalized_lr = true;
  options.lr_multiplier = 0.5f;
  options.act.act = Activation::LeakyRelu;
  options.act.alpha = 0.2f;
  const ConvGeometry g{1, 2, 4, 4, 3, 3, 1, 1};
  Conv2d layer(2, 3, 3, Conv2dOptions(1, 1), options);
  const std::vector<float> w = fill_lcg(layer.weight, 4), b = fill_lcg(layer.bias, 5);
  layer.to(device());
  // The run-time weight and bias, as StyleGAN's Conv2dLayer scales them.
  const double gain = 0.5 / std::sqrt(2.0 * 3 * 3);
  std::vector<float> ws, bs;
  for (float v : w)
    ws.push_back(static_cast<float>(v * gain));
  for (float v : b)
    bs.push_back(v * 0.5f);
  const std::vector<float> x = lcg_values(count({1, 2, 4, 4}), 6);
  int64_t ho = 0, wo = 0;
  std::vector<float> expected;
  for (double v : conv2d_ref(x, ws, bs, g, ho, wo))
    expected.push_back(static_cast<float>(leaky(v, 0.2) * std::sqrt(2.0)));
  EXPECT_TRUE(all_close(layer(from_vector(x, {1, 2, 4, 4}, device())), expected, 1e-5, 1e-5));
}

TEST_P(NnConvTest, ConvTranspose2dMatchesLoops) {
  const ConvGeometry g{2,           4, 3, 3, 2, 4, /*stride=*/2, /*pad=*/1, /*output_padding=*/1,
                       /*groups=*/2};
  ConvTranspose2d layer(4, 2, 4, Conv2dOptions(2, 1, 1, 2));
  EXPECT_EQ(layer.weight.shape(), (Shape{4, 1, 4, 4}));
  EXPECT_EQ(layer.bias.shape(), (Shape{2}));
  const std::vector<float> w = fill_lcg(layer.weight, 7), b = fill_lcg(layer.bias, 8);
  layer.to(device());
  const std::vector<float> x = lcg_values(count({2, 4, 3, 3}), 9);
  int64_t ho = 0, wo = 0;
  const std::vector<double> expected = conv_transpose2d_ref(x, w, b, g, ho, wo);
  const Tensor y = layer(from_vector(x, {2, 4, 3, 3}, device()));
  EXPECT_EQ(y.shape(), (Shape{2, 2, 7, 7}));  // (3 - 1) * 2 - 2 + 4 + 1
  EXPECT_TRUE(all_close(y, to_float(expected), 1e-5, 1e-5));
}

TEST_P(NnConvTest, ConvTranspose2dFusedActivation) {
  LayerOptions options;
  options.act.act = Activation::Tanh;
  const ConvGeometry g{1, 3, 2, 2, 2, 4, 2, 1};
  ConvTranspose2d layer(3, 2, 4, Conv2dOptions(2, 1), options);
  const std::vector<float> w = fill_lcg(layer.weight, 10), b = fill_lcg(layer.bias, 11);
  layer.to(device());
  const std::vector<float> x = lcg_values(count({1, 3, 2, 2}), 12);
  int64_t ho = 0, wo = 0;
  std::vector<float> expected;
  for (double v : conv_transpose2d_ref(x, w, b, g, ho, wo))
    expected.push_back(static_cast<float>(std::tanh(v)));
  EXPECT_TRUE(all_close(layer(from_vector(x, {1, 3, 2, 2}, device())), expected, 1e-5, 1e-5));
}

TEST_P(NnConvTest, GradcheckThroughConv2d) {
  LayerOptions options;
  options.act.act = Activation::LeakyRelu;
  Conv2d layer(2, 2, 3, Conv2dOptions(1, 1), options);
  layer.to(device());
  fill_lcg(layer.weight, 13);
  fill_lcg(layer.bias, 14, 0.1f, 0.3f);
  Tensor x =
      from_vector(lcg_values(count({1, 2, 3, 3}), 15), {1, 2, 3, 3}, device()).requires_grad_();
  const Tensor weight = layer.weight, bias = layer.bias;
  auto fn = [&](const std::vector<Tensor>& in) {
    layer.weight = in[1];
    layer.bias = in[2];
    return layer(in[0]);
  };
  EXPECT_TRUE(gradcheck(fn, {x, weight, bias}));
  layer.weight = weight;
  layer.bias = bias;
}

GE_INSTANTIATE_DEVICE_TEST(NnConvTest);

// PyTorch's rule: fan_in = weight.size(1) * k * k, for the transposed layout too.
TEST(NnConv, InitUsesPyTorchsFanIn) {
  Generator gen(31);
  ConvTranspose2d up(8, 2, 4, Conv2dOptions(2, 1), {}, &gen);
  EXPECT_EQ(nn::init::fan_in(up.weight), 2 * 4 * 4);
  Conv2d down(8, 2, 3, {}, {}, &gen);
  EXPECT_EQ(nn::init::fan_in(down.weight), 8 * 3 * 3);
  const auto check_bound = [](const Tensor& t, float bound) {
    float lo = 1e9f, hi = -1e9f;
    for (float e : t.to_vector()) {
      lo = std::fmin(lo, e);
      hi = std::fmax(hi, e);
    }
    EXPECT_GE(lo, -bound);
    EXPECT_LE(hi, bound);
    EXPECT_GT(hi - lo, bound);  // spread over the range
  };
  check_bound(up.weight, 1.f / std::sqrt(32.f));
  check_bound(down.weight, 1.f / std::sqrt(72.f));
}

TEST(NnConv, Errors) {
  Conv2d layer(3, 4, 3);
  EXPECT_TRUE(contains(error_of([&] {
                         layer(zeros({1, 2, 5, 5}));
                       }),
                       "Conv2d: expected an input [N, 3, H, W], got shape [1, 2, 5, 5]"));
  EXPECT_TRUE(
      contains(error_of([] { Conv2d(3, 4, 3, Conv2dOptions(1, 0, 0, 2)); }), "groups dividing"));
  EXPECT_TRUE(contains(error_of([] { ConvTranspose2d(4, 3, 3, Conv2dOptions(1, 0, 0, 2)); }),
                       "ConvTranspose2d: expected groups dividing"));
  EXPECT_TRUE(contains(error_of([] { Conv2d(3, 4, 0); }), "kernel_size"));
}

}  // namespace
}  // namespace ge::nntest
