#pragma once
// bias_act's activations, gain and clamp from their definitions, in double. Header-only and
// engine-free so that the kernel tests (BiasActFn) and the op tests (Activation) share one
// reference: both enums name the same five functions.
#include <algorithm>
#include <cmath>

namespace ge::testing {

template <typename Act>
double act_ref(Act a, double u, double alpha) {
  switch (a) {
    case Act::Linear:
      return u;
    case Act::Relu:
      return u > 0 ? u : 0.0;
    case Act::LeakyRelu:
      return u > 0 ? u : alpha * u;
    case Act::Tanh:
      return std::tanh(u);
    case Act::Sigmoid:
      return 1.0 / (1.0 + std::exp(-u));
  }
  return NAN;
}

// StyleGAN2's defaults, written out here rather than read from the engine.
template <typename Act>
double default_gain_ref(Act a) {
  return a == Act::Relu || a == Act::LeakyRelu ? std::sqrt(2.0) : 1.0;
}

// clamp(act(u) * gain, -clamp, clamp) for the pre-activation u; clamp < 0: no clamp.
template <typename Act>
double epilogue_ref(Act a, double u, double alpha, double gain, double clamp) {
  const double y = act_ref(a, u, alpha) * gain;
  return clamp >= 0 ? std::min(std::max(y, -clamp), clamp) : y;
}

}  // namespace ge::testing
