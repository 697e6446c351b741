#pragma once
// The loss steps dcgan, cgan, wgan-gp, sngan and the MLP variants share: fakes from latents
// drawn from the step's generator, D on real and (detached) fake batches, and one of the
// standard objectives. Subclasses supply the networks through generate() and discriminate().
#include "ganengine/models/gan.h"

namespace ge::models {

enum class Objective {
  NonSaturating,  // nonsaturating_d_loss / nonsaturating_g_loss, with ctx.real_label
  Minimax,        // nonsaturating_d_loss / minimax_g_loss (options().loss "minimax")
  Hinge,          // hinge_d_loss / hinge_g_loss
  Wasserstein,    // wasserstein losses + options().gp_lambda * WGAN-GP gradient penalty
  // The original WGAN (Arjovsky et al. 2017): wasserstein losses without a penalty; RMSprop for
  // both networks and the critic's weights clipped to [-options().weight_clip, weight_clip]
  // after each of its updates (optimizer_groups).
  WassersteinClip,
};

class AdversarialGan : public Gan {
 public:
  Objective objective() const { return objective_; }
  TrainDefaults train_defaults() const override { return defaults_; }

  // Logs "d_loss", "d_real", "d_fake" (mean D outputs) and, for Wasserstein, "gp" and
  // "wasserstein" (mean real - mean fake score). Conditional models make their fakes with the
  // real batch's labels. With ctx.instance_noise > 0, D sees real and fake batches plus
  // Gaussian noise of that std (real's noise drawn first), here and in generator_loss.
  LossResult discriminator_loss(const Tensor& real, const Tensor& labels,
                                StepContext& ctx) override;
  // Logs "g_loss". A conditional model given no labels draws them uniformly from ctx.generator.
  LossResult generator_loss(int64_t batch, const Tensor& labels, StepContext& ctx) override;
  // Adam groups G and D (Gan's); WassersteinClip: RMSprop groups, D's with the weight clip.
  std::vector<OptimizerGroup> optimizer_groups(const TrainSettings& settings) override;
  bool supports_instance_noise() const override { return true; }

 protected:
  AdversarialGan(GanOptions options, Objective objective, TrainDefaults defaults)
      : Gan(std::move(options)),
        objective_(objective == Objective::NonSaturating && options_.loss == "minimax"
                       ? Objective::Minimax
                       : objective),
        defaults_(defaults) {}
  bool conditional() const { return options_.num_classes > 0; }

 private:
  Objective objective_;
  TrainDefaults defaults_;
};

}  // namespace ge::models
