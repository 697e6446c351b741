#pragma once
// The per-element steps batch_norm and instance_norm share: both normalise a set of values (a
// channel over N * HW, or one plane) with the same formulas (common/batch_norm.h), one element
// at a time or, with Vec, four (16-byte aligned, within one row of the set), and size a set's
// block the same way.
#include <algorithm>
#include <cstdint>

#include "common/batch_norm.h"
#include "cuda/block_reduce.cuh"
#include "cuda/vec4.cuh"

namespace ge::kernels::cuda {

// y = (x - mean) * scale + bias at e.
template <bool Vec>
__device__ __forceinline__ void norm_apply_at(const float* x, float* y, int64_t e, float mean,
                                              float scale, float bias) {
  if constexpr (Vec) {
    const float4 v = load4(x + e);
    float4 r;
    r.x = batch_norm_apply(v.x, mean, scale, bias);
    r.y = batch_norm_apply(v.y, mean, scale, bias);
    r.z = batch_norm_apply(v.z, mean, scale, bias);
    r.w = batch_norm_apply(v.w, mean, scale, bias);
    *reinterpret_cast<float4*>(y + e) = r;
  } else {
    y[e] = batch_norm_apply(x[e], mean, scale, bias);
  }
}

// Adds dy and dy * (x - mean) at e to the backward's two sums over the set.
template <bool Vec>
__device__ __forceinline__ void norm_add_grad_sums_at(const float* dy, const float* x, int64_t e,
                                                      float mean, float& sum_dy, float& sum_dy_xc) {
  if constexpr (Vec) {
    const float4 g = load4(dy + e), v = load4(x + e);
    sum_dy += (g.x + g.y) + (g.z + g.w);
    sum_dy_xc +=
        (g.x * (v.x - mean) + g.y * (v.y - mean)) + (g.z * (v.z - mean) + g.w * (v.w - mean));
  } else {
    sum_dy += dy[e];
    sum_dy_xc += dy[e] * (x[e] - mean);
  }
}

// dx at e from the set's means of dy and dy * xhat.
template <bool Vec>
__device__ __forceinline__ void norm_grad_input_at(const float* dy, const float* x, float* dx,
                                                   int64_t e, float mean, float invstd,
                                                   float weight, float mean_dy,
                                                   float mean_dy_xhat) {
  if constexpr (Vec) {
    const float4 g = load4(dy + e), v = load4(x + e);
    float4 o;
    o.x = batch_norm_grad_input(g.x, v.x, mean, invstd, weight, mean_dy, mean_dy_xhat);
    o.y = batch_norm_grad_input(g.y, v.y, mean, invstd, weight, mean_dy, mean_dy_xhat);
    o.z = batch_norm_grad_input(g.z, v.z, mean, invstd, weight, mean_dy, mean_dy_xhat);
    o.w = batch_norm_grad_input(g.w, v.w, mean, invstd, weight, mean_dy, mean_dy_xhat);
    *reinterpret_cast<float4*>(dx + e) = o;
  } else {
    dx[e] = batch_norm_grad_input(dy[e], x[e], mean, invstd, weight, mean_dy, mean_dy_xhat);
  }
}

// Threads for a block that reduces one set: enough warps for the set's `items` loads, at most
// max_threads, so that small sets (late, small feature maps) do not idle 16 warps.
inline unsigned norm_set_block(int64_t items, int max_threads) {
  const int64_t warps = (items + kWarpSize - 1) / kWarpSize;
  return static_cast<unsigned>(std::clamp<int64_t>(warps, 1, max_threads / kWarpSize) * kWarpSize);
}

}  // namespace ge::kernels::cuda
