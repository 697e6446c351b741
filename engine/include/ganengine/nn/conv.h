#pragma once
// Conv2d and ConvTranspose2d with PyTorch's weight layouts; a non-linear `act` is fused into the
// convolution (conv2d_bias_act / conv_transpose2d_bias_act).
#include "ganengine/conv.h"
#include "ganengine/nn/weight_layer.h"

namespace ge::nn {

// weight [out, in/groups, k, k], bias [out].
class Conv2d : public WeightLayer {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
         const Conv2dOptions& conv = {}, const LayerOptions& options = {},
         Generator* generator = nullptr);
  std::string name() const override { return "Conv2d"; }
  Tensor forward(const Tensor& x) override;
  const int64_t in_channels, out_channels, kernel_size;
  const Conv2dOptions conv;
};

// weight [in, out/groups, k, k], bias [out]; spectral norm along dim 1 (as PyTorch).
class ConvTranspose2d : public WeightLayer {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                  const Conv2dOptions& conv = {}, const LayerOptions& options = {},
                  Generator* generator = nullptr);
  std::string name() const override { return "ConvTranspose2d"; }
  Tensor forward(const Tensor& x) override;
  const int64_t in_channels, out_channels, kernel_size;
  const Conv2dOptions conv;
};

}  // namespace ge::nn
