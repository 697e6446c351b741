#pragma once
// A GAN with one generator fed by latents (and labels) and one discriminator: networks G, D
// and, when kept, G_ema; optimizer groups G and D; each step n_critic D updates on fresh real
// batches, then one G update, then the EMA. DCGAN, cGAN, WGAN-GP, SNGAN, the MLP GANs and
// StyleGAN-lite implement it; the apps' generate, sample and eval work on any of them.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "ganengine/models/model.h"

namespace ge::models {

class Gan : public Model {
 public:
  virtual nn::Module& generator() = 0;
  virtual nn::Module& discriminator() = 0;
  // A second generator the trainer keeps as an exponential moving average; null when the
  // architecture has none.
  virtual nn::Module* generator_ema() { return nullptr; }

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

  // Model: the G/D alternation above.
  std::vector<std::pair<std::string, nn::Module*>> networks() override;
  std::vector<OptimizerGroup> optimizer_groups(const TrainSettings& settings) override;
  std::vector<Phase> schedule(const TrainSettings& settings) override;
  std::vector<DataSlot> data_slots() const override;
  void after_step(const StepContext& ctx, const TrainSettings& settings) override;
  // Image grids of G(fixed latents) (one row per class when conditional), or scatter plots of
  // 2-D samples over the real data.
  std::unique_ptr<Sampler> make_sampler(const SamplerInputs& inputs) override;

 protected:
  explicit Gan(GanOptions options) : Model(std::move(options)) {}
};

// make_model for an architecture that is a Gan; any other throws ge::Error naming it.
std::unique_ptr<Gan> make_gan(const GanOptions& options, Generator& generator);
// The model as a Gan; throws ge::Error naming `what` and the architecture otherwise.
Gan& as_gan(Model& model, const std::string& what);
std::unique_ptr<Gan> as_gan(std::unique_ptr<Model> model, const std::string& what);

}  // namespace ge::models
