// The weightless layers and Sequential on every device, against plain loops: BiasAct,
// LeakyReLU, Tanh, PixelNorm, MinibatchStdDev, Upsample, Flatten; Sequential's child names and
// chaining.
#include "ganengine/nn/activation.h"

#include <cmath>
#include <memory>
#include <vector>

#include "ganengine/nn/linear.h"
#include "ganengine/nn/sequential.h"
#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

class NnActivationTest : public DeviceTest {};

TEST_P(NnActivationTest, BiasActLeakyReLUTanh) {
  const std::vector<float> x = lcg_values(2 * 3 * 2, 1, -2.f, 2.f);
  const Tensor xt = from_vector(x, {2, 3, 2}, device());

  BiasActOptions relu;
  relu.act = Activation::Relu;
  nn::BiasAct ba(3, relu);
  EXPECT_EQ(names_of(ba.named_parameters()), (std::vector<std::string>{"bias"}));
  const std::vector<float> b = fill_lcg(ba.bias, 2);
  ba.to(device());
  std::vector<float> e_ba, e_leaky, e_tanh;
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = static_cast<double>(x[i]) + b[(i / 2) % 3];
    e_ba.push_back(static_cast<float>(std::fmax(v, 0.0) * std::sqrt(2.0)));
    e_leaky.push_back(static_cast<float>(leaky(x[i], 0.1)));
    e_tanh.push_back(static_cast<float>(std::tanh(x[i])));
  }
  EXPECT_TRUE(all_close(ba(xt), e_ba, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(nn::LeakyReLU(0.1f)(xt), e_leaky, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(nn::Tanh()(xt), e_tanh, 1e-6, 1e-6));
  EXPECT_TRUE(nn::BiasAct(0, relu).named_parameters().empty());
}

TEST_P(NnActivationTest, PixelNormAndFlatten) {
  const std::vector<float> x = lcg_values(2 * 3 * 2, 3);
  const Tensor xt = from_vector(x, {2, 3, 2}, device());
  std::vector<float> expected(x.size());
  for (int n = 0; n < 2; ++n)
    for (int p = 0; p < 2; ++p) {
      double ss = 0.0;
      for (int c = 0; c < 3; ++c)
        ss += static_cast<double>(x[(n * 3 + c) * 2 + p]) * x[(n * 3 + c) * 2 + p];
      for (int c = 0; c < 3; ++c)
        expected[(n * 3 + c) * 2 + p] =
            static_cast<float>(x[(n * 3 + c) * 2 + p] / std::sqrt(ss / 3.0 + 1e-8));
    }
  EXPECT_TRUE(all_close(nn::PixelNorm(1)(xt), expected, 1e-5, 1e-5));
  const Tensor flat = nn::Flatten()(xt);
  EXPECT_EQ(flat.shape(), (Shape{2, 6}));
  EXPECT_TRUE(all_close(flat, x, 0, 0));
}

TEST_P(NnActivationTest, MinibatchStdDev) {
  const std::vector<float> x = lcg_values(2 * 2 * 1 * 2, 4);
  const Tensor y = nn::MinibatchStdDev(2, 1)(from_vector(x, {2, 2, 1, 2}, device()));
  ASSERT_EQ(y.shape(), (Shape{2, 3, 1, 2}));
  // One group of both samples: per position the std over the pair, averaged over positions.
  double s = 0.0;
  for (int p = 0; p < 4; ++p) {
    const double d = (static_cast<double>(x[p]) - x[4 + p]) / 2.0;
    s += std::sqrt(d * d + 1e-8);
  }
  s /= 4.0;
  std::vector<float> expected;
  for (int n = 0; n < 2; ++n) {
    for (int i = 0; i < 4; ++i)
      expected.push_back(x[n * 4 + i]);
    expected.push_back(static_cast<float>(s));
    expected.push_back(static_cast<float>(s));
  }
  EXPECT_TRUE(all_close(y, expected, 1e-5, 1e-5));
}

TEST_P(NnActivationTest, UpsampleNearestAndBilinear) {
  const std::vector<float> x = {1.f, 2.f, 3.f, 4.f};
  const Tensor xt = from_vector(x, {1, 1, 2, 2}, device());
  const Tensor up = nn::Upsample(2)(xt);
  ASSERT_EQ(up.shape(), (Shape{1, 1, 4, 4}));
  std::vector<float> expected;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      expected.push_back(x[(i / 2) * 2 + j / 2]);
  EXPECT_TRUE(all_close(up, expected, 0, 0));
  // align_corners=False: output 0 samples input -0.25 (clamped to 0), output 1 samples 0.25.
  const Tensor bl = nn::Upsample(2, "bilinear")(xt);
  const std::vector<float> row0 = {1.f, 1.25f, 1.75f, 2.f};
  const std::vector<float> got = bl.to_vector();
  for (int j = 0; j < 4; ++j)
    EXPECT_NEAR(got[j], row0[j], 1e-6);
}

TEST_P(NnActivationTest, SequentialChainsAndNamesChildren) {
  Generator gen(5);
  auto l0 = std::make_shared<nn::Linear>(3, 4, nn::LayerOptions{}, &gen);
  auto l2 = std::make_shared<nn::Linear>(4, 2, nn::LayerOptions{}, &gen);
  nn::Sequential seq{l0, std::make_shared<nn::LeakyReLU>(0.2f)};
  seq.push_back(l2);
  EXPECT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[2], l2);
  EXPECT_EQ(names_of(seq.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  const std::vector<float> w0 = fill_lcg(l0->weight, 6), b0 = fill_lcg(l0->bias, 7);
  const std::vector<float> w2 = fill_lcg(l2->weight, 8), b2 = fill_lcg(l2->bias, 9);
  seq.to(device());
  const std::vector<float> x = lcg_values(2 * 3, 10);
  std::vector<float> h;
  for (double v : linear_ref(x, w0, b0, 2, 3, 4))
    h.push_back(static_cast<float>(leaky(v, 0.2)));
  EXPECT_TRUE(all_close(seq(from_vector(x, {2, 3}, device())),
                        to_float(linear_ref(h, w2, b2, 2, 4, 2)), 1e-5, 1e-5));
  EXPECT_TRUE(all_close(nn::Sequential()(from_vector(x, {2, 3}, device())), x, 0, 0));
}

GE_INSTANTIATE_DEVICE_TEST(NnActivationTest);

TEST(NnActivation, Errors) {
  EXPECT_TRUE(contains(error_of([] { nn::Upsample(2, "bicubic"); }),
                       "Upsample: expected mode \"nearest\" or \"bilinear\", got \"bicubic\""));
  EXPECT_TRUE(contains(error_of([] { nn::Upsample(0); }), "scale >= 1"));
  EXPECT_TRUE(contains(error_of([] { nn::BiasAct(-1, {}); }), "channels >= 0"));
}

}  // namespace
}  // namespace ge::nntest
