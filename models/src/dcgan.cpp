#include "ganengine/models/dcgan.h"

#include "gan_layers.h"
#include "ganengine/error.h"
#include "ganengine/nn/activation.h"
#include "ganengine/nn/batch_norm.h"
#include "ganengine/nn/conv.h"

namespace ge::models {

namespace {

std::shared_ptr<nn::BatchNorm2d> batch_norm(int64_t channels, Generator& generator) {
  auto bn = std::make_shared<nn::BatchNorm2d>(channels);
  detail::dcgan_init(*bn, generator);
  return bn;
}

template <class Conv>
std::shared_ptr<Conv> conv(int64_t in, int64_t out, int64_t stride, int64_t padding, bool bias,
                           Generator& generator) {
  nn::LayerOptions o;
  o.bias = bias;
  auto layer = std::make_shared<Conv>(in, out, 4, Conv2dOptions(stride, padding), o, &generator);
  detail::dcgan_init(*layer, generator);
  return layer;
}

}  // namespace

TrainDefaults dcgan_train_defaults() {
  TrainDefaults t;
  t.g_lr = t.d_lr = 2e-4f;
  t.beta1 = 0.5f;
  t.beta2 = 0.999f;
  t.n_critic = 1;
  t.ema_beta = 0.f;
  return t;
}

std::shared_ptr<nn::Sequential> dcgan_generator_stack(int64_t in_features, int64_t channels,
                                                      int64_t resolution, int64_t width,
                                                      Generator& generator) {
  auto main = std::make_shared<nn::Sequential>();
  int64_t c = width * resolution / 8;
  main->push_back(conv<nn::ConvTranspose2d>(in_features, c, 1, 0, false, generator));
  main->push_back(batch_norm(c, generator));
  main->push_back(detail::relu());
  for (int64_t side = 4; side < resolution / 2; side *= 2, c /= 2) {
    main->push_back(conv<nn::ConvTranspose2d>(c, c / 2, 2, 1, false, generator));
    main->push_back(batch_norm(c / 2, generator));
    main->push_back(detail::relu());
  }
  main->push_back(conv<nn::ConvTranspose2d>(c, channels, 2, 1, false, generator));
  main->push_back(std::make_shared<nn::Tanh>());
  return main;
}

std::shared_ptr<nn::Sequential> dcgan_discriminator_features(int64_t channels, int64_t resolution,
                                                             int64_t width, bool batch_norm_on,
                                                             Generator& generator) {
  auto main = std::make_shared<nn::Sequential>();
  int64_t c = width;
  main->push_back(conv<nn::Conv2d>(channels, c, 2, 1, !batch_norm_on, generator));
  main->push_back(std::make_shared<nn::LeakyReLU>(0.2f));
  for (int64_t side = resolution / 2; side > 4; side /= 2, c *= 2) {
    main->push_back(conv<nn::Conv2d>(c, 2 * c, 2, 1, !batch_norm_on, generator));
    if (batch_norm_on) main->push_back(batch_norm(2 * c, generator));
    main->push_back(std::make_shared<nn::LeakyReLU>(0.2f));
  }
  return main;
}

DcganGenerator::DcganGenerator(int64_t latent_dim, int64_t channels, int64_t resolution,
                               int64_t width, Generator& generator)
    : latent_dim(latent_dim) {
  main = register_module("main",
                         dcgan_generator_stack(latent_dim, channels, resolution, width, generator));
}

Tensor DcganGenerator::forward(const Tensor& z) {
  detail::check_rows("DcganGenerator", z, latent_dim);
  return main->forward(z.view({z.size(0), latent_dim, 1, 1}));
}

DcganDiscriminator::DcganDiscriminator(int64_t channels, int64_t resolution, int64_t width,
                                       Generator& generator, bool batch_norm_on,
                                       int64_t minibatch_kernels, int64_t kernel_dim)
    : channels(channels), resolution(resolution) {
  main = register_module(
      "main", dcgan_discriminator_features(channels, resolution, width, batch_norm_on, generator));
  const int64_t features = width * resolution / 8;
  if (minibatch_kernels == 0) {
    main->push_back(conv<nn::Conv2d>(features, 1, 1, 0, !batch_norm_on, generator));
    return;
  }
  const int64_t flat = features * 4 * 4;  // the features end at 4x4
  minibatch = register_module("minibatch", std::make_shared<nn::MinibatchDiscrimination>(
                                               flat, minibatch_kernels, kernel_dim, &generator));
  head = register_module("head", std::make_shared<nn::Linear>(flat + minibatch_kernels, 1,
                                                              nn::LayerOptions{}, &generator));
}

Tensor DcganDiscriminator::forward(const Tensor& x) {
  detail::check_images("DcganDiscriminator", x, channels, resolution);
  const Tensor h = main->forward(x);
  if (!minibatch) return h.view({x.size(0)});
  return head->forward(minibatch->forward(h.flatten(1))).view({x.size(0)});
}

Dcgan::Dcgan(const GanOptions& options, Generator& generator)
    : AdversarialGan(options, Objective::NonSaturating, dcgan_train_defaults()) {
  g = std::make_shared<DcganGenerator>(options.latent_dim, options.channels, options.resolution,
                                       options.width, generator);
  d = std::make_shared<DcganDiscriminator>(options.channels, options.resolution, options.width,
                                           generator, true, options.minibatch_kernels,
                                           options.minibatch_kernel_dim);
}

Tensor Dcgan::generate(const Tensor& z, const Tensor& /*labels*/, bool /*ema*/,
                       float /*truncation*/) {
  return g->forward(z);
}

Tensor Dcgan::discriminate(const Tensor& x, const Tensor& /*labels*/) {
  return d->forward(x);
}

}  // namespace ge::models
