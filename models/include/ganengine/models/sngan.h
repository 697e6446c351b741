#pragma once
// SNGAN (Miyato et al. 2018) with the paper's "standard CNN" (its Table 3, CIFAR-10 at R = 32,
// width 64), generalised to any resolution R: the channel count at side r is width * R / r.
//   G: fc = Linear(latent, 4*4*c) -> [N, c, 4, 4]; main: BN, ReLU, then ConvT k4 s2 p1 + BN +
//      ReLU doubling the side up to R, Conv k3 s1 p1 to `channels`, Tanh.
//   D: main: at each side r from R down to 8, Conv k3 s1 p1 and Conv k4 s2 p1, each + LeakyReLU
//      (0.1); at 4x4 Conv k3 s1 p1 to 2c + LeakyReLU; Flatten; Linear to one logit. Every conv and
//      linear spectrally normalised ("weight_orig", "weight_u", "weight_v", as PyTorch).
// PyTorch's default initialisation. Hinge loss. Adam lr 2e-4, betas (0.5, 0.999), one D step per
// G step: setting C of the paper's Table 1 (the DCGAN optimiser settings), under which its
// spectrally normalised standard CNN trains without the extra critic steps WGAN-GP needs.
#include <cstdint>
#include <memory>

#include "ganengine/models/adversarial_gan.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/sequential.h"

namespace ge::models {

class SnganGenerator : public nn::Module {
 public:
  SnganGenerator(int64_t latent_dim, int64_t channels, int64_t resolution, int64_t width,
                 Generator& generator);
  std::string name() const override { return "SnganGenerator"; }
  Tensor forward(const Tensor& z) override;  // [N, latent] -> [N, C, R, R] in [-1, 1]
  std::shared_ptr<nn::Linear> fc;
  std::shared_ptr<nn::Sequential> main;
  const int64_t latent_dim, base_channels;
};

class SnganDiscriminator : public nn::Module {
 public:
  SnganDiscriminator(int64_t channels, int64_t resolution, int64_t width, Generator& generator);
  std::string name() const override { return "SnganDiscriminator"; }
  Tensor forward(const Tensor& x) override;  // [N, C, R, R] -> logits [N]
  std::shared_ptr<nn::Sequential> main;
  const int64_t channels, resolution;
};

class Sngan : public AdversarialGan {
 public:
  Sngan(const GanOptions& options, Generator& generator);
  nn::Module& generator() override { return *g; }
  nn::Module& discriminator() override { return *d; }
  Tensor generate(const Tensor& z, const Tensor& labels, bool ema = false,
                  float truncation = 1.f) override;
  Tensor discriminate(const Tensor& x, const Tensor& labels) override;
  std::shared_ptr<SnganGenerator> g;
  std::shared_ptr<SnganDiscriminator> d;
};

}  // namespace ge::models
