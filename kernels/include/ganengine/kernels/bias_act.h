#pragma once
// Fused bias + activation + gain + clamp (StyleGAN2's bias_act), float32, contiguous buffers.
// One kernel per device serves three modes:
//   Forward      out = clamp(act(x + bias[c]) * gain, -clamp, clamp)        reads x, bias
//   Backward     out = dy * dy/dx, the derivative recovered from y          reads dy, y
//   SecondOrder  out = g * dy * d(dy/dx)/dy, the backward's derivative wrt y  reads g, y, dy
// where c = (i / inner) % channels. Backward and SecondOrder never need x: every supported
// activation has a derivative that is a function of its output, so autograd keeps y alone.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

enum class BiasActMode : int { Forward, Backward, SecondOrder };
enum class BiasActFn : int { Linear, Relu, LeakyRelu, Tanh, Sigmoid };

// alpha: LeakyRelu's negative slope, >= 0 (the sign of x is read from y). clamp < 0: none.
struct BiasActParams {
  BiasActFn act = BiasActFn::Linear;
  float alpha = 0.2f;
  float gain = 1.f;
  float clamp = -1.f;
};

// The buffers of one call; which ones are read depends on the mode (see above). bias may be
// null in Forward (no bias); channels and inner describe how it broadcasts.
struct BiasActArgs {
  const float* x = nullptr;     // Forward: x; Backward: dy; SecondOrder: g
  const float* bias = nullptr;  // Forward only
  const float* y = nullptr;     // Backward and SecondOrder: the forward's output
  const float* dy = nullptr;    // SecondOrder only: the backward's incoming gradient
  float* out = nullptr;
  int64_t n = 0;
  int64_t channels = 1;
  int64_t inner = 1;
};

const char* name(BiasActMode mode);
const char* name(BiasActFn act);

namespace cpu {
void bias_act(BiasActMode mode, const BiasActParams& p, const BiasActArgs& a);
}
namespace cuda {
GE_CUDA_LAUNCHER void bias_act(BiasActMode mode, const BiasActParams& p, const BiasActArgs& a,
                               Stream stream);
}

}  // namespace ge::kernels
