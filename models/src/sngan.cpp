#include "ganengine/models/sngan.h"

#include "gan_layers.h"
#include "ganengine/error.h"
#include "ganengine/nn/activation.h"
#include "ganengine/nn/batch_norm.h"
#include "ganengine/nn/conv.h"

namespace ge::models {

namespace {

constexpr float kSlope = 0.1f;  // the paper's LeakyReLU slope in D

template <class Layer>
std::shared_ptr<Layer> sn(std::shared_ptr<Layer> layer, Generator& generator) {
  return nn::spectral_norm(std::move(layer), SpectralNormOptions{}, &generator);
}

std::shared_ptr<nn::Conv2d> sn_conv(int64_t in, int64_t out, int64_t k, int64_t stride,
                                    int64_t padding, Generator& generator) {
  return sn(std::make_shared<nn::Conv2d>(in, out, k, Conv2dOptions(stride, padding),
                                         nn::LayerOptions{}, &generator),
            generator);
}

}  // namespace

SnganGenerator::SnganGenerator(int64_t latent_dim, int64_t channels, int64_t resolution,
                               int64_t width, Generator& generator)
    : latent_dim(latent_dim), base_channels(width * resolution / 4) {
  int64_t c = base_channels;
  fc = register_module(
      "fc", std::make_shared<nn::Linear>(latent_dim, 16 * c, nn::LayerOptions{}, &generator));
  main = register_module("main", std::make_shared<nn::Sequential>());
  main->push_back(std::make_shared<nn::BatchNorm2d>(c));
  main->push_back(detail::relu());
  for (int64_t side = 4; side < resolution; side *= 2, c /= 2) {
    main->push_back(std::make_shared<nn::ConvTranspose2d>(c, c / 2, 4, Conv2dOptions(2, 1),
                                                          nn::LayerOptions{}, &generator));
    main->push_back(std::make_shared<nn::BatchNorm2d>(c / 2));
    main->push_back(detail::relu());
  }
  main->push_back(std::make_shared<nn::Conv2d>(c, channels, 3, Conv2dOptions(1, 1),
                                               nn::LayerOptions{}, &generator));
  main->push_back(std::make_shared<nn::Tanh>());
}

Tensor SnganGenerator::forward(const Tensor& z) {
  detail::check_rows("SnganGenerator", z, latent_dim);
  return main->forward(fc->forward(z).view({z.size(0), base_channels, 4, 4}));
}

SnganDiscriminator::SnganDiscriminator(int64_t channels, int64_t resolution, int64_t width,
                                       Generator& generator)
    : channels(channels), resolution(resolution) {
  main = register_module("main", std::make_shared<nn::Sequential>());
  int64_t in = channels, c = width;
  for (int64_t side = resolution; side > 4; side /= 2, in = c, c *= 2) {
    main->push_back(sn_conv(in, c, 3, 1, 1, generator));
    main->push_back(std::make_shared<nn::LeakyReLU>(kSlope));
    main->push_back(sn_conv(c, c, 4, 2, 1, generator));
    main->push_back(std::make_shared<nn::LeakyReLU>(kSlope));
  }
  main->push_back(sn_conv(in, c, 3, 1, 1, generator));
  main->push_back(std::make_shared<nn::LeakyReLU>(kSlope));
  main->push_back(std::make_shared<nn::Flatten>());
  main->push_back(
      sn(std::make_shared<nn::Linear>(16 * c, 1, nn::LayerOptions{}, &generator), generator));
}

Tensor SnganDiscriminator::forward(const Tensor& x) {
  detail::check_images("SnganDiscriminator", x, channels, resolution);
  return main->forward(x).view({x.size(0)});
}

namespace {

TrainDefaults sngan_defaults() {
  TrainDefaults t;
  t.g_lr = t.d_lr = 2e-4f;
  t.beta1 = 0.5f;
  t.beta2 = 0.999f;
  t.n_critic = 1;
  return t;
}

}  // namespace

Sngan::Sngan(const GanOptions& options, Generator& generator)
    : AdversarialGan(options, Objective::Hinge, sngan_defaults()) {
  g = std::make_shared<SnganGenerator>(options.latent_dim, options.channels, options.resolution,
                                       options.width, generator);
  d = std::make_shared<SnganDiscriminator>(options.channels, options.resolution, options.width,
                                           generator);
}

Tensor Sngan::generate(const Tensor& z, const Tensor& /*labels*/, bool /*ema*/,
                       float /*truncation*/) {
  return g->forward(z);
}

Tensor Sngan::discriminate(const Tensor& x, const Tensor& /*labels*/) {
  return d->forward(x);
}

}  // namespace ge::models
