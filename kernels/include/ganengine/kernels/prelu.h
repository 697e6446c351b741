#pragma once
// PReLU with a learned slope per channel (or one shared), float32, contiguous buffers, as
// PyTorch's F.prelu. One kernel per device serves four modes, c = (i / inner) % channels:
//   Forward       out = x > 0 ? x : weight[c] * x        reads x, weight
//   Backward      out = x > 0 ? g : weight[c] * g        reads g, x, weight   (the input gradient)
//   WeightTerms   out = x > 0 ? 0 : g * x                reads g, x           (summed per channel:
//                                                                             the slope gradient)
//   NegativeMask  out = x > 0 ? 0 : g                    reads g, x           (second order)
// The backward modes read x, not y: the slope may be negative, so y's sign does not tell x's.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

enum class PreluMode : int { Forward, Backward, WeightTerms, NegativeMask };

struct PreluArgs {
  const float* x = nullptr;
  const float* g = nullptr;       // every mode but Forward
  const float* weight = nullptr;  // Forward and Backward: `channels` slopes
  float* out = nullptr;
  int64_t n = 0;
  int64_t channels = 1;
  int64_t inner = 1;
};

const char* name(PreluMode mode);

namespace cpu {
void prelu(PreluMode mode, const PreluArgs& a);
}
namespace cuda {
GE_CUDA_LAUNCHER void prelu(PreluMode mode, const PreluArgs& a, Stream stream);
}

}  // namespace ge::kernels
