// Instance noise: the linear annealing of its std, the noise the adversarial losses add to D's
// inputs (against the losses recomputed here from the same stream), the trainer's checks, its
// effect on training, and bitwise resume with it on.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/models/adversarial_gan.h"
#include "ganengine/models/losses.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/ops.h"
#include "models/gan_test_util.h"
#include "models/tiny_gan.h"
#include "models/train_test_util.h"
#include "support/devices.h"

namespace ge::testing {
namespace {

using models::GanOptions;
using models::LossResult;
using models::StepContext;
using models::train::instance_noise_std;
using models::train::Trainer;
using models::train::TrainOptions;
namespace gantest = models::gantest;

TEST(InstanceNoise, StdAnnealsLinearlyToZero) {
  EXPECT_FLOAT_EQ(instance_noise_std(0.4f, 100, 0), 0.4f);
  EXPECT_FLOAT_EQ(instance_noise_std(0.4f, 100, 25), 0.3f);
  EXPECT_FLOAT_EQ(instance_noise_std(0.4f, 100, 50), 0.2f);
  EXPECT_NEAR(instance_noise_std(0.4f, 100, 99), 0.004f, 1e-8f);
  EXPECT_EQ(instance_noise_std(0.4f, 100, 100), 0.f);
  EXPECT_EQ(instance_noise_std(0.4f, 100, 5000), 0.f);
  EXPECT_EQ(instance_noise_std(0.f, 100, 0), 0.f);
  EXPECT_EQ(instance_noise_std(0.4f, 0, 0), 0.f);
}

class InstanceNoiseLoss : public DeviceTest {};

// D's loss with noise std s is the loss of D on real + s n1 and fake + s n2, n1 and n2 drawn
// after the latents from the step's stream; G's loss sees fake + s n3.
TEST_P(InstanceNoiseLoss, AddsGaussianNoiseToWhatDSees) {
  const float s = 0.5f;
  GanOptions o = gantest::tiny_options("gan-mlp", device());
  Generator init(3);
  auto gan = models::make_gan(o, init);
  gan->to(device());
  const int64_t n = 16;
  const Tensor real = gantest::fake_real_batch(o, n, device());

  Generator stream(11);
  StepContext ctx;
  ctx.generator = &stream;
  ctx.instance_noise = s;
  const float d_loss = gan->discriminator_loss(real, Tensor(), ctx).loss.item();
  const float g_loss = gan->generator_loss(n, Tensor(), ctx).loss.item();

  Generator same(11);
  const Tensor z = gan->sample_latent(n, same, device());
  const Tensor fake = gan->generate(z, Tensor());
  const Tensor n1 = randn(real.shape(), device(), &same);
  const Tensor n2 = randn(fake.shape(), device(), &same);
  const float d_expected = models::nonsaturating_d_loss(gan->discriminate(real + n1 * s, Tensor()),
                                                        gan->discriminate(fake + n2 * s, Tensor()))
                               .item();
  const Tensor z_g = gan->sample_latent(n, same, device());
  const Tensor fake_g = gan->generate(z_g, Tensor());
  const Tensor n3 = randn(fake_g.shape(), device(), &same);
  const float g_expected =
      models::nonsaturating_g_loss(gan->discriminate(fake_g + n3 * s, Tensor())).item();
  EXPECT_NEAR(d_loss, d_expected, 1e-5f);
  EXPECT_NEAR(g_loss, g_expected, 1e-5f);

  // Without noise the same stream gives the plain losses, which differ.
  Generator plain(11);
  ctx.generator = &plain;
  ctx.instance_noise = 0.f;
  const float d_plain = gan->discriminator_loss(real, Tensor(), ctx).loss.item();
  Generator again(11);
  const Tensor z0 = gan->sample_latent(n, again, device());
  EXPECT_NEAR(d_plain,
              models::nonsaturating_d_loss(gan->discriminate(real, Tensor()),
                                           gan->discriminate(gan->generate(z0, Tensor()), Tensor()))
                  .item(),
              1e-5f);
  EXPECT_GT(std::abs(d_plain - d_loss), 1e-3f);
}

GE_INSTANTIATE_DEVICE_TEST(InstanceNoiseLoss);

TEST(InstanceNoise, TrainerRefusesModelsWithoutIt) {
  auto data = std::make_shared<TinyDataset>(8, false);
  models::data::DataLoader loader(data, 4, 1);
  TinyGan tiny(TinyGanConfig{});
  TrainOptions t = quiet_run(fresh_dir("tiny"), 1, 4, 1);
  t.instance_noise = 0.1f;
  const std::string message = error_of([&] { Trainer trainer(tiny, loader, t); });
  EXPECT_NE(message.find("model 'tiny' takes no instance noise"), std::string::npos) << message;
  EXPECT_NE(message.find("got 0.1"), std::string::npos) << message;

  GanOptions o = gantest::tiny_options("gan-mlp", kCPU);
  Generator g(1);
  auto gan = models::make_gan(o, g);
  t.instance_noise = -1.f;
  EXPECT_NE(error_of([&] {
              Trainer trainer(*gan, loader, t);
            }).find("expected instance_noise >= 0 and instance_noise_steps >= 0"),
            std::string::npos);
}

class InstanceNoiseResume : public DeviceTest {};

// 2 steps, resume, 2 more == 4 straight, bit for bit, with the noise annealing over 3 steps (so
// both halves draw it); and the noise changes training.
TEST_P(InstanceNoiseResume, IsBitwiseIdenticalToAStraightRun) {
  GanOptions o = gantest::tiny_options("dcgan", device());
  o.resolution = 8;  // TinyDataset's images
  const int64_t batch = gantest::tiny_batch(device());
  auto data = std::make_shared<TinyDataset>(24, true);
  const auto run = [&](const std::string& dir, int64_t steps, bool resume, float noise) {
    Generator g(4);
    auto gan = models::make_gan(o, g);
    gan->to(device());
    run_quiet(*gan, data, dir, steps, batch, device(), resume, [&](TrainOptions& t) {
      t.checkpoint_every = 2;
      t.instance_noise = noise;
      t.instance_noise_steps = 3;
    });
    return gan->generator().state_dict();
  };
  const std::string straight = fresh_dir("straight"), split = fresh_dir("split");
  const auto a = run(straight, 4, false, 0.3f);
  run(split, 2, false, 0.3f);
  const auto b = run(split, 4, true, 0.3f);
  const auto quiet = run(fresh_dir("none"), 4, false, 0.f);
  bool differs = false;
  for (const auto& [key, t] : a) {
    EXPECT_EQ(t.to_vector(), b.at(key).to_vector()) << key;
    differs = differs || t.to_vector() != quiet.at(key).to_vector();
  }
  EXPECT_TRUE(differs) << "instance noise left training unchanged";
  const auto record = models::train::read_checkpoint(split);
  EXPECT_EQ(record.train_options.instance_noise, 0.3f);
  EXPECT_EQ(record.train_options.instance_noise_steps, 3);
}

GE_INSTANTIATE_DEVICE_TEST(InstanceNoiseResume);

}  // namespace
}  // namespace ge::testing
