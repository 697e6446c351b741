#pragma once
// Options shared by the weight layers (Linear, Conv2d, ConvTranspose2d).
#include "ganengine/bias_act.h"

namespace ge::nn {

struct LayerOptions {
  bool bias = true;
  // StyleGAN's equalized learning rate: the weight is stored N(0, 1) / lr_multiplier and scaled
  // at run time by lr_multiplier / sqrt(fan_in); the bias by lr_multiplier. Off: PyTorch's
  // default init (kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))).
  bool equalized_lr = false;
  float lr_multiplier = 1.f;
  float bias_init = 0.f;  // equalized_lr only (StyleGAN's affine layers start at 1)
  // Fused bias + activation + gain + clamp after the layer (bias_act); Linear: no activation.
  BiasActOptions act{};
};

}  // namespace ge::nn
