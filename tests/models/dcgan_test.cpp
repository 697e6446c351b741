// DCGAN: PyTorch example layout, initialisation, shapes, loss composition, gradients, training.
#include "ganengine/models/dcgan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gan_test_util.h"
#include "ganengine/autograd.h"
#include "ganengine/ops.h"

namespace ge::models {
namespace {

using gantest::all_close;
using gantest::softplus_ref;

// The PyTorch DCGAN example (ngf = ndf = 8, nz = 100, nc = 3, 64x64): its state dict shapes.
TEST(DcganTest, StateDictMatchesPyTorchExample) {
  GanOptions o;
  o.channels = 3;
  o.resolution = 64;
  o.width = 8;
  Generator g(1);
  Dcgan gan(o, g);
  const auto gs = gan.generator().state_dict();
  const auto ds = gan.discriminator().state_dict();
  const std::vector<std::pair<std::string, Shape>> g_expected = {
      {"main.0.weight", {100, 64, 4, 4}},
      {"main.1.weight", {64}},
      {"main.1.running_var", {64}},
      {"main.3.weight", {64, 32, 4, 4}},
      {"main.4.bias", {32}},
      {"main.6.weight", {32, 16, 4, 4}},
      {"main.9.weight", {16, 8, 4, 4}},
      {"main.10.num_batches_tracked", {}},
      {"main.12.weight", {8, 3, 4, 4}}};
  for (const auto& [k, shape] : g_expected) {
    ASSERT_TRUE(gs.count(k)) << k;
    EXPECT_EQ(gs.at(k).shape(), shape) << k;
  }
  // 5 transposed convs (no bias) + 4 batch norms x 5 tensors.
  EXPECT_EQ(gs.size(), 25u);
  const std::vector<std::pair<std::string, Shape>> d_expected = {
      {"main.0.weight", {8, 3, 4, 4}},   {"main.2.weight", {16, 8, 4, 4}},
      {"main.3.running_mean", {16}},     {"main.5.weight", {32, 16, 4, 4}},
      {"main.8.weight", {64, 32, 4, 4}}, {"main.9.bias", {64}},
      {"main.11.weight", {1, 64, 4, 4}}};
  for (const auto& [k, shape] : d_expected) {
    ASSERT_TRUE(ds.count(k)) << k;
    EXPECT_EQ(ds.at(k).shape(), shape) << k;
  }
  EXPECT_EQ(ds.size(), 5u + 3u * 5u);
}

// N(0, 0.02) convolutions, N(1, 0.02) batch-norm weights, zero batch-norm biases.
TEST(DcganTest, PaperInitialisation) {
  GanOptions o;
  o.resolution = 32;
  o.width = 16;
  Generator g(2);
  Dcgan gan(o, g);
  const auto stats = [](const Tensor& t) {
    double s = 0, s2 = 0;
    const std::vector<float> v = t.to_vector();
    for (float x : v) {
      s += x;
      s2 += static_cast<double>(x) * x;
    }
    const double m = s / v.size();
    return std::pair{m, std::sqrt(s2 / v.size() - m * m)};
  };
  const auto gs = gan.generator().state_dict();
  const auto [m0, s0] = stats(gs.at("main.0.weight"));  // 100 x 64 x 16 values
  EXPECT_NEAR(m0, 0.0, 1e-3);
  EXPECT_NEAR(s0, 0.02, 1e-3);
  const auto [mb, sb] = stats(gan.discriminator().state_dict().at("main.2.weight"));
  EXPECT_NEAR(mb, 0.0, 2e-3);
  EXPECT_NEAR(sb, 0.02, 2e-3);
  const auto [mw, sw] = stats(gs.at("main.1.weight"));
  EXPECT_NEAR(mw, 1.0, 0.01);
  EXPECT_GT(sw, 0.005);
  EXPECT_LT(sw, 0.04);
  EXPECT_TRUE(all_close(gs.at("main.1.bias"), std::vector<float>(64, 0.f), 0));
}

TEST(DcganTest, TrainDefaultsAreThePapers) {
  Generator g(3);
  const TrainDefaults t = Dcgan(gantest::tiny_options("dcgan", kCPU), g).train_defaults();
  EXPECT_FLOAT_EQ(t.g_lr, 2e-4f);
  EXPECT_FLOAT_EQ(t.d_lr, 2e-4f);
  EXPECT_FLOAT_EQ(t.beta1, 0.5f);
  EXPECT_FLOAT_EQ(t.beta2, 0.999f);
  EXPECT_EQ(t.n_critic, 1);
}

class DcganDeviceTest : public DeviceTest {};

TEST_P(DcganDeviceTest, OutputShapesAndRange) {
  const GanOptions o = gantest::tiny_options("dcgan", device());
  Generator g(4);
  auto gan = make_gan(o, g);
  gan->to(device());
  const int64_t n = gantest::tiny_batch(device());
  const Tensor x = gan->generate(gan->sample_latent(n, g, device()), Tensor());
  EXPECT_EQ(x.shape(), (Shape{n, 1, o.resolution, o.resolution}));
  for (float v : x.to_vector())
    ASSERT_LE(std::fabs(v), 1.f);
  EXPECT_EQ(gan->discriminate(x, Tensor()).shape(), (Shape{n}));
  EXPECT_NE(gantest::error_of([&] { gan->discriminate(x.slice(2, 0, 4), Tensor()); }).find("[N, 1"),
            std::string::npos);
}

// The D loss is softplus(-D(real)) + softplus(D(G(z))) with z the step generator's first draw;
// recomputed here from the networks' outputs with plain loops.
TEST_P(DcganDeviceTest, DiscriminatorLossComposition) {
  const GanOptions o = gantest::tiny_options("dcgan", device());
  Generator g(5);
  auto gan = make_gan(o, g);
  gan->to(device());
  const int64_t n = gantest::tiny_batch(device());
  const Tensor real = gantest::fake_real_batch(o, n, device());
  Generator step(8), replay(8);
  StepContext ctx;
  ctx.generator = &step;
  ctx.real_label = 0.9f;
  const LossResult r = gan->discriminator_loss(real, Tensor(), ctx);
  std::vector<float> dr, df;
  {
    NoGradGuard no_grad;
    dr = gan->discriminate(real, Tensor()).to_vector();
    df = gan->discriminate(gan->generate(randn({n, o.latent_dim}, device(), &replay), Tensor()),
                           Tensor())
             .to_vector();
  }
  double expected = 0, mean_real = 0;
  for (int64_t i = 0; i < n; ++i) {
    expected += (0.9 * softplus_ref(-dr[i]) + 0.1 * softplus_ref(dr[i]) + softplus_ref(df[i])) / n;
    mean_real += dr[i] / n;
  }
  EXPECT_NEAR(r.loss.item(), expected, 1e-5);
  EXPECT_NEAR(r.logs.at("d_real"), mean_real, 1e-5);
  EXPECT_NEAR(r.logs.at("d_loss"), expected, 1e-5);
  EXPECT_EQ(step.offset(), replay.offset());  // nothing else was drawn
  // The fakes are detached: D's loss leaves G without gradients.
  r.loss.backward();
  for (const Tensor& p : gan->generator().parameters())
    EXPECT_FALSE(p.grad().defined());
}

TEST_P(DcganDeviceTest, GradientsReachEveryParameter) {
  Generator g(6);
  auto gan = make_gan(gantest::tiny_options("dcgan", device()), g);
  gan->to(device());
  gantest::expect_gradients_reach_every_parameter(*gan, device());
}

TEST_P(DcganDeviceTest, ThreeAdamSteps) {
  Generator g(7);
  auto gan = make_gan(gantest::tiny_options("dcgan", device()), g);
  gan->to(device());
  gantest::smoke_train(*gan, device());
}

GE_INSTANTIATE_DEVICE_TEST(DcganDeviceTest);

}  // namespace
}  // namespace ge::models
