// SNGAN: the paper's standard CNN layout, spectral norm on every D weight, hinge loss, training.
#include "ganengine/models/sngan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gan_test_util.h"
#include "ganengine/autograd.h"
#include "ganengine/nn/weight_layer.h"
#include "ganengine/ops.h"

namespace ge::models {
namespace {

// Miyato et al.'s Table 3 standard CNN for 32x32x3 (width 64): D convs 3->64 (3x3), 64->64 (4x4
// s2), 64->128, 128->128, 128->256, 256->256, 256->512 (3x3), dense 4*4*512 -> 1; G dense
// z -> 4*4*512, deconvs to 256, 128, 64, conv 3x3 to 3.
TEST(SnganTest, StandardCnnLayout) {
  GanOptions o;
  o.arch = "sngan";
  o.channels = 3;
  o.resolution = 32;
  o.width = 64;
  o.latent_dim = 128;
  Generator g(1);
  Sngan gan(o, g);
  const auto ds = gan.discriminator().state_dict();
  const std::vector<std::pair<std::string, Shape>> d_expected = {
      {"main.0.weight_orig", {64, 3, 3, 3}},
      {"main.2.weight_orig", {64, 64, 4, 4}},
      {"main.4.weight_orig", {128, 64, 3, 3}},
      {"main.6.weight_orig", {128, 128, 4, 4}},
      {"main.8.weight_orig", {256, 128, 3, 3}},
      {"main.10.weight_orig", {256, 256, 4, 4}},
      {"main.12.weight_orig", {512, 256, 3, 3}},
      {"main.15.weight_orig", {1, 8192}},
      {"main.15.weight_u", {1}},
      {"main.15.weight_v", {8192}},
      {"main.12.weight_u", {512}},
      {"main.12.weight_v", {256 * 9}}};
  for (const auto& [k, shape] : d_expected) {
    ASSERT_TRUE(ds.count(k)) << k;
    EXPECT_EQ(ds.at(k).shape(), shape) << k;
  }
  // Every weight of D is spectrally normalised: 8 layers x (weight_orig, bias, u, v).
  EXPECT_EQ(ds.size(), 32u);
  for (const auto& [k, t] : ds)
    EXPECT_EQ(k.find(".weight") != std::string::npos, k.find("weight_") != std::string::npos) << k;
  const auto gs = gan.generator().state_dict();
  EXPECT_EQ(gs.at("fc.weight").shape(), (Shape{8192, 128}));
  EXPECT_EQ(gs.at("main.0.running_mean").shape(), (Shape{512}));
  EXPECT_EQ(gs.at("main.2.weight").shape(), (Shape{512, 256, 4, 4}));
  EXPECT_EQ(gs.at("main.8.weight").shape(), (Shape{128, 64, 4, 4}));
  EXPECT_EQ(gs.at("main.11.weight").shape(), (Shape{3, 64, 3, 3}));
}

TEST(SnganTest, TrainDefaults) {
  Generator g(2);
  const TrainDefaults t = Sngan(gantest::tiny_options("sngan", kCPU), g).train_defaults();
  EXPECT_FLOAT_EQ(t.d_lr, 2e-4f);
  EXPECT_FLOAT_EQ(t.beta1, 0.5f);
  EXPECT_FLOAT_EQ(t.beta2, 0.999f);
  EXPECT_EQ(t.n_critic, 1);
}

// Largest singular value of a [rows, cols] row-major matrix by power iteration in double.
double top_singular_value(const std::vector<float>& w, int64_t rows, int64_t cols) {
  std::vector<double> v(cols, 1.0), u(rows);
  double sigma = 0;
  for (int it = 0; it < 500; ++it) {
    double nu = 0;
    for (int64_t r = 0; r < rows; ++r) {
      u[r] = 0;
      for (int64_t c = 0; c < cols; ++c)
        u[r] += w[r * cols + c] * v[c];
      nu += u[r] * u[r];
    }
    nu = std::sqrt(nu);
    double nv = 0;
    for (int64_t c = 0; c < cols; ++c) {
      v[c] = 0;
      for (int64_t r = 0; r < rows; ++r)
        v[c] += w[r * cols + c] * u[r] / nu;
      nv += v[c] * v[c];
    }
    sigma = std::sqrt(nv);
    for (double& x : v)
      x /= sigma;
  }
  return sigma;
}

class SnganDeviceTest : public DeviceTest {};

// After enough training-mode forwards the power iteration has converged and every D layer's
// effective weight has spectral norm 1.
TEST_P(SnganDeviceTest, DiscriminatorWeightsHaveUnitSpectralNorm) {
  const GanOptions o = gantest::tiny_options("sngan", device());
  Generator g(3);
  Sngan gan(o, g);
  gan.to(device());
  const Tensor x = gantest::fake_real_batch(o, 2, device());
  {
    NoGradGuard no_grad;
    for (int i = 0; i < 60; ++i)
      gan.discriminate(x, Tensor());
  }
  int layers = 0;
  for (size_t i = 0; i < gan.d->main->size(); ++i) {
    auto* layer = dynamic_cast<nn::WeightLayer*>((*gan.d->main)[i].get());
    if (!layer) continue;
    ++layers;
    ASSERT_TRUE(layer->has_spectral_norm()) << "main." << i;
    Tensor w;
    {
      NoGradGuard no_grad;
      w = layer->effective_weight();
    }
    EXPECT_NEAR(top_singular_value(w.to_vector(), w.size(0), w.numel() / w.size(0)), 1.0, 2e-3)
        << "main." << i;
  }
  EXPECT_EQ(layers, o.resolution == 8 ? 4 : 6);
}

TEST_P(SnganDeviceTest, HingeLossAndShapes) {
  const GanOptions o = gantest::tiny_options("sngan", device());
  Generator g(4);
  auto gan = make_gan(o, g);
  gan->to(device());
  const int64_t n = gantest::tiny_batch(device());
  const Tensor x = gan->generate(gan->sample_latent(n, g, device()), Tensor());
  EXPECT_EQ(x.shape(), (Shape{n, 1, o.resolution, o.resolution}));
  // Logits from a fixed D (eval: the stored u, v) against the hinge closed form; a few
  // training-mode forwards first, so that u and v estimate the top singular vectors.
  const Tensor real = gantest::fake_real_batch(o, n, device());
  {
    NoGradGuard no_grad;
    for (int i = 0; i < 10; ++i)
      gan->discriminate(real, Tensor());
  }
  gan->discriminator().eval();
  Generator step(5), replay(5);
  StepContext ctx;
  ctx.generator = &step;
  const LossResult r = gan->discriminator_loss(real, Tensor(), ctx);
  std::vector<float> dr, df;
  {
    NoGradGuard no_grad;
    dr = gan->discriminate(real, Tensor()).to_vector();
    df = gan->discriminate(gan->generate(randn({n, o.latent_dim}, device(), &replay), Tensor()),
                           Tensor())
             .to_vector();
  }
  ASSERT_EQ(dr.size(), static_cast<size_t>(n));
  double expected = 0;
  for (int64_t i = 0; i < n; ++i)
    expected += (std::max(0.0, 1.0 - dr[i]) + std::max(0.0, 1.0 + df[i])) / n;
  EXPECT_NEAR(r.loss.item(), expected, 1e-5 * std::max(1.0, expected));
  double g_expected = 0;
  Generator gstep(6), greplay(6);
  ctx.generator = &gstep;
  const LossResult gl = gan->generator_loss(n, Tensor(), ctx);
  {
    NoGradGuard no_grad;
    for (float v :
         gan->discriminate(gan->generate(randn({n, o.latent_dim}, device(), &greplay), Tensor()),
                           Tensor())
             .to_vector())
      g_expected -= v / n;
  }
  EXPECT_NEAR(gl.loss.item(), g_expected, 1e-5 * std::max(1.0, std::fabs(g_expected)));
}

TEST_P(SnganDeviceTest, GradientsReachEveryParameter) {
  Generator g(7);
  auto gan = make_gan(gantest::tiny_options("sngan", device()), g);
  gan->to(device());
  gantest::expect_gradients_reach_every_parameter(*gan, device());
}

TEST_P(SnganDeviceTest, ThreeAdamSteps) {
  Generator g(8);
  auto gan = make_gan(gantest::tiny_options("sngan", device()), g);
  gan->to(device());
  gantest::smoke_train(*gan, device());
}

GE_INSTANTIATE_DEVICE_TEST(SnganDeviceTest);

}  // namespace
}  // namespace ge::models
