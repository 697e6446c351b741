#pragma once
// DCGAN (Radford et al. 2016), laid out as PyTorch's DCGAN example so state dicts carry its
// keys ("main.0.weight", ...). For resolution R the channel count at side r is width * R / (2r):
// R = 64 gives the example's ngf*8 at 4x4 down to ngf at 32x32.
//   G: z [N, latent] -> ConvT k4 s1 p0 to 4x4, BN, ReLU, then ConvT k4 s2 p1 (+ BN, ReLU) doubling
//      the side up to R, the last to `channels` and Tanh. Convolutions without bias.
//   D: Conv k4 s2 p1 + LeakyReLU(0.2) halving the side down to 4x4, batch norm in all but the
//      first, then Conv k4 s1 p0 to a 1x1 logit. Convolutions without bias.
// Weights N(0, 0.02), batch norm weights N(1, 0.02) (the paper's initialisation).
// Loss: non-saturating with one-sided label smoothing (ctx.real_label). Adam lr 2e-4,
// betas (0.5, 0.999), one D step per G step (the paper's settings).
#include <cstdint>
#include <memory>

#include "ganengine/models/adversarial_gan.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/minibatch_discrimination.h"
#include "ganengine/nn/sequential.h"

namespace ge::models {

// The generator stack from `in_features` latent channels ([N, in, 1, 1]) to [N, channels, R, R].
std::shared_ptr<nn::Sequential> dcgan_generator_stack(int64_t in_features, int64_t channels,
                                                      int64_t resolution, int64_t width,
                                                      Generator& generator);
// The discriminator's convolutions from [N, channels, R, R] to features [N, width * R / 8, 4, 4]
// (each followed by LeakyReLU(0.2); batch norm after all but the first when `batch_norm`;
// biases only without batch norm).
std::shared_ptr<nn::Sequential> dcgan_discriminator_features(int64_t channels, int64_t resolution,
                                                             int64_t width, bool batch_norm,
                                                             Generator& generator);

// Adam lr 2e-4, betas (0.5, 0.999), one D step per G step, no EMA (Radford et al.).
TrainDefaults dcgan_train_defaults();

class DcganGenerator : public nn::Module {
 public:
  DcganGenerator(int64_t latent_dim, int64_t channels, int64_t resolution, int64_t width,
                 Generator& generator);
  std::string name() const override { return "DcganGenerator"; }
  Tensor forward(const Tensor& z) override;  // [N, latent] -> [N, C, R, R] in [-1, 1]
  std::shared_ptr<nn::Sequential> main;
  const int64_t latent_dim;
};

// batch_norm false: the WGAN-GP critic (batch norm breaks the per-sample gradient penalty).
class DcganDiscriminator : public nn::Module {
 public:
  // minibatch_kernels > 0: the last conv's place is taken by minibatch discrimination over the
  // flattened features (B = minibatch_kernels, C = kernel_dim) and a Linear to one logit, as
  // the paper's and DCGAN-TensorFlow's discriminators end.
  DcganDiscriminator(int64_t channels, int64_t resolution, int64_t width, Generator& generator,
                     bool batch_norm = true, int64_t minibatch_kernels = 0, int64_t kernel_dim = 0);
  std::string name() const override { return "DcganDiscriminator"; }
  Tensor forward(const Tensor& x) override;  // [N, C, R, R] -> logits [N]
  std::shared_ptr<nn::Sequential> main;
  std::shared_ptr<nn::MinibatchDiscrimination> minibatch;  // null when off
  std::shared_ptr<nn::Linear> head;                        // null when off
  const int64_t channels, resolution;
};

class Dcgan : public AdversarialGan {
 public:
  Dcgan(const GanOptions& options, Generator& generator);
  nn::Module& generator() override { return *g; }
  nn::Module& discriminator() override { return *d; }
  // labels and truncation are ignored (unconditional, no style average).
  Tensor generate(const Tensor& z, const Tensor& labels, bool ema = false,
                  float truncation = 1.f) override;
  Tensor discriminate(const Tensor& x, const Tensor& labels) override;
  std::shared_ptr<DcganGenerator> g;
  std::shared_ptr<DcganDiscriminator> d;
};

}  // namespace ge::models
