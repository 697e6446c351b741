// The original WGAN (wgan, wgan-mlp): RMSprop groups with the critic clipped, the objective
// without a penalty, training through the trainer against a loop written here with the engine's
// optim::RMSprop and clip_weights, bitwise resume of the RMSprop state, and the option checks.
#include "ganengine/models/wgan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/models/mlp_gan.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/optim.h"
#include "ganengine/safetensors.h"
#include "models/gan_test_util.h"
#include "models/tiny_gan.h"
#include "models/train_test_util.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge::testing {
namespace {

using models::AdversarialGan;
using models::GanOptions;
using models::Objective;
using models::OptimizerGroup;
using models::train::Trainer;
using models::train::TrainOptions;
namespace gantest = models::gantest;

std::unique_ptr<AdversarialGan> build(const GanOptions& o, uint64_t seed = 2) {
  Generator g(seed);
  auto gan = models::make_gan(o, g);
  return std::unique_ptr<AdversarialGan>(dynamic_cast<AdversarialGan*>(gan.release()));
}

// Every critic weight in [-c, c], and some at the bound (the clip acted).
void expect_clipped(nn::Module& critic, float c, bool some_at_bound) {
  int64_t at_bound = 0;
  for (const Tensor& p : critic.parameters()) {
    for (float v : p.to_vector()) {
      ASSERT_LE(std::fabs(v), c);
      if (std::fabs(v) == c) ++at_bound;
    }
  }
  if (some_at_bound) {
    EXPECT_GT(at_bound, 0);
  }
}

TEST(Wgan, RmspropGroupsAndTheClippedCritic) {
  for (const char* arch : {"wgan", "wgan-mlp"}) {
    SCOPED_TRACE(arch);
    GanOptions o = gantest::tiny_options(arch, kCPU);
    o.weight_clip = 0.02f;
    auto gan = build(o);
    EXPECT_EQ(gan->objective(), Objective::WassersteinClip);
    const models::TrainDefaults d = gan->train_defaults();
    EXPECT_EQ(d.g_lr, 5e-5f);
    EXPECT_EQ(d.d_lr, 5e-5f);
    EXPECT_EQ(d.n_critic, 5);
    models::TrainSettings s;
    s.g_lr = 1e-4f;
    s.d_lr = 3e-4f;
    const std::vector<OptimizerGroup> groups = gan->optimizer_groups(s);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0].name, "G");
    EXPECT_EQ(groups[0].kind, OptimizerGroup::Kind::RMSprop);
    EXPECT_EQ(groups[0].lr(), 1e-4f);
    EXPECT_EQ(groups[0].clip_weights, 0.f);
    EXPECT_EQ(groups[1].name, "D");
    EXPECT_EQ(groups[1].kind, OptimizerGroup::Kind::RMSprop);
    EXPECT_EQ(groups[1].lr(), 3e-4f);
    EXPECT_EQ(groups[1].clip_weights, 0.02f);
    EXPECT_EQ(groups[1].rmsprop.alpha, 0.99f);          // torch.optim.RMSprop's
    expect_clipped(gan->discriminator(), 0.02f, true);  // from the start
  }
  // wgan-gp keeps Adam and no clip.
  auto gp = build(gantest::tiny_options("wgan-gp", kCPU));
  const auto groups = gp->optimizer_groups({});
  EXPECT_EQ(groups[1].kind, OptimizerGroup::Kind::Adam);
  EXPECT_EQ(groups[1].clip_weights, 0.f);
}

TEST(Wgan, CriticLossIsTheWassersteinEstimateWithoutAPenalty) {
  GanOptions o = gantest::tiny_options("wgan-mlp", kCPU);
  auto gan = build(o);
  const Tensor real = gantest::fake_real_batch(o, 16, kCPU);
  Generator rng(3);
  models::StepContext ctx;
  ctx.generator = &rng;
  const models::LossResult r = gan->discriminator_loss(real, Tensor(), ctx);
  EXPECT_EQ(r.logs.count("gp"), 0u);
  // Redraw the same fakes: D's loss is mean D(fake) - mean D(real).
  Generator again(3);
  NoGradGuard no_grad;
  const Tensor z = gan->sample_latent(16, again, kCPU);
  const Tensor fake = gan->generate(z, Tensor());
  const double d_real = gan->discriminate(real, Tensor()).mean().item();
  const double d_fake = gan->discriminate(fake, Tensor()).mean().item();
  EXPECT_NEAR(r.loss.item(), d_fake - d_real, 1e-6);
  EXPECT_NEAR(r.logs.at("wasserstein"), d_real - d_fake, 1e-6);
}

// The trainer's updates equal a loop written here: n_critic critic steps (RMSprop, then the
// clip), then one generator step (RMSprop), on the loader's batches.
TEST(Wgan, TrainingMatchesAHandWrittenLoop) {
  GanOptions o = gantest::tiny_options("wgan-mlp", kCPU);
  o.weight_clip = 0.05f;
  const int64_t batch = 16, steps = 3;
  auto data = std::make_shared<TinyDataset>(64, false);
  auto trained = build(o, 9);
  {
    models::data::DataLoader loader(data, batch, 7);
    TrainOptions t = quiet_run(fresh_dir("run"), steps, batch, 7);
    t.g_lr = 1e-2f;  // large enough that the clip binds
    t.d_lr = 2e-2f;
    Trainer trainer(*trained, loader, t);
    trainer.run();
  }
  auto ref = build(o, 9);
  models::data::DataLoader loader(data, batch, 7);
  optim::RmspropOptions g_opt, d_opt;
  g_opt.lr = 1e-2f;
  d_opt.lr = 2e-2f;
  optim::RMSprop opt_g(ref->generator().parameters(), g_opt);
  optim::RMSprop opt_d(ref->discriminator().parameters(), d_opt);
  Generator rng(7);
  for (int64_t step = 0; step < steps; ++step) {
    models::StepContext ctx;
    ctx.step = step;
    ctx.generator = &rng;
    for (int64_t i = 0; i < 5; ++i) {
      ref->discriminator().zero_grad();
      ref->discriminator_loss(loader.next().x, Tensor(), ctx).loss.backward();
      opt_d.step();
      optim::clip_weights(ref->discriminator().parameters(), 0.05f);
    }
    ref->generator().zero_grad();
    ref->generator_loss(batch, Tensor(), ctx).loss.backward();
    opt_g.step();
  }
  for (auto* pair : {&trained->generator(), &trained->discriminator()}) {
    nn::Module& other = pair == &trained->generator() ? ref->generator() : ref->discriminator();
    const auto a = pair->state_dict(), b = other.state_dict();
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [key, t] : a)
      EXPECT_TRUE(all_close(t, b.at(key), 1e-6, 1e-5)) << key;
  }
  expect_clipped(trained->discriminator(), 0.05f, true);
}

class WganResume : public DeviceTest {};

// 2 steps, resume, 2 more == 4 straight, bit for bit: the RMSprop square averages are saved
// under opt.<group>.square_avg.<i> and restored.
TEST_P(WganResume, IsBitwiseIdenticalToAStraightRun) {
  GanOptions o = gantest::tiny_options("wgan", device());
  o.resolution = 8;  // TinyDataset's images
  const int64_t batch = gantest::tiny_batch(device());
  auto data = std::make_shared<TinyDataset>(24, true);
  const auto run = [&](const std::string& dir, int64_t steps, bool resume) {
    auto gan = build(o, 4);
    gan->to(device());
    run_quiet(*gan, data, dir, steps, batch, device(), resume,
              [](TrainOptions& t) { t.checkpoint_every = 2; });
    return gan;
  };
  const std::string straight = fresh_dir("straight"), split = fresh_dir("split");
  const auto a = run(straight, 4, false);
  run(split, 2, false);
  const auto b = run(split, 4, true);
  const auto saved =
      load_safetensors((std::filesystem::path(split) / "checkpoint.safetensors").string());
  EXPECT_EQ(saved.count("opt.D.square_avg.0"), 1u);
  EXPECT_EQ(saved.count("opt.G.square_avg.0"), 1u);
  EXPECT_EQ(saved.count("opt.D.exp_avg.0"), 0u);
  for (auto* net : {&a->generator(), &a->discriminator()}) {
    nn::Module& other = net == &a->generator() ? b->generator() : b->discriminator();
    const auto x = net->state_dict(), y = other.state_dict();
    for (const auto& [key, t] : x)
      EXPECT_EQ(t.to_vector(), y.at(key).to_vector()) << key;
  }
}

GE_INSTANTIATE_DEVICE_TEST(WganResume);

TEST(Wgan, WeightClipIsChecked) {
  for (const char* arch : {"wgan", "wgan-mlp"}) {
    GanOptions o = gantest::tiny_options(arch, kCPU);
    o.weight_clip = 0.f;
    Generator g(0);
    EXPECT_NE(error_of([&] {
                models::make_model(o, g);
              }).find("expected weight_clip > 0 (the critic's weights stay in [-c, c]), got 0"),
              std::string::npos)
        << arch;
  }
}

}  // namespace
}  // namespace ge::testing
