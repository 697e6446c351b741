#include "ganengine/models/gan.h"

#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "ganengine/optim.h"
#include "ganengine/models/train/trainer.h"
#include "train/samples.h"

namespace ge::models {

Tensor Gan::sample_latent(int64_t n, Generator& generator, Device device) const {
  GE_CHECK(n > 0, "Gan::sample_latent: expected n > 0, got ", n);
  return randn({n, options_.latent_dim}, device, &generator);
}

Tensor Gan::sample_labels(int64_t n, Device device) const {
  GE_CHECK(n > 0, "Gan::sample_labels: expected n > 0, got ", n);
  if (options_.num_classes <= 0) return Tensor();
  std::vector<float> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    ids[static_cast<size_t>(i)] = static_cast<float>(i % options_.num_classes);
  return from_vector(ids, {n}, device);
}

void Gan::update_ema(float beta) {
  nn::Module* ema = generator_ema();
  GE_CHECK(ema != nullptr, "Gan::update_ema: arch \"", options_.arch,
           "\" keeps no EMA generator (generator_ema() is null)");
  GE_CHECK(beta >= 0.f && beta <= 1.f, "Gan::update_ema: expected beta in [0, 1], got ", beta);
  optim::ema_update(ema->parameters(), generator().parameters(), beta);
  // Running statistics and power-iteration vectors are not averaged: the EMA generator uses
  // the live generator's, as StyleGAN2-ADA copies buffers.
  const auto src = generator().named_buffers();
  const auto dst = ema->named_buffers();
  GE_CHECK(src.size() == dst.size(), "Gan::update_ema: the EMA generator has ", dst.size(),
           " buffers, the generator ", src.size());
  NoGradGuard no_grad;
  for (size_t i = 0; i < src.size(); ++i) {
    Tensor d = dst[i].second;
    d.copy_(src[i].second);
  }
}

std::vector<std::pair<std::string, nn::Module*>> Gan::networks() {
  std::vector<std::pair<std::string, nn::Module*>> out = {{"G", &generator()},
                                                          {"D", &discriminator()}};
  if (nn::Module* ema = generator_ema()) out.emplace_back("G_ema", ema);
  return out;
}

std::vector<OptimizerGroup> Gan::optimizer_groups(const TrainSettings& s) {
  return {adam_group("G", "generator", {"G"}, s.g_lr, s),
          adam_group("D", "discriminator", {"D"}, s.d_lr, s)};
}

std::vector<Phase> Gan::schedule(const TrainSettings& s) {
  const bool conditional = options_.num_classes > 0;
  auto labels_of = [conditional](const StepContext& ctx) {
    return conditional ? ctx.batch("real").labels : Tensor();
  };
  Phase d;
  d.group = "D";
  d.repeats = s.n_critic;
  d.draws_batch = true;
  d.loss_name = "d_loss";
  d.loss = [this, labels_of](StepContext& ctx) {
    return discriminator_loss(ctx.batch("real").x, labels_of(ctx), ctx);
  };
  Phase g;
  g.group = "G";
  g.loss_name = "g_loss";
  // A conditional generator step uses the last real batch's labels.
  g.loss = [this, labels_of](StepContext& ctx) {
    return generator_loss(ctx.batch_size, labels_of(ctx), ctx);
  };
  return {d, g};
}

std::vector<DataSlot> Gan::data_slots() const {
  const GanOptions& o = options_;
  DataSlot slot;
  slot.name = "real";
  slot.role = "real data";
  slot.sample_shape = o.channels == 0 ? Shape{2} : Shape{o.channels, o.resolution, o.resolution};
  slot.needs_labels = o.num_classes > 0;
  return {slot};
}

void Gan::after_step(const StepContext& ctx, const TrainSettings& s) {
  if (generator_ema()) update_ema(train::ema_decay(s.ema_beta, ctx.step));
}

std::unique_ptr<Sampler> Gan::make_sampler(const SamplerInputs& in) {
  auto it = in.datasets.find("real");
  GE_CHECK(it != in.datasets.end() && it->second, "Gan::make_sampler: arch ", options_.arch,
           " needs the data set of slot 'real'");
  return std::make_unique<train::SampleWriter>(*this, *it->second, in.grid_size, in.seed,
                                               in.device);
}

Gan& as_gan(Model& model, const std::string& what) {
  auto* gan = dynamic_cast<Gan*>(&model);
  GE_CHECK(gan != nullptr, what, ": arch ", model.options().arch,
           " is not a latent GAN (one generator fed by latents and one discriminator)");
  return *gan;
}

std::unique_ptr<Gan> as_gan(std::unique_ptr<Model> model, const std::string& what) {
  Gan& gan = as_gan(*model, what);
  model.release();
  return std::unique_ptr<Gan>(&gan);
}

}  // namespace ge::models
