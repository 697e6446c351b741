#pragma once
// The base of Linear, Conv2d and ConvTranspose2d: a weight, an optional bias, equalized learning
// rate and spectral normalisation (torch.nn.utils.spectral_norm: the parameter becomes
// `weight_orig`, buffers `weight_u` and `weight_v` hold the power-iteration vectors, and every
// training-mode forward runs one power iteration).
#include <optional>

#include "ganengine/nn/layer_options.h"
#include "ganengine/nn/module.h"
#include "ganengine/spectral_norm.h"

namespace ge::nn {

class WeightLayer : public Module {
 public:
  Tensor weight;              // the stored weight (weight_orig under spectral norm)
  Tensor bias;                // undefined without bias
  Tensor weight_u, weight_v;  // spectral norm only

  const LayerOptions& options() const { return options_; }
  bool has_spectral_norm() const { return spectral_norm_.has_value(); }
  // The weight the forward uses: spectral-normalised and/or scaled by the equalized-lr gain.
  Tensor effective_weight();
  // The bias the forward uses (times lr_multiplier under equalized lr); undefined without bias.
  Tensor effective_bias() const;
  // Turns spectral norm on (once). dim: 0 for Linear/Conv2d, 1 for ConvTranspose2d (chosen by
  // the layer when not given).
  void apply_spectral_norm(SpectralNormOptions options = {}, Generator* generator = nullptr);

 protected:
  // weight_shape: the PyTorch layout; `fan_in` for the init and the equalized-lr gain.
  WeightLayer(const Shape& weight_shape, int64_t bias_size, int64_t fan_in,
              const LayerOptions& options, Generator* generator, int64_t spectral_norm_dim);

 private:
  LayerOptions options_;
  float weight_gain_ = 1.f;
  int64_t spectral_norm_dim_ = 0;
  std::optional<SpectralNormOptions> spectral_norm_;
};

// torch.nn.utils.spectral_norm(layer): applies spectral norm to `layer` and returns it.
template <class Layer>
std::shared_ptr<Layer> spectral_norm(std::shared_ptr<Layer> layer, SpectralNormOptions options = {},
                                     Generator* generator = nullptr) {
  layer->apply_spectral_norm(options, generator);
  return layer;
}

}  // namespace ge::nn
