#pragma once
// Bicubic resize of contiguous float32 planes [P, H, W] -> [P, OH, OW] (P = N * C), any sizes
// >= 1 up or down, as PyTorch 1.13's F.interpolate(size=(OH, OW), mode="bicubic") computes it:
//   antialias false: four taps around src = scale * (dst + 0.5) - 0.5 (align_corners false,
//     scale = float(in) / out) or src = scale * dst (true, scale = float(in - 1) / (out - 1)),
//     Keys' cubic with a = -0.75, tap indices clamped to the border;
//   antialias true: PIL's filter (a = -0.5) stretched by the scale when downscaling, over the
//     window [xmin, xmin + xsize) around center = scale * (dst + 0.5), weights normalised to sum
//     to one; the window is cut at the borders, not clamped.
// Both are separable and computed as ATen's antialiased kernel does: along W into a [P, H, OW]
// temporary, then along H. The backward is the exact adjoint of that composition: along H
// (adjoint) into a [P, H, OW] temporary, then along W (adjoint).
//
// Each call first builds per-axis tables: per output index its first tap, tap count and weights;
// per input index its first reading output, their count and the summed weights (border taps that
// clamp onto one input merge). The CUDA passes are then gathers that read these tables, so the
// sums have a fixed order and need no atomics: results are bitwise reproducible on a device.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

// The size helpers are constexpr so that kernels can call them too (nvcc's relaxed constexpr).
struct ResizeShape {
  int64_t planes = 0;
  int64_t in_h = 0;
  int64_t in_w = 0;
  int64_t out_h = 0;
  int64_t out_w = 0;
  bool align_corners = false;
  bool antialias = false;
  constexpr int64_t in_numel() const { return planes * in_h * in_w; }
  constexpr int64_t out_numel() const { return planes * out_h * out_w; }
  // The [P, H, OW] temporary between the two passes, in either direction.
  constexpr int64_t mid_numel() const { return planes * in_h * out_w; }
};

namespace cpu {
void resize_bicubic2d(const float* x, float* y, const ResizeShape& s);
// dx = R^T dy, the adjoint of resize_bicubic2d.
void resize_bicubic2d_backward(const float* dy, float* dx, const ResizeShape& s);
}  // namespace cpu

namespace cuda {
// Floats of workspace both launchers need (tables and the temporary); its contents need not be
// initialised.
GE_CUDA_LAUNCHER int64_t resize_bicubic2d_workspace(const ResizeShape& s);
GE_CUDA_LAUNCHER void resize_bicubic2d(const float* x, float* y, const ResizeShape& s,
                                       float* workspace, int64_t workspace_size, Stream stream);
GE_CUDA_LAUNCHER void resize_bicubic2d_backward(const float* dy, float* dx, const ResizeShape& s,
                                                float* workspace, int64_t workspace_size,
                                                Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
