// Spectral norm on the weight layers, on every device: PyTorch's renaming (weight_orig, buffers
// weight_u / weight_v, in PyTorch's order), one power iteration per training-mode forward (or
// n_power_iterations) checked against a power iteration in double, u and v frozen in eval,
// ConvTranspose2d normalising along dim 1, the equalized-lr gain applied after the
// normalisation, gradcheck with frozen u and v, and applying it twice.
#include <cmath>
#include <vector>

#include "ganengine/gradcheck.h"
#include "ganengine/nn/conv.h"
#include "ganengine/nn/linear.h"
#include "nn/nn_test_util.h"
#include "support/spectral_norm_reference.h"

namespace ge::nntest {
namespace {

using nn::LayerOptions;
using nn::Linear;

std::vector<double> as_double(const std::vector<float>& v) {
  return std::vector<double>(v.begin(), v.end());
}

std::vector<float> scaled(const std::vector<float>& v, double s) {
  std::vector<float> out;
  for (float e : v)
    out.push_back(static_cast<float>(e * s));
  return out;
}

class NnSpectralNormLayerTest : public DeviceTest {};

TEST_P(NnSpectralNormLayerTest, RenamesLikePyTorch) {
  Generator gen(1);
  auto layer = nn::spectral_norm(std::make_shared<Linear>(5, 3, LayerOptions{}, &gen), {}, &gen);
  EXPECT_TRUE(layer->has_spectral_norm());
  EXPECT_EQ(names_of(layer->named_parameters()), (std::vector<std::string>{"bias", "weight_orig"}));
  EXPECT_EQ(names_of(layer->named_buffers()), (std::vector<std::string>{"weight_u", "weight_v"}));
  EXPECT_EQ(names_of(layer->state_dict()),
            (std::vector<std::string>{"bias", "weight_orig", "weight_u", "weight_v"}));
  EXPECT_EQ(layer->weight_u.shape(), (Shape{3}));
  EXPECT_EQ(layer->weight_v.shape(), (Shape{5}));
  // PyTorch's initial vectors are unit length.
  for (const Tensor& t : {layer->weight_u, layer->weight_v}) {
    double ss = 0.0;
    for (float e : t.to_vector())
      ss += static_cast<double>(e) * e;
    EXPECT_NEAR(ss, 1.0, 1e-5);
  }
  layer->to(device());
  EXPECT_EQ(layer->weight_u.device(), device());
  EXPECT_TRUE(contains(error_of([&] { layer->apply_spectral_norm(); }),
                       "Linear: apply_spectral_norm: spectral norm is already applied"));
}

TEST_P(NnSpectralNormLayerTest, OnePowerIterationPerTrainingForward) {
  Generator gen(2);
  auto layer = nn::spectral_norm(std::make_shared<Linear>(4, 3, LayerOptions{}, &gen), {}, &gen);
  const std::vector<float> w = fill_lcg(layer->weight, 3), b = fill_lcg(layer->bias, 4);
  layer->to(device());
  std::vector<float> u = layer->weight_u.to_vector(), v = layer->weight_v.to_vector();
  const std::vector<float> x = lcg_values(2 * 4, 5);
  for (int step = 0; step < 2; ++step) {
    const testing::PowerIteration p = testing::power_iteration_ref(as_double(w), 3, 4, u, v, 1);
    const Tensor y = (*layer)(from_vector(x, {2, 4}, device()));
    EXPECT_TRUE(all_close(y, to_float(linear_ref(x, w, b, 2, 4, 3, 1.0 / p.sigma)), 1e-5, 1e-5))
        << "step " << step;
    EXPECT_TRUE(all_close(layer->weight_u, to_float(p.u), 1e-5, 1e-5)) << "step " << step;
    EXPECT_TRUE(all_close(layer->weight_v, to_float(p.v), 1e-5, 1e-5)) << "step " << step;
    u = layer->weight_u.to_vector();
    v = layer->weight_v.to_vector();
  }
  // The stored weight is never overwritten by the normalised one.
  EXPECT_TRUE(all_close(layer->weight, w, 0, 0));
}

TEST_P(NnSpectralNormLayerTest, SeveralIterationsWhenAsked) {
  Generator gen(6);
  SpectralNormOptions options;
  options.n_power_iterations = 3;
  auto layer =
      nn::spectral_norm(std::make_shared<Linear>(3, 2, LayerOptions{}, &gen), options, &gen);
  const std::vector<float> w = fill_lcg(layer->weight, 7);
  layer->to(device());
  const std::vector<float> u = layer->weight_u.to_vector(), v = layer->weight_v.to_vector();
  (*layer)(from_vector(lcg_values(3, 8), {1, 3}, device()));
  const testing::PowerIteration p = testing::power_iteration_ref(as_double(w), 2, 3, u, v, 3);
  EXPECT_TRUE(all_close(layer->weight_u, to_float(p.u), 1e-5, 1e-5));
}

TEST_P(NnSpectralNormLayerTest, EvalFreezesUAndV) {
  Generator gen(9);
  auto layer = nn::spectral_norm(std::make_shared<Linear>(4, 2, LayerOptions{}, &gen), {}, &gen);
  const std::vector<float> w = fill_lcg(layer->weight, 10), b = fill_lcg(layer->bias, 11);
  layer->to(device());
  layer->eval();
  const std::vector<float> u = layer->weight_u.to_vector(), v = layer->weight_v.to_vector();
  const double sigma = testing::sigma_ref(as_double(w), 2, 4, as_double(u), as_double(v));
  const std::vector<float> x = lcg_values(3 * 4, 12);
  for (int step = 0; step < 2; ++step) {
    const Tensor y = (*layer)(from_vector(x, {3, 4}, device()));
    EXPECT_TRUE(all_close(y, to_float(linear_ref(x, w, b, 3, 4, 2, 1.0 / sigma)), 1e-5, 1e-5));
    EXPECT_TRUE(all_close(layer->weight_u, u, 0, 0));
    EXPECT_TRUE(all_close(layer->weight_v, v, 0, 0));
  }
  // gradcheck with u, v frozen.
  const Tensor weight = layer->weight;
  const Tensor xg = from_vector(x, {3, 4}, device()).requires_grad_();
  auto fn = [&](const std::vector<Tensor>& in) {
    layer->weight = in[1];
    return (*layer)(in[0]);
  };
  EXPECT_TRUE(gradcheck(fn, {xg, weight}));
  layer->weight = weight;
}

TEST_P(NnSpectralNormLayerTest, ConvTransposeNormalisesAlongDim1) {
  Generator gen(13);
  auto layer = nn::spectral_norm(
      std::make_shared<nn::ConvTranspose2d>(4, 3, 2, Conv2dOptions(2, 0), LayerOptions{}, &gen), {},
      &gen);
  EXPECT_EQ(layer->weight.shape(), (Shape{4, 3, 2, 2}));
  EXPECT_EQ(layer->weight_u.shape(), (Shape{3}));
  EXPECT_EQ(layer->weight_v.shape(), (Shape{16}));
  const std::vector<float> w = fill_lcg(layer->weight, 14), b = fill_lcg(layer->bias, 15);
  layer->to(device());
  // The weight as [out, in * k * k]: output channel first.
  std::vector<double> mat(48);
  for (int i = 0; i < 4; ++i)
    for (int o = 0; o < 3; ++o)
      for (int k = 0; k < 4; ++k)
        mat[o * 16 + i * 4 + k] = w[(i * 3 + o) * 4 + k];
  const testing::PowerIteration p = testing::power_iteration_ref(
      mat, 3, 16, layer->weight_u.to_vector(), layer->weight_v.to_vector(), 1);
  const std::vector<float> x = lcg_values(count({1, 4, 2, 2}), 16);
  const Tensor y = (*layer)(from_vector(x, {1, 4, 2, 2}, device()));
  int64_t ho = 0, wo = 0;
  const ConvGeometry g{1, 4, 2, 2, 3, 2, 2, 0};
  EXPECT_TRUE(all_close(
      y, to_float(conv_transpose2d_ref(x, scaled(w, 1.0 / p.sigma), b, g, ho, wo)), 1e-5, 1e-5));
  EXPECT_TRUE(all_close(layer->weight_u, to_float(p.u), 1e-5, 1e-5));
}

TEST_P(NnSpectralNormLayerTest, EqualizedGainAppliesAfterNormalisation) {
  LayerOptions options;
  options.equalized_lr = true;
  options.lr_multiplier = 0.5f;
  Generator gen(17);
  auto layer = nn::spectral_norm(std::make_shared<Linear>(4, 2, options, &gen), {}, &gen);
  const std::vector<float> w = fill_lcg(layer->weight, 18);
  layer->to(device());
  layer->eval();
  const double sigma =
      testing::sigma_ref(as_double(w), 2, 4, as_double(layer->weight_u.to_vector()),
                         as_double(layer->weight_v.to_vector()));
  EXPECT_TRUE(
      all_close(layer->effective_weight(), scaled(w, 0.5 / std::sqrt(4.0) / sigma), 1e-6, 1e-5));
}

GE_INSTANTIATE_DEVICE_TEST(NnSpectralNormLayerTest);

}  // namespace
}  // namespace ge::nntest
