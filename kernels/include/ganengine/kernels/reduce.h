#pragma once
// Reductions of a contiguous buffer viewed as [outer, r, inner] over the middle axis,
// giving a contiguous [outer, inner] result. Any reduction over one dim, or over a run of
// adjacent dims, is one call; the engine chains calls for non-adjacent dims.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

enum class ReduceOp : int { Sum, Mean, Max, Min };

const char* name(ReduceOp op);

namespace cpu {
void reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t r, int64_t inner);
}
namespace cuda {
GE_CUDA_LAUNCHER void reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t r,
                             int64_t inner, Stream stream);
}

}  // namespace ge::kernels
