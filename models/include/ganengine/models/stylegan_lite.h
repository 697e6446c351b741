#pragma once
// StyleGAN-lite: StyleGAN2 (Karras et al. 2020) in small, sized to train on MNIST on a CPU.
// Mapping network, synthesis from a learned 4x4 constant through modulated/demodulated 3x3
// convs with per-layer noise and skip toRGB outputs; a residual discriminator with minibatch
// stddev and optional packing (GanOptions::pack); non-saturating logistic loss, lazy R1, style
// mixing and a G EMA. State dict keys follow stylegan2-ada-pytorch (mapping.fc0.weight,
// synthesis.b4.const, b32.conv0.weight, ...).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/models/gan.h"
#include "ganengine/nn/activation.h"
#include "ganengine/nn/conv.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/stylegan.h"

namespace ge::models {

// Feature maps at resolution `res` for a model of base width `width`:
// min(width, max(1, width * 16 / res)), i.e. `width` up to 16x16, then halving per octave.
int64_t stylegan_channels(int64_t width, int64_t res);

// One synthesis resolution: b4 holds `const` [C, 4, 4] and conv1; the others conv0 (2x
// upsampling) and conv1; every block has a torgb whose output is added to the 2x bilinearly
// upsampled image of the block before.
class SynthesisBlock : public nn::Module {
 public:
  SynthesisBlock(int64_t in_channels, int64_t out_channels, int64_t w_dim, int64_t resolution,
                 int64_t img_channels, Generator& generator);
  std::string name() const override { return "SynthesisBlock"; }
  using Module::forward;
  // ws [N, num_conv + num_torgb, w_dim]; img: the previous block's image (undefined for b4).
  // Returns {x, img}.
  std::pair<Tensor, Tensor> forward(const Tensor& x, const Tensor& img, const Tensor& ws,
                                    nn::NoiseMode mode, Generator* generator,
                                    distributed::Shard shard = {});
  int64_t num_conv() const { return conv0 ? 2 : 1; }

  Tensor const_;  // "const" (b4 only)
  std::shared_ptr<nn::SynthesisLayer> conv0, conv1;
  std::shared_ptr<nn::ToRGB> torgb;
  const int64_t resolution;
};

class SynthesisNetwork : public nn::Module {
 public:
  SynthesisNetwork(int64_t w_dim, int64_t resolution, int64_t img_channels, int64_t width,
                   Generator& generator);
  std::string name() const override { return "SynthesisNetwork"; }
  using Module::forward;
  // ws [N, num_ws, w_dim] -> images [N, img_channels, R, R]; random noise as
  // nn::NoiseInjection draws it for `shard`.
  Tensor forward(const Tensor& ws, nn::NoiseMode mode, Generator* generator = nullptr,
                 distributed::Shard shard = {});
  int64_t num_ws() const { return num_ws_; }
  const std::vector<std::shared_ptr<SynthesisBlock>>& blocks() const { return blocks_; }
  const int64_t w_dim;

 private:
  std::vector<std::shared_ptr<SynthesisBlock>> blocks_;
  int64_t num_ws_ = 0;
};

// ws for training: every layer gets mapping(z), except that with probability
// style_mixing_prob the layers from `cutoff` on (uniform in [1, num_ws)) get mapping(z2) of a
// second latent, as StyleGAN2's mixing regularisation. cutoff == num_ws: no mixing.
struct MixedStyles {
  Tensor ws;  // [N, num_ws, w_dim]
  int64_t cutoff = 0;
  Tensor z2;  // the second latent; undefined without mixing
};

// The StyleGAN2 generator: children mapping and synthesis.
class StyleGanGenerator : public nn::Module {
 public:
  StyleGanGenerator(const GanOptions& options, Generator& generator);
  std::string name() const override { return "StyleGanGenerator"; }
  // z -> images with psi 1 and constant noise, updating nothing.
  Tensor forward(const Tensor& z) override;
  int64_t num_ws() const { return synthesis->num_ws(); }
  // w [N, w_dim] -> ws [N, num_ws, w_dim] (a broadcast view).
  Tensor broadcast(const Tensor& w) const;
  // Training ws from z, drawing the mixing decision, cutoff and z2 from `generator`; updates
  // w_avg when in training mode (not for z2, as StyleGAN2). z holds this process's rows of the
  // global batch (see StepContext::shard); z2 is drawn for the whole global batch and sliced.
  MixedStyles mix_styles(const Tensor& z, float style_mixing_prob, Generator& generator,
                         const data::Shard& shard = {});

  std::shared_ptr<nn::MappingNetwork> mapping;
  std::shared_ptr<SynthesisNetwork> synthesis;
};

// StyleGAN2's resnet DiscriminatorBlock: (fromrgb 1x1 at the top resolution), conv0 3x3,
// conv1 3x3 with 2x downsampling, skip 1x1 with 2x downsampling and no bias; the two paths are
// summed with gain sqrt(0.5). Downsampling is a 2x2 average pool ahead of the convolution.
class DiscriminatorBlock : public nn::Module {
 public:
  DiscriminatorBlock(int64_t in_channels, int64_t tmp_channels, int64_t out_channels,
                     int64_t img_channels, Generator& generator);
  std::string name() const override { return "DiscriminatorBlock"; }
  using Module::forward;
  // x: features (undefined at the top block), img: the image; returns the block's features.
  Tensor forward(const Tensor& x, const Tensor& img);
  std::shared_ptr<nn::Conv2d> fromrgb, conv0, conv1, skip;
};

// At 4x4: minibatch stddev (group 4, 1 channel), conv 3x3, fc, out -> [N] logits.
class DiscriminatorEpilogue : public nn::Module {
 public:
  DiscriminatorEpilogue(int64_t in_channels, Generator& generator);
  std::string name() const override { return "DiscriminatorEpilogue"; }
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::MinibatchStdDev> mbstd;
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::Linear> fc, out;
};

// With options.pack = P > 1, P consecutive images are judged together as one sample of P * C
// channels (PacGAN): D sees whether a set of images is as varied as a set of real ones, which
// keeps a generator from collapsing onto one output; fromrgb then takes P * C channels.
class StyleGanDiscriminator : public nn::Module {
 public:
  StyleGanDiscriminator(const GanOptions& options, Generator& generator);
  std::string name() const override { return "StyleGanDiscriminator"; }
  // images [N, C, R, R] with N a multiple of pack -> logits [N / pack].
  Tensor forward(const Tensor& img) override;
  const int64_t resolution, img_channels, pack;

 private:
  std::vector<std::shared_ptr<DiscriminatorBlock>> blocks_;
  std::shared_ptr<DiscriminatorEpilogue> epilogue_;
};

class StyleGanLite : public Gan {
 public:
  StyleGanLite(const GanOptions& options, Generator& generator);

  nn::Module& generator() override { return *g_; }
  nn::Module& discriminator() override { return *d_; }
  nn::Module* generator_ema() override { return g_ema_.get(); }
  // lr 0.0025, betas (0, 0.99), EMA half-life 10k images at batch 32. Lazy R1 keeps the Adam
  // settings of the main loss (StyleGAN2's mb_ratio correction, 16/17 here, is left out).
  TrainDefaults train_defaults() const override;

  // Constant noise, no mixing, no w_avg update; labels are ignored (unconditional).
  Tensor generate(const Tensor& z, const Tensor& labels, bool ema = false,
                  float truncation = 1.f) override;
  // x [N, C, R, R] -> logits [N / pack].
  Tensor discriminate(const Tensor& x, const Tensor& labels) override;
  // Non-saturating D loss; on steps that are multiples of r1_interval also
  // r1_interval * r1_penalty(D, real, r1_gamma). Logs d_loss, d_real, d_fake and, on those
  // steps, r1 (the penalty before the interval weight).
  LossResult discriminator_loss(const Tensor& real, const Tensor& labels,
                                StepContext& ctx) override;
  // Non-saturating G loss with style mixing and random noise. Logs g_loss.
  LossResult generator_loss(int64_t batch, const Tensor& labels, StepContext& ctx) override;

  // For the apps: the networks and their parts, live or EMA.
  StyleGanGenerator& g(bool ema = false) { return ema ? *g_ema_ : *g_; }
  StyleGanDiscriminator& d() { return *d_; }
  int64_t num_ws() const { return g_->num_ws(); }
  // z [N, latent_dim] -> w [N, w_dim] with truncation psi; no w_avg update.
  Tensor mapping(const Tensor& z, float truncation = 1.f, bool ema = false);
  // ws [N, num_ws, w_dim] -> images.
  Tensor synthesis(const Tensor& ws, bool ema = false, nn::NoiseMode mode = nn::NoiseMode::Const,
                   Generator* generator = nullptr);

 private:
  std::shared_ptr<StyleGanGenerator> g_, g_ema_;
  std::shared_ptr<StyleGanDiscriminator> d_;
};

// Validates the stylegan-lite options (arch "stylegan-lite", unconditional, resolution a power
// of two >= 8, ...) and builds the model, parameters drawn from `generator`.
std::unique_ptr<Gan> make_stylegan_lite(const GanOptions& options, Generator& generator);

}  // namespace ge::models
