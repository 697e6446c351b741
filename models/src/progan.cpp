#include "ganengine/models/progan.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "gan_layers.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/gradient_penalty.h"
#include "ganengine/models/losses.h"
#include "ganengine/models/stylegan_lite.h"
#include "ganengine/nn/activation.h"
#include "ganengine/nn/stylegan.h"
#include "ganengine/ops.h"
#include "ganengine/pixel_norm.h"
#include "ganengine/upsample.h"

namespace ge::models {

namespace {

constexpr float kDrift = 0.001f;  // the paper's epsilon_drift

// "b4", "torgb8", ...: appended, as GCC 12 flags `prefix + to_string(res)` with a false
// -Wrestrict at -O2 (its bug 105329).
std::string key(const char* prefix, int64_t res) {
  std::string name = prefix;
  name += std::to_string(res);
  return name;
}

nn::LayerOptions equalized(Activation act) {
  nn::LayerOptions o;
  o.equalized_lr = true;
  o.act.act = act;
  return o;
}

std::shared_ptr<nn::Conv2d> equalized_conv(int64_t in, int64_t out, int64_t k, Activation act,
                                           Generator& generator) {
  return std::make_shared<nn::Conv2d>(in, out, k, Conv2dOptions(1, k / 2), equalized(act),
                                      &generator);
}

int64_t stage_count(int64_t resolution) {
  int64_t stages = 1;
  for (int64_t r = 4; r < resolution; r *= 2)
    ++stages;
  return stages;
}

// x pooled 2x2 `times` times.
Tensor pooled(Tensor x, int64_t times) {
  for (int64_t i = 0; i < times; ++i)
    x = nn::avg_pool2x2(x);
  return x;
}

// a + (b - a) * alpha, differentiable in both.
Tensor blend(const Tensor& a, const Tensor& b, float alpha) {
  return a + (b - a) * alpha;
}

void check_progress(const char* who, const ProganProgress& p, int64_t stages) {
  GE_CHECK(p.stage >= 0 && p.stage < stages, who, ": expected a stage in [0, ", stages, "), got ",
           p.stage);
  GE_CHECK(p.alpha >= 0.f && p.alpha <= 1.f, who, ": expected alpha in [0, 1], got ", p.alpha);
  GE_CHECK(p.stage > 0 || p.alpha == 1.f, who,
           ": stage 0 has no previous stage to fade from; expected alpha 1, got ", p.alpha);
}

}  // namespace

ProganProgress progan_progress(int64_t images, int64_t stages, int64_t fade_images,
                               int64_t stable_images) {
  GE_CHECK(images >= 0 && stages >= 1 && fade_images >= 0 && stable_images >= 0,
           "progan_progress: expected images >= 0, stages >= 1 and image counts >= 0, got ", images,
           ", ", stages, ", ", fade_images, ", ", stable_images);
  if (images < stable_images || stages == 1) return {0, 1.f};
  int64_t into = images - stable_images;
  const int64_t per_stage = fade_images + stable_images;
  int64_t stage = stages - 1;  // no images per stage: straight to the last
  if (per_stage > 0) {
    stage = std::min(stages - 1, 1 + into / per_stage);
    into -= (stage - 1) * per_stage;
  }
  if (into >= fade_images) return {stage, 1.f};
  return {stage, static_cast<float>(static_cast<double>(into) / static_cast<double>(fade_images))};
}

// --- generator

ProganGeneratorBlock::ProganGeneratorBlock(int64_t in, int64_t out, int64_t resolution,
                                           Generator& generator)
    : out_channels(out), resolution(resolution) {
  if (resolution == 4) {
    dense = register_module(
        "dense",
        std::make_shared<nn::Linear>(in, out * 16, equalized(Activation::LeakyRelu), &generator));
    conv = register_module("conv", equalized_conv(out, out, 3, Activation::LeakyRelu, generator));
  } else {
    conv0 = register_module("conv0", equalized_conv(in, out, 3, Activation::LeakyRelu, generator));
    conv1 = register_module("conv1", equalized_conv(out, out, 3, Activation::LeakyRelu, generator));
  }
}

Tensor ProganGeneratorBlock::forward(const Tensor& x) {
  if (dense) {
    const Tensor h = pixel_norm(dense->forward(x).view({x.size(0), out_channels, 4, 4}));
    return pixel_norm(conv->forward(h));
  }
  // Nearest 2x upsampling then the 3x3 conv, as one stride-2 transposed conv with the 4x4
  // kernel they compose to: a quarter of the multiply-adds, no upsampled copy.
  const Tensor up =
      conv_transpose2d_bias_act(x, nn::upsample_conv3x3_weight(conv0->effective_weight()),
                                conv0->effective_bias(), Conv2dOptions(2, 1), conv0->options().act);
  return pixel_norm(conv1->forward(pixel_norm(up)));
}

ProganGenerator::ProganGenerator(int64_t latent_dim, int64_t channels, int64_t resolution,
                                 int64_t width, Generator& generator)
    : latent_dim(latent_dim), channels(channels) {
  int64_t in = latent_dim;
  for (int64_t res = 4; res <= resolution; res *= 2) {
    const int64_t out = stylegan_channels(width, res);
    blocks.push_back(register_module(
        key("b", res), std::make_shared<ProganGeneratorBlock>(in, out, res, generator)));
    torgb.push_back(register_module(
        key("torgb", res), equalized_conv(out, channels, 1, Activation::Linear, generator)));
    in = out;
  }
}

Tensor ProganGenerator::forward(const Tensor& z) {
  return forward(z, {stages() - 1, 1.f});
}

Tensor ProganGenerator::forward(const Tensor& z, const ProganProgress& progress) {
  detail::check_rows("ProganGenerator", z, latent_dim);
  check_progress("ProganGenerator", progress, stages());
  Tensor h = pixel_norm(z), previous;
  for (int64_t s = 0; s <= progress.stage; ++s) {
    previous = h;
    h = blocks[static_cast<size_t>(s)]->forward(h);
  }
  const Tensor img = torgb[static_cast<size_t>(progress.stage)]->forward(h);
  if (progress.alpha >= 1.f) return img;
  const Tensor before = torgb[static_cast<size_t>(progress.stage - 1)]->forward(previous);
  return blend(upsample_nearest2d(before, 2), img, progress.alpha);
}

// --- discriminator

ProganDiscriminatorBlock::ProganDiscriminatorBlock(int64_t in, int64_t out, Generator& generator) {
  conv0 = register_module("conv0", equalized_conv(in, in, 3, Activation::LeakyRelu, generator));
  conv1 = register_module("conv1", equalized_conv(in, out, 3, Activation::LeakyRelu, generator));
}

Tensor ProganDiscriminatorBlock::forward(const Tensor& x) {
  return nn::avg_pool2x2(conv1->forward(conv0->forward(x)));
}

ProganDiscriminatorEpilogue::ProganDiscriminatorEpilogue(int64_t in, Generator& generator) {
  mbstd = register_module("mbstd", std::make_shared<nn::MinibatchStdDev>(4, 1));
  conv = register_module("conv", equalized_conv(in + 1, in, 3, Activation::LeakyRelu, generator));
  dense = register_module("dense", std::make_shared<nn::Linear>(
                                       in * 16, in, equalized(Activation::LeakyRelu), &generator));
  out = register_module(
      "out", std::make_shared<nn::Linear>(in, 1, equalized(Activation::Linear), &generator));
}

Tensor ProganDiscriminatorEpilogue::forward(const Tensor& x) {
  const Tensor h = conv->forward(mbstd->forward(x));
  return out->forward(dense->forward(h.flatten(1))).reshape({x.size(0)});
}

ProganDiscriminator::ProganDiscriminator(int64_t channels, int64_t resolution, int64_t width,
                                         Generator& generator)
    : channels(channels), resolution(resolution) {
  // Built from the top as D runs, so the initialisation draws follow the data's path.
  const int64_t stages = stage_count(resolution);
  fromrgb.resize(static_cast<size_t>(stages));
  blocks.resize(static_cast<size_t>(stages));
  for (int64_t s = stages - 1; s >= 0; --s) {
    const int64_t res = int64_t{4} << s;
    const int64_t c = stylegan_channels(width, res);
    fromrgb[static_cast<size_t>(s)] = register_module(
        key("fromrgb", res), equalized_conv(channels, c, 1, Activation::LeakyRelu, generator));
    if (s > 0)
      blocks[static_cast<size_t>(s)] =
          register_module(key("b", res), std::make_shared<ProganDiscriminatorBlock>(
                                             c, stylegan_channels(width, res / 2), generator));
  }
  epilogue = register_module(
      "b4", std::make_shared<ProganDiscriminatorEpilogue>(stylegan_channels(width, 4), generator));
}

Tensor ProganDiscriminator::forward(const Tensor& x) {
  return forward(x, {stages() - 1, 1.f});
}

Tensor ProganDiscriminator::forward(const Tensor& x, const ProganProgress& progress) {
  check_progress("ProganDiscriminator", progress, stages());
  detail::check_images("ProganDiscriminator", x, channels, int64_t{4} << progress.stage);
  const auto s = static_cast<size_t>(progress.stage);
  Tensor h = fromrgb[s]->forward(x);
  if (s > 0) {
    h = blocks[s]->forward(h);
    if (progress.alpha < 1.f)
      h = blend(fromrgb[s - 1]->forward(nn::avg_pool2x2(x)), h, progress.alpha);
    for (size_t k = s - 1; k > 0; --k)
      h = blocks[k]->forward(h);
  }
  return epilogue->forward(h);
}

// --- the GAN

Progan::Progan(const GanOptions& options, Generator& generator) : Gan(options) {
  g = std::make_shared<ProganGenerator>(options.latent_dim, options.channels, options.resolution,
                                        options.width, generator);
  d = std::make_shared<ProganDiscriminator>(options.channels, options.resolution, options.width,
                                            generator);
}

TrainDefaults Progan::train_defaults() const {
  TrainDefaults t;
  t.g_lr = t.d_lr = 1e-3f;
  t.beta1 = 0.f;
  t.beta2 = 0.99f;
  t.n_critic = 1;
  return t;
}

void Progan::set_progress(const ProganProgress& progress) {
  check_progress("Progan::set_progress", progress, g->stages());
  progress_ = progress;
}

ProganProgress Progan::progress_at(const StepContext& ctx) const {
  GE_CHECK(ctx.step >= 0 && ctx.batch_size >= 0,
           "Progan: expected StepContext step and batch_size >= 0, got ", ctx.step, " and ",
           ctx.batch_size);
  return progan_progress(ctx.step * ctx.batch_size, g->stages(), options_.fade_images,
                         options_.stable_images);
}

Tensor Progan::stage_images(const Tensor& x) const {
  detail::check_images("Progan", x, options_.channels, options_.resolution);
  const Tensor at_stage = pooled(x, g->stages() - 1 - progress_.stage);
  if (progress_.alpha >= 1.f) return at_stage;
  return blend(upsample_nearest2d(nn::avg_pool2x2(at_stage), 2), at_stage, progress_.alpha);
}

Tensor Progan::generate(const Tensor& z, const Tensor& /*labels*/, bool /*ema*/,
                        float /*truncation*/) {
  const Tensor img = g->forward(z, progress_);
  const int64_t scale = options_.resolution / stage_resolution();
  const Tensor full = scale == 1 ? img : upsample_nearest2d(img, scale);
  // G's output is linear; the samples the apps save and evaluate live in [-1, 1].
  return clamp(full, -1.f, 1.f);
}

Tensor Progan::discriminate(const Tensor& x, const Tensor& /*labels*/) {
  return d->forward(stage_images(x), progress_);
}

LossResult Progan::discriminator_loss(const Tensor& real, const Tensor& /*labels*/,
                                      StepContext& ctx) {
  const char* who = "Progan::discriminator_loss";
  Generator& generator = detail::step_generator(who, ctx);
  set_progress(progress_at(ctx));
  const Tensor reals = stage_images(real);
  const Tensor z = detail::shard_rows(
      ctx, real.size(0), [&](int64_t n) { return sample_latent(n, generator, real.device()); });
  Tensor fake;
  {
    NoGradGuard no_grad;
    fake = g->forward(z, progress_);
  }
  const auto critic = [this](const Tensor& x) { return d->forward(x, progress_); };
  const Tensor real_out = critic(reals), fake_out = critic(fake);
  const Tensor alpha = detail::shard_rows(
      ctx, real.size(0), [&](int64_t n) { return rand({n}, real.device(), &generator); });
  const Tensor gp = wgan_gradient_penalty(critic, reals, fake, options_.gp_lambda, alpha);
  const Tensor drift = mean(square(real_out)) * kDrift;
  LossResult result;
  result.loss = wasserstein_d_loss(real_out, fake_out) + gp + drift;
  const float d_real = real_out.mean().item(), d_fake = fake_out.mean().item();
  result.logs["d_real"] = d_real;
  result.logs["d_fake"] = d_fake;
  result.logs["wasserstein"] = d_real - d_fake;
  result.logs["gp"] = gp.item();
  result.logs["drift"] = drift.item();
  result.logs["stage"] = static_cast<float>(progress_.stage);
  result.logs["alpha"] = progress_.alpha;
  result.logs["d_loss"] = result.loss.item();
  return result;
}

LossResult Progan::generator_loss(int64_t batch, const Tensor& /*labels*/, StepContext& ctx) {
  const char* who = "Progan::generator_loss";
  Generator& generator = detail::step_generator(who, ctx);
  GE_CHECK(batch > 0, who, ": expected batch > 0, got ", batch);
  set_progress(progress_at(ctx));
  const Tensor z = detail::shard_rows(
      ctx, batch, [&](int64_t n) { return sample_latent(n, generator, device()); });
  LossResult result;
  result.loss = wasserstein_g_loss(d->forward(g->forward(z, progress_), progress_));
  result.logs["g_loss"] = result.loss.item();
  return result;
}

std::map<std::string, Tensor> Progan::extra_state() const {
  return {{"progan.stage", scalar_tensor(static_cast<float>(progress_.stage))},
          {"progan.alpha", scalar_tensor(progress_.alpha)},
          {"progan.resolution", scalar_tensor(static_cast<float>(stage_resolution()))}};
}

void Progan::load_extra_state(const std::map<std::string, Tensor>& state, const std::string& file) {
  for (const auto& [name, t] : state)
    GE_CHECK(name == "progan.stage" || name == "progan.alpha" || name == "progan.resolution", file,
             ": unexpected tensor 'state.", name,
             "' (a progan keeps progan.stage, progan.alpha and progan.resolution)");
  float values[3];
  const char* names[3] = {"progan.stage", "progan.alpha", "progan.resolution"};
  for (int i = 0; i < 3; ++i) {
    const auto it = state.find(names[i]);
    GE_CHECK(it != state.end(), file, ": missing tensor 'state.", names[i], "'");
    GE_CHECK(it->second.numel() == 1, file, ": tensor 'state.", names[i],
             "' should hold one value, has ", it->second.numel());
    values[i] = it->second.item();
  }
  const float stage = values[0];
  GE_CHECK(stage == std::floor(stage) && stage >= 0.f && stage < static_cast<float>(g->stages()),
           file, ": 'state.progan.stage' is ", stage, "; expected a stage in [0, ", g->stages(),
           ")");
  const ProganProgress p{static_cast<int64_t>(stage), values[1]};
  GE_CHECK(values[2] == static_cast<float>(int64_t{4} << p.stage), file,
           ": 'state.progan.resolution' is ", values[2], "; stage ", p.stage, " trains at ",
           int64_t{4} << p.stage);
  GE_CHECK(p.alpha >= 0.f && p.alpha <= 1.f && (p.stage > 0 || p.alpha == 1.f), file,
           ": 'state.progan.alpha' is ", p.alpha, "; expected a value in [0, 1] (1 at stage 0)");
  progress_ = p;
}

}  // namespace ge::models
