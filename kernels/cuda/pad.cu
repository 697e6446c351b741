// CUDA pad, no atomics and no integer division. A block is a tile of rows: threadIdx.x walks a
// row (a warp covers 32 consecutive columns, so loads and stores coalesce), threadIdx.y picks
// the row within the tile, blockIdx.x the tile and blockIdx.y strides over the planes, so a row's
// source (forward) or readers (backward) are worked out once for every plane.
//   forward:  a thread per output element, reading its source through pad_source.
//   backward: a thread per input element gathering the output gradients that read it (one for
//             the interior; up to 3 x 3 for reflect, runs for replicate at the borders) in
//             common/pad.h's order.
#include <algorithm>
#include <cstdint>

#include "common/pad.h"
#include "cuda/launch.cuh"
#include "ganengine/kernels/pad.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxPlaneBlocks = 65535;  // gridDim.y's limit

template <PadMode M>
__global__ void __launch_bounds__(kThreads)
    pad2d_kernel(const float* __restrict__ x, float* __restrict__ y, PadShape s, PadAxis ah,
                 PadAxis aw) {
  const int64_t oh = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (oh >= ah.out) return;
  const int64_t ih = pad_source<M>(oh, ah);
  for (int64_t p = blockIdx.y; p < s.planes; p += gridDim.y) {
    const float* in = x + (p * s.in_h + ih) * s.in_w;
    float* out = y + (p * ah.out + oh) * aw.out;
    for (int64_t ow = threadIdx.x; ow < aw.out; ow += blockDim.x)
      out[ow] = __ldg(in + pad_source<M>(ow, aw));
  }
}

template <PadMode M>
__global__ void __launch_bounds__(kThreads)
    pad2d_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx, PadShape s,
                          PadAxis ah, PadAxis aw) {
  const int64_t h = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (h >= s.in_h) return;
  const PadReaders rh = pad_readers<M>(h, ah);
  for (int64_t p = blockIdx.y; p < s.planes; p += gridDim.y) {
    const float* g = dy + p * ah.out * aw.out;
    float* out = dx + (p * s.in_h + h) * s.in_w;
    for (int64_t w = threadIdx.x; w < s.in_w; w += blockDim.x)
      out[w] = pad_gather(g, aw.out, rh, pad_readers<M>(w, aw));
  }
}

// rows x width per plane: the block is as wide as the row (in warps, at most kThreads) and as
// tall as the rest of kThreads allows.
struct Tiling {
  dim3 grid, block;
};

Tiling tiling(int64_t planes, int64_t rows, int64_t width) {
  const int64_t bx = std::clamp<int64_t>((width + 31) / 32 * 32, 32, kThreads);
  const int64_t by = std::clamp<int64_t>(kThreads / bx, 1, rows);
  Tiling t;
  t.block = dim3(static_cast<unsigned>(bx), static_cast<unsigned>(by));
  t.grid = dim3(static_cast<unsigned>((rows + by - 1) / by),
                static_cast<unsigned>(std::min(planes, kMaxPlaneBlocks)));
  return t;
}

}  // namespace

void pad2d(PadMode mode, const float* x, float* y, const PadShape& s, Stream stream) {
  pad_check("pad2d", mode, s, x, y);
  if (s.out_numel() == 0) return;
  const Tiling t = tiling(s.planes, s.out_h(), s.out_w());
  if (mode == PadMode::Reflect) {
    GE_LAUNCH((pad2d_kernel<PadMode::Reflect>), t.grid, t.block, 0, stream, x, y, s, pad_axis_h(s),
              pad_axis_w(s));
  } else {
    GE_LAUNCH((pad2d_kernel<PadMode::Replicate>), t.grid, t.block, 0, stream, x, y, s,
              pad_axis_h(s), pad_axis_w(s));
  }
}

void pad2d_backward(PadMode mode, const float* dy, float* dx, const PadShape& s, Stream stream) {
  pad_check("pad2d_backward", mode, s, dx, dy);
  if (s.out_numel() == 0) return;
  const Tiling t = tiling(s.planes, s.in_h, s.in_w);
  if (mode == PadMode::Reflect) {
    GE_LAUNCH((pad2d_backward_kernel<PadMode::Reflect>), t.grid, t.block, 0, stream, dy, dx, s,
              pad_axis_h(s), pad_axis_w(s));
  } else {
    GE_LAUNCH((pad2d_backward_kernel<PadMode::Replicate>), t.grid, t.block, 0, stream, dy, dx, s,
              pad_axis_h(s), pad_axis_w(s));
  }
}

}  // namespace ge::kernels::cuda
