#include "ganengine/nn/weight_layer.h"

#include <cmath>

#include "ganengine/error.h"
#include "ganengine/nn/init.h"
#include "ganengine/ops.h"

namespace ge::nn {

WeightLayer::WeightLayer(const Shape& weight_shape, int64_t bias_size, int64_t fan_in,
                         const LayerOptions& options, Generator* generator,
                         int64_t spectral_norm_dim)
    : options_(options), spectral_norm_dim_(spectral_norm_dim) {
  GE_CHECK(fan_in > 0, "WeightLayer: expected fan_in > 0, got ", fan_in, " for a weight of shape ",
           to_string(weight_shape));
  GE_CHECK(!options.equalized_lr || options.lr_multiplier > 0.f,
           "WeightLayer: expected lr_multiplier > 0 under equalized_lr, got ",
           options.lr_multiplier);
  Generator* gen = generator ? generator : &default_generator();
  weight = empty(weight_shape);
  if (options.bias) bias = empty({bias_size});
  if (options.equalized_lr) {
    // StyleGAN2-ADA: randn / lr_multiplier, scaled back at run time so Adam sees unit-scale
    // parameters whatever the fan-in.
    init::normal_(weight, 0.f, 1.f / options.lr_multiplier, gen);
    weight_gain_ = options.lr_multiplier / std::sqrt(static_cast<float>(fan_in));
    if (bias.defined()) bias.fill_(options.bias_init);
  } else {
    // kaiming_uniform_(a=sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the bias bound.
    const float bound = 1.f / std::sqrt(static_cast<float>(fan_in));
    init::uniform_(weight, -bound, bound, gen);
    if (bias.defined()) init::uniform_(bias, -bound, bound, gen);
  }
  register_parameter("weight", weight);
  if (bias.defined()) register_parameter("bias", bias);
}

Tensor WeightLayer::effective_weight() {
  Tensor w = weight;
  if (spectral_norm_) {
    SpectralNormOptions sn = *spectral_norm_;
    sn.training = is_training();
    w = ge::spectral_norm(weight, weight_u, weight_v, sn);
  }
  if (weight_gain_ != 1.f) w = w * weight_gain_;
  return w;
}

Tensor WeightLayer::effective_bias() const {
  if (!bias.defined()) return Tensor();
  if (options_.equalized_lr && options_.lr_multiplier != 1.f) return bias * options_.lr_multiplier;
  return bias;
}

void WeightLayer::apply_spectral_norm(SpectralNormOptions options, Generator* generator) {
  GE_CHECK(!spectral_norm_, name(), ": apply_spectral_norm: spectral norm is already applied");
  GE_CHECK(options.n_power_iterations >= 1, name(),
           ": apply_spectral_norm: expected n_power_iterations >= 1, got ",
           options.n_power_iterations);
  GE_CHECK(options.eps > 0.f, name(), ": apply_spectral_norm: expected eps > 0, got ", options.eps);
  // dim 0 is the options' default: the layer's own dim then applies (1 for ConvTranspose2d).
  if (options.dim == 0) options.dim = spectral_norm_dim_;
  auto [u, v] = spectral_norm_buffers(weight, options.dim, generator);
  rename_tensor("weight", "weight_orig");
  weight_u = u.to(weight.device());
  weight_v = v.to(weight.device());
  register_buffer("weight_u", weight_u);
  register_buffer("weight_v", weight_v);
  spectral_norm_ = options;
}

}  // namespace ge::nn
