#pragma once
// WGAN-GP (Gulrajani et al. 2017) on the DCGAN layout: the DCGAN generator (with batch norm) and
// a critic with the DCGAN discriminator's convolutions but no batch norm (it would couple the
// samples whose per-sample input gradients the penalty constrains) and with biases; its last
// convolution gives one score per sample. Loss: Wasserstein + gp_lambda * gradient penalty at
// random interpolates (alpha from ctx.generator). Adam lr 1e-4, betas (0.0, 0.9), 5 critic steps
// per G step (the paper's Algorithm 1 defaults).
#include <memory>

#include "ganengine/models/adversarial_gan.h"
#include "ganengine/models/dcgan.h"

namespace ge::models {

class WganGp : public AdversarialGan {
 public:
  WganGp(const GanOptions& options, Generator& generator);
  nn::Module& generator() override { return *g; }
  nn::Module& discriminator() override { return *critic; }
  Tensor generate(const Tensor& z, const Tensor& labels, bool ema = false,
                  float truncation = 1.f) override;
  Tensor discriminate(const Tensor& x, const Tensor& labels) override;
  std::shared_ptr<DcganGenerator> g;
  std::shared_ptr<DcganDiscriminator> critic;  // built with batch_norm = false

 protected:
  // The same networks under another objective (the original WGAN): a critic with batch norm,
  // and minibatch discrimination when the options ask for it.
  WganGp(const GanOptions& options, Generator& generator, Objective objective,
         TrainDefaults defaults, bool critic_batch_norm);
};

}  // namespace ge::models
