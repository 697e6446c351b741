#pragma once
// 2-D padding of contiguous float32 planes [P, H, W] (P = N * C) by {left, right, top, bottom}
// with PyTorch's F.pad(mode='reflect' | 'replicate') index arithmetic. Along an axis with `lo`
// leading pad, output index o reads input i = o - lo mapped into [0, in):
//   reflect:    i < 0 -> -i, i >= in -> 2 (in - 1) - i   (the edge is not repeated; pad < in)
//   replicate:  clamp(i, 0, in - 1)
// Each backward is the forward's adjoint, written as a gather on both devices: every input
// element sums, in increasing output order, the output gradients that read it (at most three
// per axis for reflect, a run for replicate). No atomics, so results are bitwise reproducible,
// and the CPU and CUDA sums have the same order.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

enum class PadMode : int { Reflect, Replicate };

const char* name(PadMode mode);

// The size helpers are constexpr so that kernels can call them too (nvcc's relaxed constexpr).
struct PadShape {
  int64_t planes = 0;
  int64_t in_h = 0;
  int64_t in_w = 0;
  int64_t left = 0;
  int64_t right = 0;
  int64_t top = 0;
  int64_t bottom = 0;
  constexpr int64_t out_h() const { return in_h + top + bottom; }
  constexpr int64_t out_w() const { return in_w + left + right; }
  constexpr int64_t in_numel() const { return planes * in_h * in_w; }
  constexpr int64_t out_numel() const { return planes * out_h() * out_w(); }
};

namespace cpu {
void pad2d(PadMode mode, const float* x, float* y, const PadShape& s);
void pad2d_backward(PadMode mode, const float* dy, float* dx, const PadShape& s);
}  // namespace cpu

namespace cuda {
GE_CUDA_LAUNCHER void pad2d(PadMode mode, const float* x, float* y, const PadShape& s,
                            Stream stream);
GE_CUDA_LAUNCHER void pad2d_backward(PadMode mode, const float* dy, float* dx, const PadShape& s,
                                     Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
