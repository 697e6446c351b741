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
    : AdversarialGan(options, Objective::Wasserstein, wgan_gp_defaults()) {
  GE_CHECK(options.gp_lambda >= 0.f, "wgan-gp: expected gp_lambda >= 0, got ", options.gp_lambda);
  g = std::make_shared<DcganGenerator>(options.latent_dim, options.channels, options.resolution,
                                       options.width, generator);
  critic = std::make_shared<DcganDiscriminator>(options.channels, options.resolution, options.width,
                                                generator, /*batch_norm=*/false);
}

Tensor WganGp::generate(const Tensor& z, const Tensor& /*labels*/, bool /*ema*/,
                        float /*truncation*/) {
  return g->forward(z);
}

Tensor WganGp::discriminate(const Tensor& x, const Tensor& /*labels*/) {
  return critic->forward(x);
}

}  // namespace ge::models
