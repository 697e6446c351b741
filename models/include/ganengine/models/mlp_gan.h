#pragma once
// GANs on 2-D points (channels 0), for the mode-collapse experiments on Gaussian mixtures
// (ring of 8, grid of 25) in the style of Metz et al. (unrolled GAN), VEEGAN and PacGAN:
//   G: z [N, latent] -> 3 x (Linear(width), ReLU) -> Linear(2)
//   D: x [N, 2] -> 3 x (Linear(width), LeakyReLU(0.2)) -> Linear(1) -> logits [N]
// as torch.nn.Sequential `main` (keys "main.0.weight", ...), PyTorch's default initialisation.
//   gan-mlp      non-saturating loss; Adam lr 1e-3, betas (0.5, 0.999), 1 D step per G step
//   dcgan-mlp    the same with BatchNorm1d after each hidden Linear of G (DCGAN's normalisation)
//   wgan-mlp     Wasserstein, the critic's weights clipped to [-weight_clip, weight_clip];
//                RMSprop lr 5e-5, 5 critic steps (the original WGAN's settings)
//   wgan-gp-mlp  Wasserstein + gradient penalty (gp_lambda); Adam lr 1e-4, betas (0.5, 0.9),
//                5 critic steps (Gulrajani et al.'s toy-data settings)
//   sngan-mlp    spectral norm on every Linear of D, hinge loss; Adam lr 2e-4, betas (0.5,
//                0.999), 1 D step
// The 2-D setups of that literature use a small latent (PacGAN: 2; unrolled GAN: 256) and a few
// hundred hidden units (PacGAN: 400); GanOptions' image defaults (latent 100, width 64) also
// train, but width 400 with latent_dim 2 are the settings to compare with published figures.
#include <cstdint>
#include <memory>

#include "ganengine/models/adversarial_gan.h"
#include "ganengine/nn/sequential.h"

namespace ge::models {

class MlpGenerator : public nn::Module {
 public:
  MlpGenerator(int64_t latent_dim, int64_t width, bool batch_norm, Generator& generator);
  std::string name() const override { return "MlpGenerator"; }
  Tensor forward(const Tensor& z) override;  // [N, latent] -> [N, 2]
  std::shared_ptr<nn::Sequential> main;
  const int64_t latent_dim;
};

class MlpDiscriminator : public nn::Module {
 public:
  // minibatch_kernels > 0: a minibatch discrimination layer (B = minibatch_kernels, C =
  // kernel_dim) after the last hidden layer, the output Linear then reading width + B features.
  MlpDiscriminator(int64_t width, bool spectral_norm, Generator& generator,
                   int64_t minibatch_kernels = 0, int64_t kernel_dim = 0);
  std::string name() const override { return "MlpDiscriminator"; }
  Tensor forward(const Tensor& x) override;  // [N, 2] -> logits [N]
  std::shared_ptr<nn::Sequential> main;
};

// options.arch picks the variant: "gan-mlp", "dcgan-mlp", "wgan-mlp", "wgan-gp-mlp" or
// "sngan-mlp".
class MlpGan : public AdversarialGan {
 public:
  MlpGan(const GanOptions& options, Generator& generator);
  nn::Module& generator() override { return *g; }
  nn::Module& discriminator() override { return *d; }
  Tensor generate(const Tensor& z, const Tensor& labels, bool ema = false,
                  float truncation = 1.f) override;
  Tensor discriminate(const Tensor& x, const Tensor& labels) override;
  std::shared_ptr<MlpGenerator> g;
  std::shared_ptr<MlpDiscriminator> d;
};

}  // namespace ge::models
