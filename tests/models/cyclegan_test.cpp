// CycleGAN: the reference's network shapes and sizes, the losses against a host computation,
// the fake-image pool, option checks, and training through the trainer (bitwise resume in
// mid-schedule with the pools full and the rates decaying, NaN stop) on cpu and emulated cuda.
#include "ganengine/models/cyclegan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "ganengine/autograd.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/ops.h"
#include "models/host_losses.h"
#include "models/tiny_gan.h"
#include "models/train_test_util.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge::testing {
namespace {

namespace fs = std::filesystem;
using models::CycleGan;
using models::GanOptions;
using models::ImagePool;
using models::train::Trainer;
using models::train::TrainOptions;

GanOptions tiny_cyclegan(int64_t channels = 1) {
  GanOptions o;
  o.arch = "cyclegan";
  o.channels = channels;
  o.resolution = 8;
  o.width = 4;
  o.resnet_blocks = 1;
  o.d_layers = 1;
  o.pool_size = 2;
  return o;
}

TEST(CycleGan, NetworksHaveTheReferenceSizes) {
  // pytorch-CycleGAN-and-pix2pix prints 11.378 M parameters for resnet_9blocks (ngf 64, RGB) and
  // 2.765 M for the 70x70 PatchGAN (ndf 64, n_layers 3). Three fewer blocks drop three times
  // two 256x256 3x3 convs with biases.
  Generator g(0);
  models::ResnetGenerator g9(3, 3, 64, 9, g), g6(3, 3, 64, 6, g);
  models::NLayerDiscriminator d(3, 64, 3, g);
  EXPECT_NEAR(static_cast<double>(parameter_count(g9)) / 1e6, 11.378, 5e-4);
  EXPECT_NEAR(static_cast<double>(parameter_count(d)) / 1e6, 2.765, 5e-4);
  EXPECT_EQ(parameter_count(g9) - parameter_count(g6), 3 * 2 * (256 * 256 * 9 + 256));
  EXPECT_EQ(models::NLayerDiscriminator::receptive_field(3), 70);
  EXPECT_EQ(models::NLayerDiscriminator::receptive_field(2), 34);
  EXPECT_EQ(models::NLayerDiscriminator::receptive_field(1), 16);
  // 70/256 of the side: 70 at 256 px, 35 at 128, 17.5 at 64, 8.75 at 32.
  EXPECT_EQ(models::NLayerDiscriminator::layers_for(256), 3);
  EXPECT_EQ(models::NLayerDiscriminator::layers_for(128), 2);
  EXPECT_EQ(models::NLayerDiscriminator::layers_for(64), 1);
  EXPECT_EQ(models::NLayerDiscriminator::layers_for(32), 1);
  EXPECT_EQ(models::NLayerDiscriminator::layers_for(512), 4);
}

TEST(CycleGan, StateDictKeysFollowTheReference) {
  Generator g(0);
  models::ResnetGenerator gen(3, 3, 8, 2, g);
  const auto keys = gen.state_dict();
  for (const char* key : {"model.1.weight", "model.1.bias", "model.4.weight", "model.7.weight",
                          "model.10.conv_block.1.weight", "model.10.conv_block.5.bias",
                          "model.11.conv_block.5.weight", "model.12.weight", "model.15.weight",
                          "model.19.weight", "model.19.bias"})
    EXPECT_EQ(keys.count(key), 1u) << key;
  EXPECT_EQ(keys.size(),
            2u * (1 + 2 + 2 * 2 + 2 + 1));  // convs: c7, 2 down, 2 x 2 blocks, 2 up, c7
  models::NLayerDiscriminator d(3, 8, 3, g);
  const auto dkeys = d.state_dict();
  for (const char* key : {"model.0.weight", "model.2.weight", "model.5.weight", "model.8.weight",
                          "model.11.weight", "model.11.bias"})
    EXPECT_EQ(dkeys.count(key), 1u) << key;
}

class CycleGanDevice : public DeviceTest {};

TEST_P(CycleGanDevice, ShapesOfEveryNetwork) {
  Generator g(1);
  GanOptions o = tiny_cyclegan(3);
  o.resolution = 32;
  for (int64_t layers : {1, 2, 3}) {
    o.d_layers = layers;
    CycleGan model(o, g);
    model.to(GetParam());
    const Tensor x = rand({2, 3, 32, 32}, GetParam()) * 2.f - 1.f;
    EXPECT_EQ(model.translate(x, true).shape(), (Shape{2, 3, 32, 32}));
    EXPECT_EQ(model.translate(x, false).shape(), (Shape{2, 3, 32, 32}));
    // 32 -> 16 -> ... (layers stride-2 convs) -> two 4x4 stride-1 convs with padding 1.
    const int64_t side = (32 >> layers) - 2;
    EXPECT_EQ(model.network("D_A").forward(x).shape(), (Shape{2, 1, side, side})) << layers;
  }
}

// A step's context with two images of each domain in [-1, 1], drawn from its own stream.
struct StepInputs {
  Generator rng{3};
  models::StepContext ctx;
  Tensor a, b;
  explicit StepInputs(Device device) {
    ctx.generator = &rng;
    a = rand({2, 1, 8, 8}, device, &rng) * 2.f - 1.f;
    b = rand({2, 1, 8, 8}, device, &rng) * 2.f - 1.f;
    ctx.batches["A"].x = a;
    ctx.batches["B"].x = b;
  }
  StepInputs(const StepInputs&) = delete;
  StepInputs& operator=(const StepInputs&) = delete;
};

TEST_P(CycleGanDevice, LossesAreTheReferenceObjectives) {
  Generator g(2);
  GanOptions o = tiny_cyclegan();
  o.lambda_cycle = 3.f;
  o.lambda_identity = 0.25f;
  CycleGan model(o, g);
  const Device device = GetParam();
  model.to(device);
  const models::TrainSettings settings;
  auto phases = model.schedule(settings);
  ASSERT_EQ(phases.size(), 2u);
  EXPECT_EQ(phases[0].group, "G");
  EXPECT_TRUE(phases[0].draws_batch);
  EXPECT_EQ(phases[1].group, "D");
  EXPECT_FALSE(phases[1].draws_batch);

  StepInputs in(device);
  models::StepContext& ctx = in.ctx;
  const Tensor a = in.a, b = in.b;
  const float g_loss = phases[0].loss(ctx).loss.item();

  NoGradGuard no_grad;
  const Tensor fake_b = model.translate(a, true), fake_a = model.translate(b, false);
  nn::Module& d_a = model.network("D_A");
  nn::Module& d_b = model.network("D_B");
  const double expected_g =
      host_mse(d_b.forward(fake_b), 1) + host_mse(d_a.forward(fake_a), 1) +
      3.0 *
          (host_l1(model.translate(fake_b, false), a) + host_l1(model.translate(fake_a, true), b)) +
      0.75 * (host_l1(model.translate(b, true), b) + host_l1(model.translate(a, false), a));
  EXPECT_NEAR(g_loss, expected_g, 1e-5 * std::fabs(expected_g));

  // The pools are empty, so the first D phase judges exactly the generator phase's fakes.
  const float d_loss = phases[1].loss(ctx).loss.item();
  const double expected_d = 0.5 * (host_mse(d_b.forward(b), 1) + host_mse(d_b.forward(fake_b), 0)) +
                            0.5 * (host_mse(d_a.forward(a), 1) + host_mse(d_a.forward(fake_a), 0));
  EXPECT_NEAR(d_loss, expected_d, 1e-5 * std::fabs(expected_d));
  EXPECT_EQ(model.pool_a().count(), 2);
  EXPECT_EQ(model.pool_b().count(), 2);
}

// With cycle_noise, the reverse generators see the translations plus noise drawn from the
// trainer's stream (fake_b's first, then fake_a's); the adversarial terms see the clean ones.
TEST_P(CycleGanDevice, CycleNoiseEntersOnlyTheCycleTerms) {
  Generator g(2);
  GanOptions o = tiny_cyclegan();
  o.lambda_cycle = 3.f;
  o.lambda_identity = 0.f;
  o.cycle_noise = 0.5f;
  CycleGan model(o, g);
  const Device device = GetParam();
  model.to(device);
  auto phases = model.schedule(models::TrainSettings{});

  StepInputs in(device);
  models::StepContext& ctx = in.ctx;
  Generator& rng = in.rng;
  const Tensor a = in.a, b = in.b;
  Generator replay = rng;
  const float g_loss = phases[0].loss(ctx).loss.item();
  EXPECT_GT(rng.offset(), replay.offset());

  NoGradGuard no_grad;
  const Tensor fake_b = model.translate(a, true), fake_a = model.translate(b, false);
  const Tensor noise_b = randn_like(fake_b, &replay) * 0.5f;
  const Tensor noise_a = randn_like(fake_a, &replay) * 0.5f;
  EXPECT_EQ(replay.offset(), rng.offset());
  nn::Module& d_a = model.network("D_A");
  nn::Module& d_b = model.network("D_B");
  const double adversarial = host_mse(d_b.forward(fake_b), 1) + host_mse(d_a.forward(fake_a), 1);
  const double expected_g =
      adversarial + 3.0 * (host_l1(model.translate(fake_b + noise_b, false), a) +
                           host_l1(model.translate(fake_a + noise_a, true), b));
  EXPECT_NEAR(g_loss, expected_g, 1e-5 * std::fabs(expected_g));
  // The noise matters at this size: the clean cycle gives another loss.
  const double clean_g = adversarial + 3.0 * (host_l1(model.translate(fake_b, false), a) +
                                              host_l1(model.translate(fake_a, true), b));
  EXPECT_GT(std::fabs(clean_g - expected_g), 1e-3 * std::fabs(expected_g));
}

GE_INSTANTIATE_DEVICE_TEST(CycleGanDevice);

Tensor numbered(int64_t first, int64_t n) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < 4; ++k)
      v.push_back(static_cast<float>(first + i));
  return from_vector(v, {n, 1, 2, 2});
}

TEST(ImagePool, FillsThenSwapsHalfTheTimeAsTheReference) {
  ImagePool pool(4);
  Generator g(9);
  // While filling, images come back unchanged and are stored.
  EXPECT_EQ(pool.query(numbered(0, 3), g).to_vector(), numbered(0, 3).to_vector());
  EXPECT_EQ(pool.query(numbered(3, 1), g).to_vector(), numbered(3, 1).to_vector());
  EXPECT_EQ(pool.count(), 4);
  // Full: each image is returned or swapped for a stored one, which it replaces.
  std::multiset<float> stored = {0, 1, 2, 3};
  int swapped = 0;
  for (int64_t round = 0; round < 50; ++round) {
    const auto out = pool.query(numbered(100 + round, 1), g).to_vector();
    const float v = out[0];
    if (v == static_cast<float>(100 + round)) continue;
    ASSERT_EQ(stored.count(v), 1u) << v;
    stored.erase(stored.find(v));
    stored.insert(static_cast<float>(100 + round));
    ++swapped;
  }
  EXPECT_GT(swapped, 12);  // about half of 50
  EXPECT_LT(swapped, 38);
  // The saved images are the ones the pool now holds.
  const auto state = pool.state("p.");
  std::multiset<float> held;
  const auto images = state.at("p.images").to_vector();
  for (size_t i = 0; i < images.size(); i += 4)
    held.insert(images[i]);
  EXPECT_EQ(held, stored);
  EXPECT_EQ(state.at("p.count").item(), 4.f);
  // Size 0: no pool.
  ImagePool none(0);
  EXPECT_EQ(none.query(numbered(5, 2), g).to_vector(), numbered(5, 2).to_vector());
  EXPECT_TRUE(none.state("p.").empty());
}

TEST(ImagePool, StateRoundTripsAndABadOneIsRefused) {
  ImagePool pool(3);
  Generator g(4);
  pool.query(numbered(0, 2), g);
  ImagePool copy(3);
  copy.load_state(pool.state("p."), "p.", {1, 2, 2}, "ckpt");
  EXPECT_EQ(copy.count(), 2);
  Generator g1(5), g2(5);
  EXPECT_EQ(pool.query(numbered(7, 3), g1).to_vector(), copy.query(numbered(7, 3), g2).to_vector());

  ImagePool target(3);
  auto bad = pool.state("p.");
  bad["p.count"] = from_vector({9.f}, {1});
  EXPECT_NE(error_of([&] {
              target.load_state(bad, "p.", {1, 2, 2}, "ckpt");
            }).find("ckpt: tensor 'state.p.count' is 9, expected an integer in [0, 3]"),
            std::string::npos);
  bad = pool.state("p.");
  EXPECT_NE(error_of([&] {
              target.load_state(bad, "p.", {1, 4, 4}, "ckpt");
            }).find("has shape [3, 1, 2, 2], the pool holds [3, 1, 4, 4]"),
            std::string::npos);
  bad.erase("p.images");
  EXPECT_NE(error_of([&] {
              target.load_state(bad, "p.", {1, 2, 2}, "ckpt");
            }).find("missing tensor 'state.p.images'"),
            std::string::npos);
  EXPECT_EQ(target.count(), 0);
}

TEST(CycleGan, OptionsAreChecked) {
  Generator g(0);
  GanOptions o = tiny_cyclegan();
  o.d_layers = 7;
  EXPECT_NE(error_of([&] { models::make_model(o, g); }).find("expected d_layers in [1, 6]"),
            std::string::npos);
  o = tiny_cyclegan();
  o.d_layers = 4;
  EXPECT_NE(error_of([&] { models::make_model(o, g); }).find("resolution 8 is too small"),
            std::string::npos);
  o = tiny_cyclegan();
  o.pool_size = -1;
  EXPECT_NE(error_of([&] { models::make_model(o, g); }).find("expected pool_size >= 0, got -1"),
            std::string::npos);
  o = tiny_cyclegan();
  o.cycle_noise = -0.1f;
  EXPECT_NE(error_of([&] {
              models::make_model(o, g);
            }).find("expected cycle_noise >= 0 (a standard deviation), got -0.1"),
            std::string::npos);
  o = tiny_cyclegan();
  EXPECT_NE(error_of([&] { models::make_gan(o, g); }).find("is not a latent GAN"),
            std::string::npos);
}

TrainOptions cyclegan_options(const std::string& dir, int64_t steps, Device device) {
  TrainOptions o = quiet_run(dir, steps, 2, 11, device);
  o.lr_decay_steps = 5;  // decaying from the second step on
  return o;
}

struct CycleGanRun {
  std::shared_ptr<NanImageSet> a = std::make_shared<NanImageSet>(10),
                               b = std::make_shared<NanImageSet>(14);
  std::unique_ptr<CycleGan> model;
  explicit CycleGanRun(const GanOptions& options = tiny_cyclegan()) {
    Generator g(21);
    model = std::make_unique<CycleGan>(options, g);
  }
  // Runs the trainer; with stop_at > 0, an evaluator throws at that step (a killed run).
  void train(const TrainOptions& o, int64_t stop_at = 0) {
    models::data::DataLoader la(a, o.batch, o.seed, o.device), lb(b, o.batch, o.seed + 1, o.device);
    Trainer trainer(*model, {{"A", &la}, {"B", &lb}}, o);
    if (stop_at > 0)
      trainer.set_evaluator(
          [stop_at](models::Model&) -> std::string { fail("killed at step ", stop_at); });
    trainer.run();
  }
};

class CycleGanTraining : public DeviceTest {};

TEST_P(CycleGanTraining, ResumeInMidScheduleIsBitwiseIdentical) {
  const Device device = GetParam();
  const std::string straight = fresh_dir("straight"), split = fresh_dir("split");
  GanOptions options = tiny_cyclegan();
  options.cycle_noise = 0.1f;  // the noise draws continue across the resume too
  CycleGanRun a(options);
  a.train(cyclegan_options(straight, 6, device));
  EXPECT_EQ(a.model->pool_a().count(), 2);

  CycleGanRun b(options);
  TrainOptions o = cyclegan_options(split, 6, device);
  o.checkpoint_every = 3;
  o.eval_every = 4;
  EXPECT_NE(error_of([&] { b.train(o, 4); }).find("killed at step 4"), std::string::npos);
  const auto record = models::train::read_checkpoint(split);
  ASSERT_EQ(record.step, 3);
  // Saved in mid-schedule: the pools full, the rates already decaying.
  const auto saved = models::train::read_checkpoint_tensors(split);
  EXPECT_EQ(saved.at("state.pool_A.count").item(), 2.f);
  EXPECT_EQ(saved.at("state.pool_B.count").item(), 2.f);
  EXPECT_LT(record.optimizers.at("G").schedule->factor(record.step), 1.f);

  CycleGanRun c(options);
  o.resume = true;
  o.eval_every = 0;
  c.train(o);
  EXPECT_TRUE(bitwise_equal(models::train::read_checkpoint_tensors(straight),
                            models::train::read_checkpoint_tensors(split)));
  EXPECT_EQ(models::train::read_checkpoint(split).rng_offset,
            models::train::read_checkpoint(straight).rng_offset);
}

TEST_P(CycleGanTraining, NanStopsAndKeepsTheLastCheckpoint) {
  const Device device = GetParam();
  const std::string dir = fresh_dir("nan");
  CycleGanRun good;
  TrainOptions o = cyclegan_options(dir, 6, device);
  o.checkpoint_every = 2;
  o.eval_every = 3;
  EXPECT_NE(error_of([&] { good.train(o, 3); }).find("killed"), std::string::npos);
  const auto before = models::train::read_checkpoint_tensors(dir);

  CycleGanRun bad;
  bad.b = std::make_shared<NanImageSet>(14, 0);  // every B image holds a NaN
  o.resume = true;
  o.eval_every = 0;
  const std::string m = error_of([&] { bad.train(o); });
  EXPECT_NE(m.find("step 3: generators loss is nan"), std::string::npos) << m;
  EXPECT_EQ(models::train::read_checkpoint(dir).step, 2);
  EXPECT_TRUE(bitwise_equal(models::train::read_checkpoint_tensors(dir), before));
}

GE_INSTANTIATE_DEVICE_TEST(CycleGanTraining);

}  // namespace
}  // namespace ge::testing
