#pragma once
// Class-conditional DCGAN (arch "cgan"; needs num_classes > 0).
//   G: label_emb = Embedding(num_classes, num_classes) (as PyTorch-GAN's cgan), concatenated to z,
//      then the DCGAN generator stack from latent_dim + num_classes inputs.
//   D: projection discriminator (Miyato & Koyama 2018): DCGAN convolutions to features h
//      [N, width * R / 8, 4, 4], summed over space to phi [N, c]; logit = linear(phi) +
//      <embed(y), phi>, embed = Embedding(num_classes, c).
// DCGAN initialisation (the projection embedding N(0, 0.02) too), non-saturating loss and
// DCGAN's Adam settings. Labels are float32 class ids [N]; generate() and discriminate() need
// them.
#include <cstdint>
#include <memory>

#include "ganengine/models/adversarial_gan.h"
#include "ganengine/nn/embedding.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/sequential.h"

namespace ge::models {

class CganGenerator : public nn::Module {
 public:
  CganGenerator(int64_t latent_dim, int64_t num_classes, int64_t channels, int64_t resolution,
                int64_t width, Generator& generator);
  std::string name() const override { return "CganGenerator"; }
  // z [N, latent], labels [N] -> [N, C, R, R] in [-1, 1].
  Tensor forward(const Tensor& z, const Tensor& labels);
  using nn::Module::forward;  // the single-input form throws: labels are needed
  std::shared_ptr<nn::Embedding> label_emb;
  std::shared_ptr<nn::Sequential> main;
  const int64_t latent_dim, num_classes;
};

class CganDiscriminator : public nn::Module {
 public:
  CganDiscriminator(int64_t num_classes, int64_t channels, int64_t resolution, int64_t width,
                    Generator& generator);
  std::string name() const override { return "CganDiscriminator"; }
  Tensor forward(const Tensor& x, const Tensor& labels);  // -> logits [N]
  using nn::Module::forward;
  std::shared_ptr<nn::Sequential> main;
  std::shared_ptr<nn::Linear> linear;
  std::shared_ptr<nn::Embedding> embed;
  const int64_t num_classes, channels, resolution;
};

class Cgan : public AdversarialGan {
 public:
  Cgan(const GanOptions& options, Generator& generator);
  nn::Module& generator() override { return *g; }
  nn::Module& discriminator() override { return *d; }
  Tensor generate(const Tensor& z, const Tensor& labels, bool ema = false,
                  float truncation = 1.f) override;
  Tensor discriminate(const Tensor& x, const Tensor& labels) override;
  std::shared_ptr<CganGenerator> g;
  std::shared_ptr<CganDiscriminator> d;
};

}  // namespace ge::models
