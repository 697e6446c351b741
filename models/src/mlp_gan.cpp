#include "ganengine/models/mlp_gan.h"

#include "gan_layers.h"
#include "ganengine/error.h"
#include "ganengine/nn/activation.h"
#include "ganengine/models/wgan.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/minibatch_discrimination.h"
#include "ganengine/optim.h"

namespace ge::models {

namespace {

constexpr int64_t kHiddenLayers = 3;

std::shared_ptr<nn::Linear> linear(int64_t in, int64_t out, Generator& generator) {
  return std::make_shared<nn::Linear>(in, out, nn::LayerOptions{}, &generator);
}

Objective objective_of(const std::string& arch) {
  if (arch == "wgan-gp-mlp") return Objective::Wasserstein;
  if (arch == "wgan-mlp") return Objective::WassersteinClip;
  if (arch == "sngan-mlp") return Objective::Hinge;
  GE_CHECK(arch == "gan-mlp" || arch == "dcgan-mlp", "MlpGan: expected arch gan-mlp, dcgan-mlp, ",
           "wgan-mlp, wgan-gp-mlp or sngan-mlp, got \"", arch, "\"");
  return Objective::NonSaturating;
}

TrainDefaults defaults_of(const std::string& arch) {
  TrainDefaults t;
  if (arch == "wgan-mlp") return wgan_defaults();
  if (arch == "wgan-gp-mlp") {
    t.g_lr = t.d_lr = 1e-4f;
    t.beta1 = 0.5f;
    t.beta2 = 0.9f;
    t.n_critic = 5;
  } else if (arch == "sngan-mlp") {
    t.g_lr = t.d_lr = 2e-4f;
    t.beta1 = 0.5f;
    t.beta2 = 0.999f;
  } else {
    t.g_lr = t.d_lr = 1e-3f;
    t.beta1 = 0.5f;
    t.beta2 = 0.999f;
  }
  return t;
}

}  // namespace

MlpGenerator::MlpGenerator(int64_t latent_dim, int64_t width, bool batch_norm, Generator& generator)
    : latent_dim(latent_dim) {
  main = register_module("main", std::make_shared<nn::Sequential>());
  int64_t in = latent_dim;
  for (int64_t i = 0; i < kHiddenLayers; ++i, in = width) {
    main->push_back(linear(in, width, generator));
    if (batch_norm) main->push_back(std::make_shared<detail::BatchNorm1d>(width));
    main->push_back(detail::relu());
  }
  main->push_back(linear(width, 2, generator));
}

Tensor MlpGenerator::forward(const Tensor& z) {
  detail::check_rows("MlpGenerator", z, latent_dim);
  return main->forward(z);
}

MlpDiscriminator::MlpDiscriminator(int64_t width, bool spectral_norm, Generator& generator,
                                   int64_t minibatch_kernels, int64_t kernel_dim) {
  main = register_module("main", std::make_shared<nn::Sequential>());
  const auto add = [&](int64_t in, int64_t out) {
    auto layer = linear(in, out, generator);
    if (spectral_norm) nn::spectral_norm(layer, SpectralNormOptions{}, &generator);
    main->push_back(layer);
  };
  int64_t in = 2;
  for (int64_t i = 0; i < kHiddenLayers; ++i, in = width) {
    add(in, width);
    main->push_back(std::make_shared<nn::LeakyReLU>(0.2f));
  }
  if (minibatch_kernels > 0)
    main->push_back(std::make_shared<nn::MinibatchDiscrimination>(width, minibatch_kernels,
                                                                  kernel_dim, &generator));
  add(width + minibatch_kernels, 1);
}

Tensor MlpDiscriminator::forward(const Tensor& x) {
  detail::check_rows("MlpDiscriminator", x, 2);
  return main->forward(x).view({x.size(0)});
}

MlpGan::MlpGan(const GanOptions& options, Generator& generator)
    : AdversarialGan(options, objective_of(options.arch), defaults_of(options.arch)) {
  g = std::make_shared<MlpGenerator>(options.latent_dim, options.width, options.arch == "dcgan-mlp",
                                     generator);
  d = std::make_shared<MlpDiscriminator>(options.width, options.arch == "sngan-mlp", generator,
                                         options.minibatch_kernels, options.minibatch_kernel_dim);
  if (objective() == Objective::WassersteinClip)
    optim::clip_weights(d->parameters(), options.weight_clip);  // the critic starts clipped
}

Tensor MlpGan::generate(const Tensor& z, const Tensor& /*labels*/, bool /*ema*/,
                        float /*truncation*/) {
  return g->forward(z);
}

Tensor MlpGan::discriminate(const Tensor& x, const Tensor& /*labels*/) {
  return d->forward(x);
}

}  // namespace ge::models
