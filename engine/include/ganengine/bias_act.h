#pragma once
// Fused bias + activation + gain + clamp, as StyleGAN2's bias_act:
//   y = clamp(act(x + b) * gain, -clamp, clamp)
// with b broadcast along `dim`. Differentiable to any order: the backward keeps y only (never a
// copy of x) and is itself a differentiable op.
#include <cstdint>
#include <optional>

#include "ganengine/tensor.h"

namespace ge {

enum class Activation { Linear, Relu, LeakyRelu, Tanh, Sigmoid };

struct BiasActOptions {
  Activation act = Activation::Linear;
  float alpha = 0.2f;         // LeakyRelu's negative slope; must be >= 0
  std::optional<float> gain;  // default: sqrt(2) for Relu and LeakyRelu, else 1
  float clamp = -1.f;         // < 0: no clamp
  int64_t dim = 1;            // the dim of x that bias runs along; may be negative
};

// The gain `options` resolves to.
float default_gain(Activation act);

// bias: undefined, or 1-D of size x.shape[dim] on x's device.
Tensor bias_act(const Tensor& x, const Tensor& bias, const BiasActOptions& options = {});

// PyTorch's leaky_relu: bias_act with no bias and gain 1.
Tensor leaky_relu(const Tensor& x, float negative_slope = 0.01f);

}  // namespace ge
