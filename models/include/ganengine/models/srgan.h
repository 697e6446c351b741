#pragma once
// SRResNet and SRGAN (Ledig et al. 2017): 4x single-image super-resolution. The generator is the
// paper's SRResNet: a 9x9 conv with PReLU, B residual blocks (conv, BN, PReLU, conv, BN) under a
// global skip, two sub-pixel x2 stages (conv, pixel shuffle, PReLU) and a 9x9 output conv. The
// discriminator is the paper's: eight 3x3 convs from 64 to 512 channels (stride 2 where the
// count doubles, and on the second of each pair), leaky ReLU 0.2 and batch norm, then dense 1024
// and dense 1. "srresnet" trains the generator alone on pixel MSE; "srgan" adds the
// discriminator and trains the generator on a content loss plus adversarial_weight (1e-3) times
// the adversarial loss, starting from a trained SRResNet (`gan train --init`).
//
// Training pairs are made on the device from the high-resolution crops the data slot "hr"
// holds: the low-resolution input is their bicubic downscale by 4 (antialiased, with the cubic
// a = -0.5 of MATLAB's imresize and PIL, which the super-resolution literature's data follows).
// Images are in [-1, 1] on both sides and the output is not squashed (the paper's SRResNet ends
// in the conv; `upscale` clamps nothing either, callers quantise).
//
// Content losses (GanOptions::content_loss): "mse", the pixel MSE; "features", the mean L1
// distance between the discriminator's conv features of the super-resolved and the real image,
// layer by layer (pix2pixHD's feature-matching loss, Wang et al. 2018). The paper's VGG19
// features cannot be had here (no pretrained network can be downloaded); the discriminator's
// features are a trained network's, they see texture as the adversarial game shapes it, and they
// need nothing outside the model.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/models/model.h"
#include "ganengine/nn/batch_norm.h"
#include "ganengine/nn/conv.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/prelu.h"
#include "ganengine/nn/sequential.h"

namespace ge::models {

inline constexpr int64_t kSrScale = 4;

// A k x k conv (padding k / 2) followed by a per-channel PReLU, fused (conv2d_prelu); `shuffle`
// > 1 puts a pixel shuffle between them (the sub-pixel stage: conv to shuffle^2 * out channels,
// shuffle, PReLU over out channels).
class ConvPReLU : public nn::Module {
 public:
  ConvPReLU(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t shuffle,
            Generator& generator);
  std::string name() const override { return "ConvPReLU"; }
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::PReLU> prelu;
  const int64_t shuffle;
};

// x + bn2(conv2(prelu(bn1(conv1(x))))), 3x3 convs; without batch norm (bn1, bn2 null):
// x + conv2(prelu(conv1(x))), the PReLU fused into conv1.
class SrResidualBlock : public nn::Module {
 public:
  SrResidualBlock(int64_t channels, bool batch_norm, Generator& generator);
  std::string name() const override { return "SrResidualBlock"; }
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::PReLU> prelu;
};

// How the generator is built beyond its size: GanOptions::sr_norm == "batch" and
// GanOptions::sr_skip == "bicubic".
struct SrGeneratorOptions {
  bool batch_norm = true;
  bool bicubic_skip = false;
};

// SRResNet: [N, C, h, w] -> [N, C, 4h, 4w], any h, w >= 1. With the bicubic skip, the output is
// bicubic x4 of the input (PIL's cubic, as `gan eval`'s bicubic) plus the network's.
class SrResNetGenerator : public nn::Module {
 public:
  SrResNetGenerator(int64_t channels, int64_t width, int64_t blocks,
                    const SrGeneratorOptions& options, Generator& generator);
  std::string name() const override { return "SrResNetGenerator"; }
  Tensor forward(const Tensor& x) override;
  // Low-resolution pixels on each side of an output region that its values depend on: tiles with
  // this much margin give the whole image's result.
  int64_t receptive_radius() const;
  std::shared_ptr<ConvPReLU> head;
  std::shared_ptr<nn::Sequential> blocks;
  std::shared_ptr<nn::Conv2d> body_conv;
  std::shared_ptr<nn::BatchNorm2d> body_bn;  // null without batch norm
  std::shared_ptr<nn::Sequential> upsample;
  std::shared_ptr<nn::Conv2d> tail;
  const int64_t channels, num_blocks;
  const SrGeneratorOptions options;
};

// The SRGAN discriminator on [N, C, R, R] -> logits [N, 1]; `width` 64 is the paper's.
class SrganDiscriminator : public nn::Module {
 public:
  SrganDiscriminator(int64_t channels, int64_t width, int64_t resolution, Generator& generator);
  std::string name() const override { return "SrganDiscriminator"; }
  Tensor forward(const Tensor& x) override;
  // The output of each of the eight conv stages (after its activation), then the logits.
  std::vector<Tensor> forward_features(const Tensor& x);
  std::vector<std::shared_ptr<nn::Sequential>> stages;
  std::shared_ptr<nn::Sequential> classifier;
  const int64_t resolution;
};

class SrGan : public Model {
 public:
  SrGan(const GanOptions& options, Generator& generator);

  bool adversarial() const { return d_ != nullptr; }
  // G(x): x [N, C, h, w] in [-1, 1] -> [N, C, 4h, 4w].
  Tensor upscale(const Tensor& x);
  // What the model trains on for high-resolution images hr [N, C, H, W] (H, W multiples of 4):
  // their antialiased bicubic downscale by 4.
  static Tensor downscale(const Tensor& hr);
  SrResNetGenerator& generator() { return *g_; }

  std::vector<std::pair<std::string, nn::Module*>> networks() override;
  // Adam 1e-4, betas (0.9, 0.999), batch 16, as the paper trains both.
  TrainDefaults train_defaults() const override;
  std::vector<OptimizerGroup> optimizer_groups(const TrainSettings& settings) override;
  // srresnet: G on the content loss (logged as g_loss, with psnr of the batch in dB).
  // srgan: G on content + adversarial_weight * BCE(D(G(lr)), 1) (logs content, g_adv), then D on
  // BCE(D(hr), 1) + BCE(D(G(lr)), 0) with that step's output (logs d_real, d_fake).
  std::vector<Phase> schedule(const TrainSettings& settings) override;
  // One slot "hr" of random crops at the model's resolution.
  std::vector<DataSlot> data_slots() const override;
  // Rows of 8 fixed crops: the low-resolution input (nearest x4), bicubic x4, the model's x4,
  // the original.
  std::unique_ptr<Sampler> make_sampler(const SamplerInputs& inputs) override;

 private:
  // The mean L1 distance between the discriminator's conv features `fake` (forward_features of
  // the super-resolved batch) and those of hr, stage by stage.
  Tensor feature_matching(const std::vector<Tensor>& fake, const Tensor& hr);

  std::shared_ptr<SrResNetGenerator> g_;
  std::shared_ptr<SrganDiscriminator> d_;  // srgan only
  Tensor sr_;                              // the generator phase's output, detached (srgan)
};

// model.upscale(x) of x [1, C, h, w], computed tile by tile: cores of `tile` x `tile` low-
// resolution pixels, each run with receptive_radius() pixels of margin (less at the image's
// edges) and its core's output kept, so the result is the whole image's up to float rounding and
// memory stays bounded for any size. tile <= 0, or one at least the image's sides: one pass.
// Runs without autograd; the caller sets eval mode.
Tensor upscale_tiled(SrGan& model, const Tensor& x, int64_t tile);

}  // namespace ge::models
