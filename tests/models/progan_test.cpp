// Progressive GAN: the growth schedule, the networks' shapes at every stage and during a fade,
// the fade's ends (alpha 0: the previous stage upsampled or pooled; alpha 1: the new block, here
// recomputed with plain upsampling and convolutions), the loss against its terms, which
// parameters train at each stage, the saved progress, and bitwise resume in the middle of a fade.
#include "ganengine/models/progan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/gradient_penalty.h"
#include "ganengine/models/losses.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/nn/stylegan.h"
#include "ganengine/ops.h"
#include "ganengine/pixel_norm.h"
#include "ganengine/safetensors.h"
#include "ganengine/upsample.h"
#include "models/gan_test_util.h"
#include "models/tiny_gan.h"
#include "models/train_test_util.h"
#include "support/devices.h"

namespace ge::testing {
namespace {

using models::GanOptions;
using models::Progan;
using models::progan_progress;
using models::ProganProgress;
using models::train::TrainOptions;
namespace gantest = models::gantest;

GanOptions tiny(Device device, int64_t resolution = 16) {
  GanOptions o = gantest::tiny_options("progan", device);
  o.resolution = resolution;
  o.width = 8;
  return o;
}

std::unique_ptr<Progan> build(const GanOptions& o, Device device, uint64_t seed = 3) {
  Generator g(seed);
  auto model = models::make_model(o, g);
  auto progan = std::unique_ptr<Progan>(dynamic_cast<Progan*>(model.release()));
  progan->to(device);
  return progan;
}

void expect_close(const Tensor& a, const Tensor& b, float tol, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  const std::vector<float> x = a.to_vector(), y = b.to_vector();
  float worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::fabs(x[i] - y[i]));
  EXPECT_LE(worst, tol) << what;
}

TEST(ProganSchedule, StagesFadeInLinearlyThenHold) {
  // 4 stages, fades of 10 images, 20 stable images per stage.
  const auto at = [](int64_t images) { return progan_progress(images, 4, 10, 20); };
  EXPECT_EQ(at(0), (ProganProgress{0, 1.f}));
  EXPECT_EQ(at(19), (ProganProgress{0, 1.f}));
  EXPECT_EQ(at(20), (ProganProgress{1, 0.f}));
  EXPECT_EQ(at(25), (ProganProgress{1, 0.5f}));
  EXPECT_EQ(at(29), (ProganProgress{1, 0.9f}));
  EXPECT_EQ(at(30), (ProganProgress{1, 1.f}));
  EXPECT_EQ(at(49), (ProganProgress{1, 1.f}));
  EXPECT_EQ(at(50), (ProganProgress{2, 0.f}));
  EXPECT_EQ(at(83), (ProganProgress{3, 0.3f}));
  EXPECT_EQ(at(90), (ProganProgress{3, 1.f}));
  EXPECT_EQ(at(1000000), (ProganProgress{3, 1.f}));
  EXPECT_EQ(progan_progress(20, 4, 0, 20), (ProganProgress{1, 1.f}));  // no fade
  EXPECT_EQ(progan_progress(5, 1, 10, 0), (ProganProgress{0, 1.f}));   // one stage
  EXPECT_EQ(progan_progress(0, 4, 0, 0), (ProganProgress{3, 1.f}));    // no growing
  EXPECT_NE(error_of([] { progan_progress(-1, 4, 10, 20); }).find("expected images >= 0"),
            std::string::npos);
}

TEST(ProganTest, LayoutDefaultsAndChecks) {
  GanOptions o = tiny(kCPU, 32);
  const auto p = build(o, kCPU);
  EXPECT_EQ(p->g->stages(), 4);
  EXPECT_EQ(p->d->stages(), 4);
  const auto gs = p->generator().state_dict();
  // width 8: 8 channels up to 16x16, 4 at 32x32.
  EXPECT_EQ(gs.at("b4.dense.weight").shape(), (Shape{8 * 16, o.latent_dim}));
  EXPECT_EQ(gs.at("b4.conv.weight").shape(), (Shape{8, 8, 3, 3}));
  EXPECT_EQ(gs.at("b32.conv0.weight").shape(), (Shape{4, 8, 3, 3}));
  EXPECT_EQ(gs.at("torgb32.weight").shape(), (Shape{1, 4, 1, 1}));
  EXPECT_EQ(gs.at("torgb4.weight").shape(), (Shape{1, 8, 1, 1}));
  const auto ds = p->discriminator().state_dict();
  EXPECT_EQ(ds.at("fromrgb32.weight").shape(), (Shape{4, 1, 1, 1}));
  EXPECT_EQ(ds.at("b32.conv1.weight").shape(), (Shape{8, 4, 3, 3}));
  EXPECT_EQ(ds.at("b4.conv.weight").shape(), (Shape{8, 9, 3, 3}));  // + the stddev channel
  EXPECT_EQ(ds.at("b4.dense.weight").shape(), (Shape{8, 8 * 16}));
  EXPECT_EQ(ds.count("b4.conv0.weight"), 0u);
  const models::TrainDefaults t = p->train_defaults();
  EXPECT_EQ(t.g_lr, 1e-3f);
  EXPECT_EQ(t.beta1, 0.f);
  EXPECT_EQ(t.beta2, 0.99f);
  EXPECT_EQ(t.n_critic, 1);
  EXPECT_EQ(p->progress(), (ProganProgress{0, 1.f}));

  o.fade_images = -1;
  Generator g(1);
  EXPECT_NE(error_of([&] {
              models::make_model(o, g);
            }).find("expected fade_images and stable_images >= 0, got -1"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              p->set_progress({4, 1.f});
            }).find("expected a stage in [0, 4), got 4"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              p->set_progress({0, 0.5f});
            }).find("stage 0 has no previous stage"),
            std::string::npos);
}

class ProganDeviceTest : public DeviceTest {};

TEST_P(ProganDeviceTest, ShapesAtEveryStageAndDuringAFade) {
  const GanOptions o = tiny(device());
  auto p = build(o, device());
  Generator g(5);
  const int64_t n = 4;
  const Tensor z = p->sample_latent(n, g, device());
  for (int64_t stage = 0; stage < 3; ++stage)
    for (float alpha : {0.f, 0.5f, 1.f}) {
      if (stage == 0 && alpha < 1.f) continue;
      SCOPED_TRACE(::testing::Message() << "stage " << stage << " alpha " << alpha);
      const int64_t side = int64_t{4} << stage;
      const ProganProgress at{stage, alpha};
      const Tensor x = p->g->forward(z, at);
      EXPECT_EQ(x.shape(), (Shape{n, 1, side, side}));
      EXPECT_EQ(p->d->forward(x, at).shape(), (Shape{n}));
      p->set_progress(at);
      EXPECT_EQ(p->stage_resolution(), side);
      const Tensor full = p->generate(z, Tensor());
      EXPECT_EQ(full.shape(), (Shape{n, 1, 16, 16}));
      for (float v : full.to_vector())
        ASSERT_TRUE(v >= -1.f && v <= 1.f);
      EXPECT_EQ(p->discriminate(full, Tensor()).shape(), (Shape{n}));
    }
  EXPECT_NE(error_of([&] {
              p->d->forward(zeros({n, 1, 8, 8}, device()), {2, 1.f});
            }).find("[N, 1, 16, 16]"),
            std::string::npos);
}

// G's fade: alpha 0 is the previous stage's image upsampled (nearest), alpha 1 the new block's
// toRGB, recomputed here with nearest upsampling and plain convolutions, alpha 1/2 the mean.
TEST_P(ProganDeviceTest, GeneratorFadeEnds) {
  const GanOptions o = tiny(device());
  auto p = build(o, device());
  Generator g(6);
  const Tensor z = p->sample_latent(4, g, device());
  for (int64_t stage = 1; stage < 3; ++stage) {
    SCOPED_TRACE(::testing::Message() << "stage " << stage);
    const Tensor before = upsample_nearest2d(p->g->forward(z, {stage - 1, 1.f}), 2);
    expect_close(p->g->forward(z, {stage, 0.f}), before, 1e-6f, "alpha 0");

    // The stage's block by hand: upsample, conv0, pixel norm, conv1, pixel norm, toRGB.
    Tensor h = pixel_norm(z);
    h = p->g->blocks[0]->forward(h);
    for (int64_t s = 1; s <= stage; ++s) {
      const auto& b = p->g->blocks[static_cast<size_t>(s)];
      h = pixel_norm(b->conv1->forward(pixel_norm(b->conv0->forward(upsample_nearest2d(h, 2)))));
    }
    const Tensor after = p->g->torgb[static_cast<size_t>(stage)]->forward(h);
    expect_close(p->g->forward(z, {stage, 1.f}), after, 1e-4f, "alpha 1");
    expect_close(p->g->forward(z, {stage, 0.5f}), (before + after) * 0.5f, 1e-4f, "alpha 1/2");
  }
}

// D's fade: alpha 0 judges the 2x-pooled images with the previous stage's network; alpha 1 runs
// the stage's fromRGB and block. The model's real images fade the same way.
TEST_P(ProganDeviceTest, DiscriminatorAndRealImagesFadeEnds) {
  const GanOptions o = tiny(device());
  auto p = build(o, device());
  const Tensor x = gantest::fake_real_batch(o, 4, device());  // 16x16
  const Tensor x8 = nn::avg_pool2x2(x), x4 = nn::avg_pool2x2(x8);
  expect_close(p->d->forward(x, {2, 0.f}), p->d->forward(x8, {1, 1.f}), 1e-5f, "stage 2 alpha 0");
  expect_close(p->d->forward(x8, {1, 0.f}), p->d->forward(x4, {0, 1.f}), 1e-5f, "stage 1 alpha 0");
  const auto& d = *p->d;
  const Tensor full =
      d.epilogue->forward(d.blocks[1]->forward(d.blocks[2]->forward(d.fromrgb[2]->forward(x))));
  expect_close(p->d->forward(x, {2, 1.f}), full, 1e-5f, "stage 2 alpha 1");

  p->set_progress({1, 0.25f});
  const Tensor mixed = upsample_nearest2d(x4, 2) * 0.75f + x8 * 0.25f;
  expect_close(p->stage_images(x), mixed, 1e-6f, "reals during the fade to 8x8");
  p->set_progress({2, 1.f});
  expect_close(p->stage_images(x), x, 0.f, "reals at full resolution");
}

// D's loss is the Wasserstein estimate + the gradient penalty (drawn after the latents) + the
// drift 0.001 * mean(D(real)^2), all at the stage's side; the stage follows the images seen.
TEST_P(ProganDeviceTest, DiscriminatorLossTerms) {
  const GanOptions o = tiny(device());
  auto p = build(o, device());
  const int64_t n = 4;
  const Tensor real = gantest::fake_real_batch(o, n, device());
  Generator stream(9);
  models::StepContext ctx;
  ctx.generator = &stream;
  ctx.batch_size = n;
  ctx.step = (o.stable_images + o.fade_images / 2) / n;  // mid-fade to 8x8
  const models::LossResult r = p->discriminator_loss(real, Tensor(), ctx);
  const ProganProgress at = progan_progress(ctx.step * n, 3, o.fade_images, o.stable_images);
  EXPECT_EQ(p->progress(), at);
  EXPECT_EQ(at.stage, 1);
  EXPECT_GT(at.alpha, 0.4f);
  EXPECT_LT(at.alpha, 0.6f);
  EXPECT_EQ(r.logs.at("stage"), 1.f);
  EXPECT_EQ(r.logs.at("alpha"), at.alpha);

  Generator same(9);
  const Tensor reals = p->stage_images(real);
  EXPECT_EQ(reals.size(2), 8);
  const Tensor z = p->sample_latent(n, same, device());
  const Tensor fake = p->g->forward(z, at);
  const auto critic = [&](const Tensor& x) { return p->d->forward(x, at); };
  const Tensor real_out = critic(reals), fake_out = critic(fake);
  const Tensor gp = wgan_gradient_penalty(critic, reals, fake, o.gp_lambda, &same);
  const float w = fake_out.mean().item() - real_out.mean().item();
  const float drift = 0.001f * square(real_out).mean().item();
  EXPECT_NEAR(r.logs.at("drift"), drift, 1e-6f + 1e-5f * drift);
  EXPECT_NEAR(r.logs.at("gp"), gp.item(), 1e-4f);
  EXPECT_NEAR(r.loss.item(), w + gp.item() + drift, 1e-4f);
}

// At a stage's full strength only its own toRGB/fromRGB train beside the blocks up to it;
// during its fade the previous stage's too.
TEST_P(ProganDeviceTest, GradientsReachTheStagesLayers) {
  const GanOptions o = tiny(device());
  auto p = build(o, device());
  const int64_t n = 4;
  const Tensor real = gantest::fake_real_batch(o, n, device());
  for (const ProganProgress at : {ProganProgress{1, 1.f}, ProganProgress{2, 0.5f}}) {
    SCOPED_TRACE(::testing::Message() << "stage " << at.stage << " alpha " << at.alpha);
    const int64_t stable = o.stable_images, fade = o.fade_images;
    Generator stream(2);
    models::StepContext ctx;
    ctx.generator = &stream;
    ctx.batch_size = 1;
    ctx.step = stable + (at.stage - 1) * (fade + stable) +
               static_cast<int64_t>(at.alpha * static_cast<float>(fade));
    p->discriminator().zero_grad();
    p->discriminator_loss(real, Tensor(), ctx).loss.backward();
    p->generator().zero_grad();
    p->generator_loss(n, Tensor(), ctx).loss.backward();
    ASSERT_EQ(p->progress(), at);
    const auto used = [&](const std::string& name) {
      const int64_t res = std::stoll(name.substr(name.find_first_of("0123456789")));
      const bool rgb = name.starts_with("torgb") || name.starts_with("fromrgb");
      const int64_t side = int64_t{4} << at.stage;
      if (!rgb) return res <= side;
      return res == side || (at.alpha < 1.f && res == side / 2);
    };
    for (auto* net : {&p->generator(), &p->discriminator()})
      for (const auto& [name, param] : net->named_parameters()) {
        const bool has = param.grad().defined() && sum(abs(param.grad())).item() > 0.f;
        EXPECT_EQ(has, used(name)) << name;
      }
  }
}

TEST(ProganTest, SavedProgressIsChecked) {
  const GanOptions o = tiny(kCPU);
  auto p = build(o, kCPU);
  p->set_progress({1, 0.25f});
  auto state = p->extra_state();
  EXPECT_EQ(state.at("progan.stage").item(), 1.f);
  EXPECT_EQ(state.at("progan.alpha").item(), 0.25f);
  EXPECT_EQ(state.at("progan.resolution").item(), 8.f);
  auto other = build(o, kCPU);
  other->load_extra_state(state, "f");
  EXPECT_EQ(other->progress(), (ProganProgress{1, 0.25f}));
  const auto refused = [&](std::map<std::string, Tensor> s, const std::string& expected) {
    const std::string message = error_of([&] { other->load_extra_state(s, "ckpt"); });
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_EQ(other->progress(), (ProganProgress{1, 0.25f})) << "a refused state changed it";
  };
  auto bad = state;
  bad["progan.stage"] = scalar_tensor(3.f);
  refused(bad, "ckpt: 'state.progan.stage' is 3; expected a stage in [0, 3)");
  bad = state;
  bad["progan.resolution"] = scalar_tensor(16.f);
  refused(bad, "'state.progan.resolution' is 16; stage 1 trains at 8");
  bad = state;
  bad["progan.alpha"] = scalar_tensor(1.5f);
  refused(bad, "'state.progan.alpha' is 1.5");
  bad = state;
  bad.erase("progan.alpha");
  refused(bad, "missing tensor 'state.progan.alpha'");
  bad = state;
  bad["pool_A.images"] = scalar_tensor(0.f);
  refused(bad, "unexpected tensor 'state.pool_A.images'");
}

class ProganResume : public DeviceTest {};

// 8x8 (two stages): one batch at 4x4, the fade over four batches. 3 steps (the checkpoint lands
// after the fade's second step, alpha 1/4), resume, 2 more (alpha 2/4 and 3/4) == 5 straight,
// bit for bit; a loaded model samples at the saved progress.
TEST_P(ProganResume, IsBitwiseIdenticalToAStraightRunInTheMiddleOfAFade) {
  GanOptions o = tiny(device(), 8);
  const int64_t batch = gantest::tiny_batch(device());
  o.stable_images = batch;
  o.fade_images = 4 * batch;
  auto data = std::make_shared<TinyDataset>(24, true);
  const auto run = [&](const std::string& dir, int64_t steps, bool resume) {
    auto p = build(o, device(), 4);
    run_quiet(*p, data, dir, steps, batch, device(), resume,
              [](TrainOptions& t) { t.checkpoint_every = 0; });
    return p;
  };
  const std::string straight = fresh_dir("straight"), split = fresh_dir("split");
  const auto a = run(straight, 5, false);
  const auto part = run(split, 3, false);
  EXPECT_EQ(part->progress(), (ProganProgress{1, 0.25f}));
  const auto saved =
      load_safetensors((std::filesystem::path(split) / "checkpoint.safetensors").string());
  EXPECT_EQ(saved.at("state.progan.stage").item(), 1.f);
  EXPECT_EQ(saved.at("state.progan.alpha").item(), 0.25f);
  const auto loaded = models::train::load_model(split, device());
  EXPECT_EQ(dynamic_cast<Progan&>(*loaded).progress(), (ProganProgress{1, 0.25f}));

  const auto b = run(split, 5, true);
  EXPECT_EQ(b->progress(), (ProganProgress{1, 0.75f}));
  EXPECT_EQ(a->progress(), (ProganProgress{1, 0.75f}));
  for (auto* net : {&a->generator(), &a->discriminator()}) {
    nn::Module& other = net == &a->generator() ? b->generator() : b->discriminator();
    const auto x = net->state_dict(), y = other.state_dict();
    for (const auto& [key, t] : x)
      EXPECT_EQ(t.to_vector(), y.at(key).to_vector()) << key;
  }
}

GE_INSTANTIATE_DEVICE_TEST(ProganDeviceTest);
GE_INSTANTIATE_DEVICE_TEST(ProganResume);

}  // namespace
}  // namespace ge::testing
