// WGAN-GP: batch-norm-free critic, Wasserstein + gradient penalty composition, training.
#include "ganengine/models/wgan_gp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gan_test_util.h"
#include "ganengine/autograd.h"
#include "ganengine/ops.h"

namespace ge::models {
namespace {

TEST(WganGpTest, CriticHasNoBatchNorm) {
  GanOptions o = gantest::tiny_options("wgan-gp", kCPU);
  o.resolution = 32;
  Generator g(1);
  WganGp gan(o, g);
  for (const auto& [name, t] : gan.discriminator().named_buffers())
    ADD_FAILURE() << "critic buffer " << name;
  // Conv 1->4 (32->16), 4->8 (->8), 8->16 (->4), 16->1 (->1), each with a bias.
  const auto ds = gan.discriminator().state_dict();
  EXPECT_EQ(ds.size(), 8u);
  EXPECT_EQ(ds.at("main.4.weight").shape(), (Shape{16, 8, 4, 4}));
  EXPECT_EQ(ds.at("main.6.bias").shape(), (Shape{1}));
  // The generator is DCGAN's, batch norm included.
  EXPECT_EQ(gan.generator().state_dict().count("main.1.running_mean"), 1u);
}

TEST(WganGpTest, TrainDefaultsAreGulrajanis) {
  Generator g(2);
  const TrainDefaults t = WganGp(gantest::tiny_options("wgan-gp", kCPU), g).train_defaults();
  EXPECT_FLOAT_EQ(t.g_lr, 1e-4f);
  EXPECT_FLOAT_EQ(t.d_lr, 1e-4f);
  EXPECT_EQ(t.beta1, 0.f);
  EXPECT_FLOAT_EQ(t.beta2, 0.9f);
  EXPECT_EQ(t.n_critic, 5);
}

class WganGpDeviceTest : public DeviceTest {};

// loss = mean D(fake) - mean D(real) + lambda * mean_n (||grad D(x_hat_n)|| - 1)^2 with
// x_hat = real + alpha (fake - real), z then alpha drawn from the step generator.
TEST_P(WganGpDeviceTest, DiscriminatorLossComposition) {
  GanOptions o = gantest::tiny_options("wgan-gp", device());
  o.gp_lambda = 7.f;
  Generator g(3);
  auto gan = make_gan(o, g);
  gan->to(device());
  const int64_t n = gantest::tiny_batch(device());
  const Tensor real = gantest::fake_real_batch(o, n, device());
  Generator step(4), replay(4);
  StepContext ctx;
  ctx.generator = &step;
  const LossResult r = gan->discriminator_loss(real, Tensor(), ctx);

  Tensor fake;
  std::vector<float> dr, df;
  {
    NoGradGuard no_grad;
    fake = gan->generate(randn({n, o.latent_dim}, device(), &replay), Tensor());
    dr = gan->discriminate(real, Tensor()).to_vector();
    df = gan->discriminate(fake, Tensor()).to_vector();
  }
  const std::vector<float> alpha = rand({n}, device(), &replay).to_vector();
  const std::vector<float> rv = real.to_vector(), fv = fake.to_vector();
  const int64_t per = rv.size() / n;
  std::vector<float> hat(rv.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < per; ++k)
      hat[i * per + k] = rv[i * per + k] + alpha[i] * (fv[i * per + k] - rv[i * per + k]);
  Tensor x_hat = from_vector(hat, real.shape(), device());
  x_hat.requires_grad_(true);
  const std::vector<float> gv =
      grad({gan->discriminate(x_hat, Tensor()).sum()}, {x_hat})[0].to_vector();
  double expected = 0, gp = 0;
  for (int64_t i = 0; i < n; ++i) {
    expected += (df[i] - dr[i]) / n;
    double norm2 = 0;
    for (int64_t k = 0; k < per; ++k)
      norm2 += static_cast<double>(gv[i * per + k]) * gv[i * per + k];
    gp += 7.0 * std::pow(std::sqrt(norm2) - 1, 2) / n;
  }
  EXPECT_NEAR(r.logs.at("gp"), gp, 1e-4 * std::max(1.0, gp));
  EXPECT_NEAR(r.loss.item(), expected + gp, 1e-4 * std::max(1.0, gp));
  EXPECT_NEAR(r.logs.at("wasserstein"), -expected, 1e-5);
  EXPECT_EQ(step.offset(), replay.offset());
}

TEST_P(WganGpDeviceTest, GradientsReachEveryParameter) {
  Generator g(5);
  auto gan = make_gan(gantest::tiny_options("wgan-gp", device()), g);
  gan->to(device());
  gantest::expect_gradients_reach_every_parameter(*gan, device());
}

TEST_P(WganGpDeviceTest, ThreeAdamSteps) {
  Generator g(6);
  auto gan = make_gan(gantest::tiny_options("wgan-gp", device()), g);
  gan->to(device());
  gantest::smoke_train(*gan, device());
}

GE_INSTANTIATE_DEVICE_TEST(WganGpDeviceTest);

}  // namespace
}  // namespace ge::models
