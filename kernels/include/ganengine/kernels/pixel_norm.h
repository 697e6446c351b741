#pragma once
// Pixel norm (StyleGAN's normalize_2nd_moment) of a contiguous float32 [outer, r, inner]
// tensor along its middle axis:
//   pixel_norm_forward   y  = x * rs,  rs = 1 / sqrt(mean_r(x^2) + eps)
//   pixel_norm_backward  dx = rs * (dy - y * mean_r(dy * y))
// The backward recomputes rs from x in the same pass that sums dy * x, so nothing but x is kept.
// Every row sum has a fixed combine order: results are bitwise reproducible on a device.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

// The size helpers are constexpr so that kernels can call them too (nvcc's relaxed constexpr).
struct PixelNormShape {
  int64_t outer = 0;
  int64_t r = 0;
  int64_t inner = 1;
  constexpr int64_t numel() const { return outer * r * inner; }
};

namespace cpu {
void pixel_norm_forward(const float* x, float* y, const PixelNormShape& s, float eps);
void pixel_norm_backward(const float* dy, const float* x, float* dx, const PixelNormShape& s,
                         float eps);
}  // namespace cpu

namespace cuda {
GE_CUDA_LAUNCHER void pixel_norm_forward(const float* x, float* y, const PixelNormShape& s,
                                         float eps, Stream stream);
GE_CUDA_LAUNCHER void pixel_norm_backward(const float* dy, const float* x, float* dx,
                                          const PixelNormShape& s, float eps, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
