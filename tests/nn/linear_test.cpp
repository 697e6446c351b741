// nn::Linear on every device: the forward against plain loops (plain, fused activation, batched
// leading dims), PyTorch's default init bounds, StyleGAN's equalized learning rate (stored
// N(0, 1) / lr_multiplier, run-time gain lr_multiplier / sqrt(fan_in), bias * lr_multiplier),
// gradcheck through the module, and argument errors.
#include "ganengine/nn/linear.h"

#include <cmath>
#include <vector>

#include "ganengine/gradcheck.h"
#include "ganengine/nn/init.h"
#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

using nn::LayerOptions;
using nn::Linear;

class NnLinearTest : public DeviceTest {};

TEST_P(NnLinearTest, ForwardMatchesLoops) {
  Linear layer(5, 3);
  EXPECT_EQ(layer.weight.shape(), (Shape{3, 5}));
  EXPECT_EQ(layer.bias.shape(), (Shape{3}));
  const std::vector<float> w = fill_lcg(layer.weight, 1), b = fill_lcg(layer.bias, 2);
  layer.to(device());
  const std::vector<float> x = lcg_values(4 * 5, 3);
  const Tensor y = layer(from_vector(x, {4, 5}, device()));
  EXPECT_EQ(y.shape(), (Shape{4, 3}));
  EXPECT_TRUE(all_close(y, to_float(linear_ref(x, w, b, 4, 5, 3)), 1e-5, 1e-5));

  // Leading batch dims are kept, as torch.nn.Linear.
  const Tensor y3 = layer(from_vector(x, {2, 2, 5}, device()));
  EXPECT_EQ(y3.shape(), (Shape{2, 2, 3}));
  EXPECT_TRUE(all_close(y3, to_float(linear_ref(x, w, b, 4, 5, 3)), 1e-5, 1e-5));
}

TEST_P(NnLinearTest, FusedActivationMatchesLoops) {
  LayerOptions options;
  options.act.act = Activation::LeakyRelu;
  options.act.alpha = 0.2f;
  options.act.clamp = 0.9f;
  Linear layer(4, 6, options);
  const std::vector<float> w = fill_lcg(layer.weight, 4), b = fill_lcg(layer.bias, 5);
  layer.to(device());
  const std::vector<float> x = lcg_values(3 * 4, 6, -2.f, 2.f);
  const Tensor y = layer(from_vector(x, {3, 4}, device()));
  const std::vector<double> pre = linear_ref(x, w, b, 3, 4, 6);
  std::vector<float> expected;
  int clamped = 0;
  for (double v : pre) {
    const double a = leaky(v, 0.2) * std::sqrt(2.0);
    clamped += std::fabs(a) > 0.9;
    expected.push_back(static_cast<float>(std::fmin(std::fmax(a, -0.9), 0.9)));
  }
  EXPECT_GT(clamped, 0);  // the clamp is exercised
  EXPECT_TRUE(all_close(y, expected, 1e-5, 1e-5));
}

TEST_P(NnLinearTest, WithoutBias) {
  LayerOptions options;
  options.bias = false;
  Linear layer(3, 2, options);
  EXPECT_FALSE(layer.bias.defined());
  EXPECT_EQ(names_of(layer.named_parameters()), (std::vector<std::string>{"weight"}));
  const std::vector<float> w = fill_lcg(layer.weight, 7);
  layer.to(device());
  const std::vector<float> x = lcg_values(2 * 3, 8);
  EXPECT_TRUE(all_close(layer(from_vector(x, {2, 3}, device())),
                        to_float(linear_ref(x, w, {}, 2, 3, 2)), 1e-5, 1e-5));
}

TEST_P(NnLinearTest, EqualizedLearningRate) {
  LayerOptions options;
  options.equalized_lr = true;
  options.lr_multiplier = 0.25f;
  options.bias_init = 1.f;
  Generator gen(11);
  Linear layer(8, 3, options, &gen);
  // StyleGAN's storage: the bias holds bias_init; the effective bias is scaled at run time.
  EXPECT_TRUE(all_close(layer.bias, std::vector<float>(3, 1.f), 0, 0));
  const std::vector<float> w = fill_lcg(layer.weight, 12), b = fill_lcg(layer.bias, 13);
  layer.to(device());
  const double gain = 0.25 / std::sqrt(8.0);
  std::vector<float> expected_w;
  for (float v : w)
    expected_w.push_back(static_cast<float>(v * gain));
  EXPECT_TRUE(all_close(layer.effective_weight(), expected_w, 1e-7, 1e-6));
  const std::vector<float> x = lcg_values(2 * 8, 14);
  EXPECT_TRUE(all_close(layer(from_vector(x, {2, 8}, device())),
                        to_float(linear_ref(x, w, b, 2, 8, 3, gain, 0.25)), 1e-5, 1e-5));
}

TEST_P(NnLinearTest, GradcheckThroughTheModule) {
  LayerOptions options;
  options.equalized_lr = true;
  options.lr_multiplier = 0.5f;
  options.act.act = Activation::LeakyRelu;
  Linear layer(3, 2, options);
  layer.to(device());
  fill_lcg(layer.weight, 15);
  fill_lcg(layer.bias, 16, 0.1f, 0.3f);
  Tensor x = from_vector(lcg_values(2 * 3, 17), {2, 3}, device()).requires_grad_();
  const Tensor weight = layer.weight, bias = layer.bias;
  // The layer reads its member slots, so the checker's perturbed tensors go there.
  auto fn = [&](const std::vector<Tensor>& in) {
    layer.weight = in[1];
    layer.bias = in[2];
    return layer(in[0]);
  };
  EXPECT_TRUE(gradcheck(fn, {x, weight, bias}));
  EXPECT_TRUE(gradgradcheck(fn, {x, weight, bias}));
  layer.weight = weight;
  layer.bias = bias;
}

GE_INSTANTIATE_DEVICE_TEST(NnLinearTest);

TEST(NnLinear, DefaultInitIsPyTorchsUniform) {
  Generator gen(21);
  Linear layer(16, 64, {}, &gen);
  const float bound = 1.f / 4.f;  // 1 / sqrt(fan_in = 16)
  for (const Tensor& t : {layer.weight, layer.bias}) {
    const std::vector<float> v = t.to_vector();
    float lo = 1.f, hi = -1.f;
    for (float e : v) {
      lo = std::fmin(lo, e);
      hi = std::fmax(hi, e);
    }
    EXPECT_GE(lo, -bound);
    EXPECT_LE(hi, bound);
    EXPECT_LT(lo, -0.8f * bound);  // spread over the range, not a constant
    EXPECT_GT(hi, 0.8f * bound);
  }
  // The generator drives it: the same seed gives the same layer, another seed another.
  Generator same(21), other(22);
  EXPECT_TRUE(all_close(Linear(16, 64, {}, &same).weight, layer.weight, 0, 0));
  EXPECT_FALSE(all_close(Linear(16, 64, {}, &other).weight, layer.weight, 0, 0));
  EXPECT_EQ(nn::init::fan_in(layer.weight), 16);
}

TEST(NnLinear, EqualizedInitIsScaledNormal) {
  LayerOptions options;
  options.equalized_lr = true;
  options.lr_multiplier = 0.01f;
  Generator gen(23);
  Linear layer(64, 64, options, &gen);
  const std::vector<float> v = layer.weight.to_vector();
  double mean = 0.0, sq = 0.0;
  for (float e : v) {
    mean += e;
    sq += static_cast<double>(e) * e;
  }
  mean /= static_cast<double>(v.size());
  const double std = std::sqrt(sq / static_cast<double>(v.size()) - mean * mean);
  EXPECT_NEAR(std, 100.0, 5.0);  // N(0, 1) / lr_multiplier over 4096 draws
  EXPECT_NEAR(mean, 0.0, 5.0);
  EXPECT_TRUE(all_close(layer.bias, std::vector<float>(64, 0.f), 0, 0));
}

TEST(NnLinear, Errors) {
  Linear layer(3, 2);
  EXPECT_TRUE(contains(error_of([&] {
                         layer(zeros({2, 4}));
                       }),
                       "Linear: expected an input [..., 3]"));
  EXPECT_TRUE(contains(error_of([] { Linear(0, 2); }), "in_features"));
  LayerOptions options;
  options.equalized_lr = true;
  options.lr_multiplier = 0.f;
  EXPECT_TRUE(contains(error_of([&] { Linear(2, 2, options); }), "lr_multiplier"));
}

}  // namespace
}  // namespace ge::nntest
