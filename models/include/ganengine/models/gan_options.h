#pragma once
// The options that rebuild a model: architecture and loss settings, saved in every checkpoint.
#include <cstdint>
#include <string>

namespace ge::models {

// Architecture and loss settings. Saved in every checkpoint (as JSON), so a checkpoint rebuilds
// its model without the command line that made it.
struct GanOptions {
  // "dcgan", "cgan", "wgan-gp", "sngan", "stylegan-lite"; "gan-mlp", "dcgan-mlp", "wgan-gp-mlp",
  // "sngan-mlp" for 2-D points; "cyclegan" for unpaired image-to-image translation; "srresnet"
  // and "srgan" for 4x super-resolution.
  std::string arch = "dcgan";
  int64_t channels = 1;  // image channels; 0 for 2-D points
  // Image side, a power of two >= 8 (28x28 data is padded to 32); for super-resolution the side
  // of the high-resolution training crops, a multiple of the scale (SRGAN's 96).
  int64_t resolution = 32;
  int64_t latent_dim = 100;
  int64_t num_classes = 0;    // > 0: conditional (cgan)
  int64_t width = 64;         // base channel count (images) or hidden width (MLPs)
  float gp_lambda = 10.f;     // wgan-gp
  float weight_clip = 0.01f;  // wgan, wgan-mlp: the critic's weights stay in [-c, c]
  // The generator's loss where the objective is the logistic one (dcgan, cgan, gan-mlp,
  // dcgan-mlp): "" or "nonsaturating", -log D(G(z)) (the default); "minimax", Goodfellow et
  // al.'s saturating log(1 - D(G(z))), whose gradient vanishes once D rejects the fakes.
  std::string loss;
  // Minibatch discrimination (Salimans et al. 2016) before D's last layer: B kernels of C
  // dimensions (the paper: 100, 5); 0 kernels: off. dcgan, wgan and the MLP GANs.
  int64_t minibatch_kernels = 0;
  int64_t minibatch_kernel_dim = 0;
  // progan: real images over which each new stage fades in, and then trains at full strength
  // (the first stage only the latter).
  int64_t fade_images = 20000;
  int64_t stable_images = 20000;
  // stylegan-lite
  int64_t w_dim = 128;
  int64_t mapping_layers = 4;
  float style_mixing_prob = 0.9f;
  float r1_gamma = 1.f;  // R1 weight; applied lazily every r1_interval steps
  int64_t r1_interval = 16;
  float w_avg_beta = 0.995f;  // tracked w average for the truncation trick
  // Samples the discriminator judges together (PacGAN, Lin et al. 2018): consecutive groups of
  // `pack` images enter D stacked along channels and get one score. 1: one score per image.
  int64_t pack = 1;
  // cyclegan (Zhu et al. 2017; names as the reference's options): residual blocks of the
  // generators (6 for 128 px and below, 9 for 256), PatchGAN discriminator stride-2 layers (3:
  // the 70x70 PatchGAN; 0: the count whose receptive field is nearest 70/256 of the image side,
  // so 3 at 256 px and 1 at 32 px), the cycle weight lambda, the identity weight as a fraction
  // of lambda, and the fake-image pool size. cycle_noise: the standard deviation of Gaussian
  // noise added to each translation before the other generator maps it back in the cycle terms
  // (0: the reference's cycle). Noise keeps a generator from hiding its input in a translation's
  // faint detail, which lets a cycle return a digit that the translation relabelled (Chu et al.
  // 2017, "CycleGAN, a Master of Steganography").
  int64_t resnet_blocks = 6;
  int64_t d_layers = 0;
  float lambda_cycle = 10.f;
  float lambda_identity = 0.5f;
  int64_t pool_size = 50;
  float cycle_noise = 0.f;
  // srresnet / srgan (Ledig et al. 2017): residual blocks of the generator (16 in the paper), its
  // normalisation ("batch": the paper's batch norm; "none": EDSR's and ESRGAN's MSRResNet's, no
  // normalisation), its global skip ("none": the paper's; "bicubic": the output is the bicubic
  // x4 of the input plus the network's, so it learns the residual detail, as VDSR and
  // MSRResNet), the content loss ("mse": pixels; "features": the discriminator's features, see
  // srgan.h) and the adversarial weight of srgan's generator loss.
  int64_t sr_blocks = 16;
  std::string sr_norm = "batch";
  std::string sr_skip = "none";
  std::string content_loss = "mse";
  float adversarial_weight = 1e-3f;

  std::string to_json() const;
  // Unknown keys are an error naming them; missing keys keep their defaults.
  static GanOptions from_json(const std::string& json);
};

}  // namespace ge::models
