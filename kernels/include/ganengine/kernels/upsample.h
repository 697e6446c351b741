#pragma once
// 2-D upsampling of contiguous float32 planes [P, H, W] (P = N * C) by an integer scale s >= 1,
// with PyTorch's F.interpolate(scale_factor=s) index arithmetic:
//   nearest:   out[p, oh, ow] = x[p, floor(oh * float(1/s)), floor(ow * float(1/s))]
//   bilinear:  out[p, oh, ow] = the bilinear blend of the four taps around the source point
//              align_corners false: src = max(float(1/s) * (dst + 0.5) - 0.5, 0)
//              align_corners true:  src = (in - 1) / (out - 1) * dst
// Each backward is the forward's adjoint. On CUDA it is a gather (a thread per input pixel sums
// the output gradients whose taps read it); on the CPU a serial scatter. Both sum in a fixed
// order without atomics, so results are bitwise reproducible on a device.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

// The size helpers are constexpr so that kernels can call them too (nvcc's relaxed constexpr).
struct UpsampleShape {
  int64_t planes = 0;
  int64_t in_h = 0;
  int64_t in_w = 0;
  int64_t scale = 1;
  constexpr int64_t out_h() const { return in_h * scale; }
  constexpr int64_t out_w() const { return in_w * scale; }
  constexpr int64_t in_numel() const { return planes * in_h * in_w; }
  constexpr int64_t out_numel() const { return planes * out_h() * out_w(); }
};

namespace cpu {
void upsample_nearest2d(const float* x, float* y, const UpsampleShape& s);
void upsample_nearest2d_backward(const float* dy, float* dx, const UpsampleShape& s);
void upsample_bilinear2d(const float* x, float* y, const UpsampleShape& s, bool align_corners);
void upsample_bilinear2d_backward(const float* dy, float* dx, const UpsampleShape& s,
                                  bool align_corners);
}  // namespace cpu

namespace cuda {
GE_CUDA_LAUNCHER void upsample_nearest2d(const float* x, float* y, const UpsampleShape& s,
                                         Stream stream);
GE_CUDA_LAUNCHER void upsample_nearest2d_backward(const float* dy, float* dx,
                                                  const UpsampleShape& s, Stream stream);
GE_CUDA_LAUNCHER void upsample_bilinear2d(const float* x, float* y, const UpsampleShape& s,
                                          bool align_corners, Stream stream);
GE_CUDA_LAUNCHER void upsample_bilinear2d_backward(const float* dy, float* dx,
                                                   const UpsampleShape& s, bool align_corners,
                                                   Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
