#pragma once
// Whether a layer's BiasActOptions do anything beyond adding the bias, i.e. whether the layer
// must run bias_act (or the fused conv + bias_act) rather than its plain op with a bias.
#include "ganengine/bias_act.h"

namespace ge::nn::detail {

inline bool needs_bias_act(const BiasActOptions& act) {
  return act.act != Activation::Linear || (act.gain && *act.gain != 1.f) || act.clamp >= 0.f;
}

}  // namespace ge::nn::detail
