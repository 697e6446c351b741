#include "ganengine/models/stylegan_lite.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "gan_layers.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/models/losses.h"
#include "ganengine/nn/activation.h"
#include "ganengine/ops.h"
#include "ganengine/upsample.h"

namespace ge::models {

namespace {

bool is_power_of_two(int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

// "b4", "b8", ...: the block keys of stylegan2-ada. Appended rather than `"b" + to_string(res)`,
// which GCC 12 flags with a false -Wrestrict at -O2 (its bug 105329).
std::string block_name(int64_t res) {
  std::string name = "b";
  name += std::to_string(res);
  return name;
}

nn::LayerOptions equalized(Activation act, std::optional<float> gain = std::nullopt,
                           bool bias = true) {
  nn::LayerOptions o;
  o.equalized_lr = true;
  o.bias = bias;
  o.act.act = act;
  o.act.gain = gain;
  return o;
}

// Turns off requires_grad of a network's parameters for its scope, so a graph recorded meanwhile
// has no edges into them: the G step then skips D's weight gradients altogether.
class FreezeParameters {
 public:
  explicit FreezeParameters(nn::Module& module) : module_(module) { module_.requires_grad_(false); }
  ~FreezeParameters() { module_.requires_grad_(true); }
  FreezeParameters(const FreezeParameters&) = delete;
  FreezeParameters& operator=(const FreezeParameters&) = delete;

 private:
  nn::Module& module_;
};

}  // namespace

int64_t stylegan_channels(int64_t width, int64_t res) {
  return std::min(width, std::max<int64_t>(1, width * 16 / res));
}

// --- synthesis

SynthesisBlock::SynthesisBlock(int64_t in_channels, int64_t out_channels, int64_t w_dim,
                               int64_t resolution, int64_t img_channels, Generator& generator)
    : resolution(resolution) {
  if (in_channels == 0) {
    const_ = randn({out_channels, resolution, resolution}, kCPU, &generator);
    register_parameter("const", const_);
  } else {
    conv0 =
        register_module("conv0", std::make_shared<nn::SynthesisLayer>(
                                     in_channels, out_channels, w_dim, resolution, 2, &generator));
  }
  conv1 =
      register_module("conv1", std::make_shared<nn::SynthesisLayer>(
                                   out_channels, out_channels, w_dim, resolution, 1, &generator));
  torgb = register_module(
      "torgb", std::make_shared<nn::ToRGB>(out_channels, img_channels, w_dim, &generator));
}

std::pair<Tensor, Tensor> SynthesisBlock::forward(const Tensor& x, const Tensor& img,
                                                  const Tensor& ws, nn::NoiseMode mode,
                                                  Generator* generator, distributed::Shard shard) {
  const int64_t n = ws.size(0);
  auto w = [&](int64_t i) { return ws.select(1, i).contiguous(); };
  Tensor y;
  if (const_.defined()) {
    y = const_.unsqueeze(0).expand({n, -1, -1, -1});
  } else {
    GE_CHECK(x.defined() && x.size(0) == n, name(), " at ", resolution,
             ": expected the previous block's features for ", n, " samples");
    y = conv0->forward(x, w(0), mode, generator, shard);
  }
  y = conv1->forward(y, w(num_conv() - 1), mode, generator, shard);
  const Tensor rgb = torgb->forward(y, w(num_conv()));
  return {y, img.defined() ? upsample_bilinear2d(img, 2) + rgb : rgb};
}

SynthesisNetwork::SynthesisNetwork(int64_t w_dim, int64_t resolution, int64_t img_channels,
                                   int64_t width, Generator& generator)
    : w_dim(w_dim) {
  for (int64_t res = 4; res <= resolution; res *= 2) {
    const int64_t in = res == 4 ? 0 : stylegan_channels(width, res / 2);
    auto block = std::make_shared<SynthesisBlock>(in, stylegan_channels(width, res), w_dim, res,
                                                  img_channels, generator);
    blocks_.push_back(register_module(block_name(res), block));
    num_ws_ += block->num_conv();
  }
  num_ws_ += 1;  // the last torgb; the others share their w with the next block's conv0
}

Tensor SynthesisNetwork::forward(const Tensor& ws, nn::NoiseMode mode, Generator* generator,
                                 distributed::Shard shard) {
  GE_CHECK(ws.defined() && ws.dim() == 3 && ws.size(0) > 0 && ws.size(1) == num_ws_ &&
               ws.size(2) == w_dim,
           "SynthesisNetwork: expected ws [N, ", num_ws_, ", ", w_dim, "] with N > 0, got ",
           ws.defined() ? to_string(ws.shape()) : "undefined");
  Tensor x, img;
  int64_t w_idx = 0;
  for (const auto& block : blocks_) {
    const int64_t k = block->num_conv();
    std::tie(x, img) =
        block->forward(x, img, ws.slice(1, w_idx, w_idx + k + 1), mode, generator, shard);
    w_idx += k;
  }
  return img;
}

StyleGanGenerator::StyleGanGenerator(const GanOptions& o, Generator& generator) {
  mapping = register_module(
      "mapping", std::make_shared<nn::MappingNetwork>(o.latent_dim, o.w_dim, o.mapping_layers,
                                                      o.w_avg_beta, 0.01f, &generator));
  synthesis = register_module(
      "synthesis",
      std::make_shared<SynthesisNetwork>(o.w_dim, o.resolution, o.channels, o.width, generator));
}

Tensor StyleGanGenerator::forward(const Tensor& z) {
  return synthesis->forward(broadcast(mapping->forward(z, 1.f, false)), nn::NoiseMode::Const);
}

Tensor StyleGanGenerator::broadcast(const Tensor& w) const {
  GE_CHECK(w.defined() && w.dim() == 2 && w.size(1) == synthesis->w_dim,
           "StyleGanGenerator::broadcast: expected w [N, ", synthesis->w_dim, "], got ",
           w.defined() ? to_string(w.shape()) : "undefined");
  return w.unsqueeze(1).expand({-1, num_ws(), -1});
}

MixedStyles StyleGanGenerator::mix_styles(const Tensor& z, float style_mixing_prob,
                                          Generator& generator, const data::Shard& shard) {
  MixedStyles out;
  out.ws = broadcast(mapping->forward(z, 1.f, is_training()));
  out.cutoff = num_ws();
  if (style_mixing_prob <= 0.f) return out;
  // Drawn on the CPU: the same Philox stream as on CUDA, and no device round trip.
  const std::vector<float> u = rand({2}, kCPU, &generator).to_vector();
  if (u[0] >= style_mixing_prob) return out;
  const int64_t span = num_ws() - 1;
  out.cutoff =
      1 + std::min<int64_t>(static_cast<int64_t>(u[1] * static_cast<float>(span)), span - 1);
  out.z2 = distributed::shard_rows(shard, z.size(0), [&](int64_t n) {
    return randn({n, z.size(1)}, z.device(), &generator);
  });
  const Tensor ws2 = broadcast(mapping->forward(out.z2, 1.f, false));
  out.ws = cat({out.ws.slice(1, 0, out.cutoff), ws2.slice(1, out.cutoff, num_ws())}, 1);
  return out;
}

// --- discriminator

DiscriminatorBlock::DiscriminatorBlock(int64_t in_channels, int64_t tmp_channels,
                                       int64_t out_channels, int64_t img_channels,
                                       Generator& generator) {
  const float half = std::sqrt(0.5f);
  const Conv2dOptions same(1, 1);
  if (in_channels == 0) {
    fromrgb = register_module(
        "fromrgb", std::make_shared<nn::Conv2d>(img_channels, tmp_channels, 1, Conv2dOptions(),
                                                equalized(Activation::LeakyRelu), &generator));
  }
  conv0 = register_module(
      "conv0", std::make_shared<nn::Conv2d>(tmp_channels, tmp_channels, 3, same,
                                            equalized(Activation::LeakyRelu), &generator));
  // The residual sum's sqrt(0.5) folded into the layers' gains.
  conv1 = register_module(
      "conv1", std::make_shared<nn::Conv2d>(
                   tmp_channels, out_channels, 3, same,
                   equalized(Activation::LeakyRelu, default_gain(Activation::LeakyRelu) * half),
                   &generator));
  // Applied in forward() with the residual gain sqrt(0.5), not through its own forward.
  skip = register_module(
      "skip",
      std::make_shared<nn::Conv2d>(tmp_channels, out_channels, 1, Conv2dOptions(),
                                   equalized(Activation::Linear, std::nullopt, false), &generator));
}

Tensor DiscriminatorBlock::forward(const Tensor& x, const Tensor& img) {
  const Tensor h = fromrgb ? fromrgb->forward(img) : x;
  // skip(avg_pool2x2(h)) * sqrt(0.5) as one stride-2 2x2 convolution whose taps are all skip's
  // weight / 4 (pooling and a 1x1 convolution commute), so no pooled copy of h is made.
  const Tensor tied =
      (skip->effective_weight() * (0.25f * std::sqrt(0.5f))).expand({-1, -1, 2, 2}).contiguous();
  const Tensor y = conv2d(h, tied, Tensor(), Conv2dOptions(2, 0));
  return y + conv1->forward(nn::avg_pool2x2(conv0->forward(h)));
}

DiscriminatorEpilogue::DiscriminatorEpilogue(int64_t in_channels, Generator& generator) {
  mbstd = register_module("mbstd", std::make_shared<nn::MinibatchStdDev>(4, 1));
  conv = register_module(
      "conv", std::make_shared<nn::Conv2d>(in_channels + 1, in_channels, 3, Conv2dOptions(1, 1),
                                           equalized(Activation::LeakyRelu), &generator));
  fc = register_module("fc",
                       std::make_shared<nn::Linear>(in_channels * 16, in_channels,
                                                    equalized(Activation::LeakyRelu), &generator));
  out = register_module("out", std::make_shared<nn::Linear>(
                                   in_channels, 1, equalized(Activation::Linear), &generator));
}

Tensor DiscriminatorEpilogue::forward(const Tensor& x) {
  const Tensor h = conv->forward(mbstd->forward(x));
  return out->forward(fc->forward(h.flatten(1))).reshape({x.size(0)});
}

StyleGanDiscriminator::StyleGanDiscriminator(const GanOptions& o, Generator& generator)
    : resolution(o.resolution), img_channels(o.channels), pack(o.pack) {
  for (int64_t res = o.resolution; res > 4; res /= 2) {
    const int64_t in = res == o.resolution ? 0 : stylegan_channels(o.width, res);
    blocks_.push_back(register_module(
        block_name(res), std::make_shared<DiscriminatorBlock>(in, stylegan_channels(o.width, res),
                                                              stylegan_channels(o.width, res / 2),
                                                              o.channels * o.pack, generator)));
  }
  epilogue_ = register_module(
      "b4", std::make_shared<DiscriminatorEpilogue>(stylegan_channels(o.width, 4), generator));
}

Tensor StyleGanDiscriminator::forward(const Tensor& img) {
  GE_CHECK(img.defined() && img.dim() == 4 && img.size(0) > 0 && img.size(1) == img_channels &&
               img.size(2) == resolution && img.size(3) == resolution,
           "StyleGanDiscriminator: expected images [N, ", img_channels, ", ", resolution, ", ",
           resolution, "] with N > 0, got ", img.defined() ? to_string(img.shape()) : "undefined");
  const int64_t n = img.size(0);
  GE_CHECK(n % pack == 0, "StyleGanDiscriminator: packs ", pack,
           " images per score, so the batch must be a multiple of ", pack, "; got ", n, " images");
  // Images 2k and 2k+1 (pack 2) become one sample's channels [0, C) and [C, 2C): a view.
  const Tensor packed =
      pack == 1 ? img : img.reshape({n / pack, img_channels * pack, resolution, resolution});
  Tensor x;
  for (const auto& block : blocks_)
    x = block->forward(x, packed);
  return epilogue_->forward(x);
}

// --- the GAN

StyleGanLite::StyleGanLite(const GanOptions& options, Generator& generator)
    : Gan(options),
      g_(std::make_shared<StyleGanGenerator>(options, generator)),
      d_(std::make_shared<StyleGanDiscriminator>(options, generator)) {
  // The EMA starts as a copy; its own init draws come from a throwaway stream so they do not
  // shift the caller's.
  Generator scratch(0);
  g_ema_ = std::make_shared<StyleGanGenerator>(options, scratch);
  g_ema_->copy_from(*g_);
  g_ema_->requires_grad_(false);
  g_ema_->eval();
}

TrainDefaults StyleGanLite::train_defaults() const {
  TrainDefaults t;
  t.g_lr = t.d_lr = 0.0025f;
  t.beta1 = 0.f;
  t.beta2 = 0.99f;
  t.n_critic = 1;
  t.ema_beta = std::pow(0.5f, 32.f / 10000.f);
  return t;
}

Tensor StyleGanLite::mapping(const Tensor& z, float truncation, bool ema) {
  return g(ema).mapping->forward(z, truncation, false);
}

Tensor StyleGanLite::synthesis(const Tensor& ws, bool ema, nn::NoiseMode mode,
                               Generator* generator) {
  return g(ema).synthesis->forward(ws, mode, generator);
}

Tensor StyleGanLite::generate(const Tensor& z, const Tensor& /*labels*/, bool ema,
                              float truncation) {
  StyleGanGenerator& net = g(ema);
  return net.synthesis->forward(net.broadcast(mapping(z, truncation, ema)), nn::NoiseMode::Const);
}

Tensor StyleGanLite::discriminate(const Tensor& x, const Tensor& /*labels*/) {
  return d_->forward(x);
}

LossResult StyleGanLite::discriminator_loss(const Tensor& real, const Tensor& /*labels*/,
                                            StepContext& ctx) {
  const char* who = "StyleGanLite::discriminator_loss";
  Generator& generator = detail::step_generator(who, ctx);
  GE_CHECK(real.defined() && real.dim() == 4 && real.size(0) > 0, who,
           ": expected a real batch [N, C, H, W] with N > 0");
  const Tensor z = detail::shard_rows(
      ctx, real.size(0), [&](int64_t n) { return sample_latent(n, generator, real.device()); });
  Tensor fake;
  {
    // D's step never differentiates through G.
    NoGradGuard no_grad;
    const MixedStyles styles = g_->mix_styles(z, options_.style_mixing_prob, generator, ctx.shard);
    fake = g_->synthesis->forward(styles.ws, nn::NoiseMode::Random, &generator, ctx.shard);
  }
  const Tensor real_out = d_->forward(real);
  const Tensor fake_out = d_->forward(fake);
  LossResult result;
  result.loss = nonsaturating_d_loss(real_out, fake_out, ctx.real_label);
  if (options_.r1_gamma > 0.f && ctx.step % options_.r1_interval == 0) {
    // Lazy regularisation: every r1_interval steps, weighted by the interval.
    const Tensor r1 =
        r1_penalty([this](const Tensor& x) { return d_->forward(x); }, real, options_.r1_gamma);
    result.logs["r1"] = r1.item();
    result.loss = result.loss + r1 * static_cast<float>(options_.r1_interval);
  }
  result.logs["d_real"] = real_out.mean().item();
  result.logs["d_fake"] = fake_out.mean().item();
  result.logs["d_loss"] = result.loss.item();
  return result;
}

LossResult StyleGanLite::generator_loss(int64_t batch, const Tensor& /*labels*/, StepContext& ctx) {
  const char* who = "StyleGanLite::generator_loss";
  Generator& generator = detail::step_generator(who, ctx);
  GE_CHECK(batch > 0, who, ": expected batch > 0, got ", batch);
  const Tensor z = detail::shard_rows(
      ctx, batch, [&](int64_t n) { return sample_latent(n, generator, device()); });
  FreezeParameters freeze_d(*d_);
  const MixedStyles styles = g_->mix_styles(z, options_.style_mixing_prob, generator, ctx.shard);
  const Tensor fake =
      g_->synthesis->forward(styles.ws, nn::NoiseMode::Random, &generator, ctx.shard);
  LossResult result;
  result.loss = nonsaturating_g_loss(d_->forward(fake));
  result.logs["g_loss"] = result.loss.item();
  return result;
}

std::unique_ptr<Gan> make_stylegan_lite(const GanOptions& o, Generator& generator) {
  const char* who = "make_stylegan_lite";
  GE_CHECK(o.arch == "stylegan-lite", who, ": expected arch \"stylegan-lite\", got \"", o.arch,
           "\"");
  GE_CHECK(o.num_classes == 0, who,
           ": stylegan-lite is unconditional; expected num_classes 0, got ", o.num_classes);
  GE_CHECK(o.channels > 0, who, ": expected channels > 0 (image channels), got ", o.channels);
  GE_CHECK(o.resolution >= 8 && is_power_of_two(o.resolution), who,
           ": expected resolution a power of two >= 8, got ", o.resolution);
  GE_CHECK(o.latent_dim > 0, who, ": expected latent_dim > 0, got ", o.latent_dim);
  GE_CHECK(o.width > 0, who, ": expected width > 0, got ", o.width);
  GE_CHECK(o.w_dim > 0, who, ": expected w_dim > 0, got ", o.w_dim);
  GE_CHECK(o.mapping_layers >= 1, who, ": expected mapping_layers >= 1, got ", o.mapping_layers);
  GE_CHECK(o.style_mixing_prob >= 0.f && o.style_mixing_prob <= 1.f, who,
           ": expected style_mixing_prob in [0, 1], got ", o.style_mixing_prob);
  GE_CHECK(o.r1_gamma >= 0.f, who, ": expected r1_gamma >= 0, got ", o.r1_gamma);
  GE_CHECK(o.r1_interval >= 1, who, ": expected r1_interval >= 1, got ", o.r1_interval);
  GE_CHECK(o.w_avg_beta >= 0.f && o.w_avg_beta <= 1.f, who, ": expected w_avg_beta in [0, 1], got ",
           o.w_avg_beta);
  GE_CHECK(o.pack >= 1, who, ": expected pack >= 1, got ", o.pack);
  return std::make_unique<StyleGanLite>(o, generator);
}

}  // namespace ge::models
