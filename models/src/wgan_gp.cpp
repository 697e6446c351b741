#include "ganengine/models/wgan_gp.h"

#include "ganengine/error.h"

namespace ge::models {

namespace {

TrainDefaults wgan_gp_defaults() {
  TrainDefaults t;
  t.g_lr = t.d_lr = 1e-4f;
  t.beta1 = 0.f;
  t.beta2 = 0.9f;
  t.n_critic = 5;
  return t;
}

}  // namespace

WganGp::WganGp(const GanOptions& options, Generator& generator)
    : WganGp(options, generator, Objective::Wasserstein, wgan_gp_defaults(), false) {
  GE_CHECK(options.gp_lambda >= 0.f, "wgan-gp: expected gp_lambda >= 0, got ", options.gp_lambda);
}

WganGp::WganGp(const GanOptions& options, Generator& generator, Objective objective,
               TrainDefaults defaults, bool critic_batch_norm)
    : AdversarialGan(options, objective, defaults) {
  g = std::make_shared<DcganGenerator>(options.latent_dim, options.channels, options.resolution,
                                       options.width, generator);
  critic = std::make_shared<DcganDiscriminator>(
      options.channels, options.resolution, options.width, generator, critic_batch_norm,
      options.minibatch_kernels, options.minibatch_kernel_dim);
}

Tensor WganGp::generate(const Tensor& z, const Tensor& /*labels*/, bool /*ema*/,
                        float /*truncation*/) {
  return g->forward(z);
}

Tensor WganGp::discriminate(const Tensor& x, const Tensor& /*labels*/) {
  return critic->forward(x);
}

}  // namespace ge::models
