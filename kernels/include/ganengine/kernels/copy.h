#pragma once
// Strided-to-strided copy of one shape: contiguous(), permute/slice materialisation, cat, and
// writes into slices. Source and destination must not overlap.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

namespace cpu {
void strided_copy(const float* src, const Strides& src_strides, float* dst,
                  const Strides& dst_strides, const StridedShape& shape);
}
namespace cuda {
GE_CUDA_LAUNCHER void strided_copy(const float* src, const Strides& src_strides, float* dst,
                                   const Strides& dst_strides, const StridedShape& shape,
                                   Stream stream);
}

}  // namespace ge::kernels
