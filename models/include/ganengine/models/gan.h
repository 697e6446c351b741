#pragma once
// The interface every GAN architecture implements, so one trainer, one checkpoint format and one
// set of command-line tools serve them all.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "ganengine/nn/module.h"
#include "ganengine/random.h"
#include "ganengine/tensor.h"

namespace ge::models {

// Architecture and loss settings. Saved in every checkpoint (as JSON), so a checkpoint rebuilds
// its model without the command line that made it.
struct GanOptions {
  // "dcgan", "cgan", "wgan-gp", "sngan", "stylegan-lite"; "gan-mlp", "dcgan-mlp", "wgan-gp-mlp",
  // "sngan-mlp" for 2-D points.
  std::string arch = "dcgan";
  int64_t channels = 1;     // image channels; 0 for 2-D points
  int64_t resolution = 32;  // image side, a power of two >= 8 (28x28 data is padded to 32)
  int64_t latent_dim = 100;
  int64_t num_classes = 0;  // > 0: conditional (cgan)
  int64_t width = 64;       // base channel count (images) or hidden width (MLPs)
  float gp_lambda = 10.f;   // wgan-gp
  // stylegan-lite
  int64_t w_dim = 128;
  int64_t mapping_layers = 4;
  float style_mixing_prob = 0.9f;
  float r1_gamma = 1.f;  // R1 weight; applied lazily every r1_interval steps
  int64_t r1_interval = 16;
  float w_avg_beta = 0.995f;  // tracked w average for the truncation trick
  // Samples the discriminator judges together (PacGAN, Lin et al. 2018): consecutive groups of
  // `pack` images enter D stacked along channels and get one score. 1: one score per image.
  int64_t pack = 1;

  std::string to_json() const;
  // Unknown keys are an error naming them; missing keys keep their defaults.
  static GanOptions from_json(const std::string& json);
};

// Learning-rate and schedule defaults an architecture is known to train with; the trainer's
// options start from them.
struct TrainDefaults {
  float g_lr = 2e-4f, d_lr = 2e-4f;
  float beta1 = 0.5f, beta2 = 0.999f;
  int64_t n_critic = 1;
  float ema_beta = 0.f;  // G EMA decay per step; 0: no EMA
};

// What a loss step returns: the scalar to differentiate and the values to log ("d_real", ...).
struct LossResult {
  Tensor loss;
  std::map<std::string, float> logs;
};

// Per-step inputs the losses need.
struct StepContext {
  int64_t step = 0;                // 0-based generator step
  Generator* generator = nullptr;  // latents, interpolation, noise: the trainer's stream
  float real_label = 1.f;          // < 1: one-sided label smoothing (non-saturating losses)
};

class Gan {
 public:
  virtual ~Gan() = default;
  const GanOptions& options() const { return options_; }
  virtual nn::Module& generator() = 0;
  virtual nn::Module& discriminator() = 0;
  // A second generator the trainer keeps as an exponential moving average; null when the
  // architecture has none.
  virtual nn::Module* generator_ema() { return nullptr; }
  virtual TrainDefaults train_defaults() const { return {}; }

  // [N, latent_dim] standard normal latents on `device`.
  Tensor sample_latent(int64_t n, Generator& generator, Device device) const;
  // Class ids for n samples: 0, 1, ..., num_classes-1 repeating (float32 [n]); undefined for
  // unconditional models.
  Tensor sample_labels(int64_t n, Device device) const;
  // G(z, labels) in [-1, 1] ([N, C, H, W] or [N, 2]); ema: the EMA generator when there is one.
  // truncation psi < 1 pulls toward the average style where the model supports it.
  virtual Tensor generate(const Tensor& z, const Tensor& labels, bool ema = false,
                          float truncation = 1.f) = 0;
  // D(x, labels) logits / critic values [N / options().pack] (one per image unless packed).
  virtual Tensor discriminate(const Tensor& x, const Tensor& labels) = 0;
  // The discriminator's loss for one step on a real batch (fakes drawn inside from
  // ctx.generator), including its regularisers (gradient penalty, R1) on the steps they run.
  virtual LossResult discriminator_loss(const Tensor& real, const Tensor& labels,
                                        StepContext& ctx) = 0;
  // The generator's loss for one step of `batch` samples (labels as sample_labels or drawn).
  virtual LossResult generator_loss(int64_t batch, const Tensor& labels, StepContext& ctx) = 0;

  // generator_ema() = lerp(generator(), generator_ema(), beta) for parameters; buffers copied.
  void update_ema(float beta);
  void to(Device device);
  Device device();

 protected:
  explicit Gan(GanOptions options) : options_(std::move(options)) {}
  GanOptions options_;
};

// Builds options.arch; parameters drawn from `generator`. Unknown arch or impossible options
// (resolution not a power of two, channels 0 for an image model, ...) throw ge::Error naming the
// option, the value and what is accepted.
std::unique_ptr<Gan> make_gan(const GanOptions& options, Generator& generator);

}  // namespace ge::models
