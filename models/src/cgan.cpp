#include "ganengine/models/cgan.h"

#include "gan_layers.h"
#include "ganengine/error.h"
#include "ganengine/models/dcgan.h"
#include "ganengine/nn/init.h"
#include "ganengine/ops.h"

namespace ge::models {

CganGenerator::CganGenerator(int64_t latent_dim, int64_t num_classes, int64_t channels,
                             int64_t resolution, int64_t width, Generator& generator)
    : latent_dim(latent_dim), num_classes(num_classes) {
  GE_CHECK(num_classes > 0, "CganGenerator: expected num_classes > 0, got ", num_classes);
  label_emb = register_module(
      "label_emb", std::make_shared<nn::Embedding>(num_classes, num_classes, &generator));
  main = register_module("main", dcgan_generator_stack(latent_dim + num_classes, channels,
                                                       resolution, width, generator));
}

Tensor CganGenerator::forward(const Tensor& z, const Tensor& labels) {
  detail::check_rows("CganGenerator", z, latent_dim);
  detail::check_labels("CganGenerator", labels, z.size(0), z.device());
  const Tensor input = cat({z, label_emb->forward(labels)}, 1);
  return main->forward(input.view({z.size(0), latent_dim + num_classes, 1, 1}));
}

CganDiscriminator::CganDiscriminator(int64_t num_classes, int64_t channels, int64_t resolution,
                                     int64_t width, Generator& generator)
    : num_classes(num_classes), channels(channels), resolution(resolution) {
  GE_CHECK(num_classes > 0, "CganDiscriminator: expected num_classes > 0, got ", num_classes);
  const int64_t features = width * resolution / 8;
  main = register_module(
      "main", dcgan_discriminator_features(channels, resolution, width, true, generator));
  linear = register_module(
      "linear", std::make_shared<nn::Linear>(features, 1, nn::LayerOptions{}, &generator));
  detail::dcgan_init(*linear, generator);
  embed =
      register_module("embed", std::make_shared<nn::Embedding>(num_classes, features, &generator));
  // N(0, 1) class vectors against ~16 summed feature positions would start D far from 0.
  nn::init::normal_(embed->weight, 0.f, 0.02f, &generator);
}

Tensor CganDiscriminator::forward(const Tensor& x, const Tensor& labels) {
  detail::check_images("CganDiscriminator", x, channels, resolution);
  detail::check_labels("CganDiscriminator", labels, x.size(0), x.device());
  const Tensor phi = main->forward(x).sum({2, 3});  // global sum pooling
  const Tensor projection = sum(embed->forward(labels) * phi, {1});
  return linear->forward(phi).view({x.size(0)}) + projection;
}

Cgan::Cgan(const GanOptions& options, Generator& generator)
    : AdversarialGan(options, Objective::NonSaturating, dcgan_train_defaults()) {
  GE_CHECK(options.num_classes > 0, "cgan: expected num_classes > 0 (a conditional model), got ",
           options.num_classes);
  g = std::make_shared<CganGenerator>(options.latent_dim, options.num_classes, options.channels,
                                      options.resolution, options.width, generator);
  d = std::make_shared<CganDiscriminator>(options.num_classes, options.channels, options.resolution,
                                          options.width, generator);
}

Tensor Cgan::generate(const Tensor& z, const Tensor& labels, bool /*ema*/, float /*truncation*/) {
  return g->forward(z, labels);
}

Tensor Cgan::discriminate(const Tensor& x, const Tensor& labels) {
  return d->forward(x, labels);
}

}  // namespace ge::models
