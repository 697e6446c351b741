#pragma once
// Progressive GAN (Karras et al. 2018), named as the paper's networks: G and D grow from 4x4 to
// the model's resolution one doubling (a "stage") at a time. Each new block fades in: for
// options().fade_images real images the output of the new block is blended with the previous
// stage's (upsampled in G, downsampled in D) by a linear alpha from 0 to 1; then the stage
// trains at full strength for options().stable_images images (the first stage only that).
//   G: z -> pixel norm -> dense to 4x4 -> conv 3x3; per stage nearest 2x upsampling, two 3x3
//      convs; each conv with leaky ReLU 0.2 and pixel norm; a 1x1 toRGB per stage (linear).
//   D: a 1x1 fromRGB per stage; per stage two 3x3 convs and 2x2 average pooling; at 4x4 the
//      minibatch standard deviation, a 3x3 conv, a dense layer and the linear output.
// Every layer uses the equalized learning rate; channels as stylegan-lite's (at most `width`,
// halved per doubling above 16x16). Loss: WGAN-GP (lambda options().gp_lambda) plus the drift
// term 0.001 * mean(D(real)^2); Adam 1e-3, betas (0, 0.99), one D step per G step.
//
// Training images arrive at the model's resolution; D sees them average-pooled to the stage's
// side and, during a fade, blended with their own 2x-downsampled copy as G's output is (the
// paper's fade of the real images). generate() returns the stage's images nearest-upsampled to
// the model's resolution, so sample grids of every stage have one size. The stage and alpha
// follow from the images seen (step * batch) and are saved with the checkpoint.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/models/gan.h"
#include "ganengine/nn/conv.h"
#include "ganengine/nn/linear.h"

namespace ge::models {

// Where training stands: the stage (0 at 4x4) and the new block's weight alpha in [0, 1].
struct ProganProgress {
  int64_t stage = 0;
  float alpha = 1.f;
  bool operator==(const ProganProgress&) const = default;
};

// The progress after `images` real images, for a model of `stages` stages: stage 0 for
// stable_images images, then per stage fade_images images with alpha rising linearly from 0
// and stable_images at alpha 1; the last stage lasts.
ProganProgress progan_progress(int64_t images, int64_t stages, int64_t fade_images,
                               int64_t stable_images);

// One stage of G: at 4x4 dense (latent -> out * 16) and conv; above, nearest 2x upsampling and
// conv0, conv1. Pixel norm after each layer.
class ProganGeneratorBlock : public nn::Module {
 public:
  ProganGeneratorBlock(int64_t in, int64_t out, int64_t resolution, Generator& generator);
  std::string name() const override { return "ProganGeneratorBlock"; }
  Tensor forward(const Tensor& x) override;        // latents [N, in] at 4x4, else [N, in, r/2, r/2]
  std::shared_ptr<nn::Linear> dense;               // 4x4 only
  std::shared_ptr<nn::Conv2d> conv, conv0, conv1;  // conv at 4x4; conv0 and conv1 above
  const int64_t out_channels, resolution;
};

class ProganGenerator : public nn::Module {
 public:
  ProganGenerator(int64_t latent_dim, int64_t channels, int64_t resolution, int64_t width,
                  Generator& generator);
  std::string name() const override { return "ProganGenerator"; }
  // The last stage at full strength: [N, latent] -> [N, C, R, R].
  Tensor forward(const Tensor& z) override;
  // [N, latent] -> [N, C, 4 * 2^stage, 4 * 2^stage]: toRGB of the stage's block, blended with
  // the previous stage's toRGB upsampled when alpha < 1.
  Tensor forward(const Tensor& z, const ProganProgress& progress);
  int64_t stages() const { return static_cast<int64_t>(blocks.size()); }
  std::vector<std::shared_ptr<ProganGeneratorBlock>> blocks;  // "b4", "b8", ...
  std::vector<std::shared_ptr<nn::Conv2d>> torgb;             // "torgb4", "torgb8", ...
  const int64_t latent_dim, channels;
};

// One stage of D above 4x4: conv0 (in -> in), conv1 (in -> out), 2x2 average pooling.
class ProganDiscriminatorBlock : public nn::Module {
 public:
  ProganDiscriminatorBlock(int64_t in, int64_t out, Generator& generator);
  std::string name() const override { return "ProganDiscriminatorBlock"; }
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Conv2d> conv0, conv1;
};

// D's 4x4 end: minibatch stddev (group 4), conv 3x3, dense, linear output.
class ProganDiscriminatorEpilogue : public nn::Module {
 public:
  ProganDiscriminatorEpilogue(int64_t in, Generator& generator);
  std::string name() const override { return "ProganDiscriminatorEpilogue"; }
  Tensor forward(const Tensor& x) override;  // [N, in, 4, 4] -> [N]
  std::shared_ptr<nn::Module> mbstd;
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::Linear> dense, out;
};

class ProganDiscriminator : public nn::Module {
 public:
  ProganDiscriminator(int64_t channels, int64_t resolution, int64_t width, Generator& generator);
  std::string name() const override { return "ProganDiscriminator"; }
  // The last stage at full strength: [N, C, R, R] -> [N].
  Tensor forward(const Tensor& x) override;
  // Images at the stage's side [N, C, 4 * 2^stage, ...] -> [N]; when alpha < 1 the stage's
  // block output is blended with the previous stage's fromRGB of the 2x-pooled images.
  Tensor forward(const Tensor& x, const ProganProgress& progress);
  int64_t stages() const { return static_cast<int64_t>(fromrgb.size()); }
  std::vector<std::shared_ptr<nn::Conv2d>> fromrgb;  // "fromrgb4", "fromrgb8", ...
  // blocks[k] halves stage k's side (blocks[0] is null: stage 0 ends in the epilogue).
  std::vector<std::shared_ptr<ProganDiscriminatorBlock>> blocks;  // "b8", "b16", ...
  std::shared_ptr<ProganDiscriminatorEpilogue> epilogue;          // "b4"
  const int64_t channels, resolution;
};

class Progan : public Gan {
 public:
  Progan(const GanOptions& options, Generator& generator);
  nn::Module& generator() override { return *g; }
  nn::Module& discriminator() override { return *d; }
  TrainDefaults train_defaults() const override;

  const ProganProgress& progress() const { return progress_; }
  void set_progress(const ProganProgress& progress);
  // The progress at the start of step ctx.step (images ctx.step * ctx.batch_size).
  ProganProgress progress_at(const StepContext& ctx) const;
  int64_t stage_resolution() const { return int64_t{4} << progress_.stage; }
  // Images of the model's resolution as D sees them now: average-pooled to the stage's side,
  // blended during a fade with their 2x-pooled copy upsampled.
  Tensor stage_images(const Tensor& x) const;

  // The stage's images upsampled (nearest) to the model's resolution; labels, ema, truncation
  // ignored.
  Tensor generate(const Tensor& z, const Tensor& labels, bool ema = false,
                  float truncation = 1.f) override;
  // D of stage_images(x).
  Tensor discriminate(const Tensor& x, const Tensor& labels) override;
  // Both move to progress_at(ctx) first. Logs d_loss, d_real, d_fake, wasserstein, gp, drift,
  // stage and alpha.
  LossResult discriminator_loss(const Tensor& real, const Tensor& labels,
                                StepContext& ctx) override;
  LossResult generator_loss(int64_t batch, const Tensor& labels, StepContext& ctx) override;

  // "progan.stage", "progan.alpha", "progan.resolution" (the side D's images are pooled to).
  std::map<std::string, Tensor> extra_state() const override;
  void load_extra_state(const std::map<std::string, Tensor>& state,
                        const std::string& file) override;

  std::shared_ptr<ProganGenerator> g;
  std::shared_ptr<ProganDiscriminator> d;

 private:
  ProganProgress progress_;
};

}  // namespace ge::models
