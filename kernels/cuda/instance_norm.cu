// CUDA instance_norm, deterministic (fixed combine order, no float atomics). One block per plane
// (grid-stride over planes), its threads striding through the plane's contiguous HW values
// (float4 when HW % 4 == 0), so every pass is coalesced:
//   forward: one pass of reads for the shifted sums of x (warp shuffles, one shared-memory step),
//   then one pass that normalises, applies the affine and writes y; the plane, just read, is
//   still in L2 for the second pass.
//   backward: one pass for the sums of dy and dy * (x - mean), one writing dx. The parameter
//   gradients sum a channel's N planes: each plane block leaves its two sums in the workspace and
//   draws a ticket for its channel; the channel's last block adds the N partials in order of n.
#include <algorithm>
#include <cstdint>

#include "common/grid.h"
#include "common/workspace.h"
#include "common/instance_norm.h"
#include "cuda/block_reduce.cuh"
#include "cuda/last_block.cuh"
#include "cuda/launch.cuh"
#include "cuda/norm_steps.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/instance_norm.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kPlaneBlock = 512;
constexpr size_t kScratchBytes = kBlockReduceScratch<2> * sizeof(float);

// Calls f(e) for this thread's share of the plane at `base`: e is the offset of one element, or
// with Vec of four (16-byte aligned).
template <bool Vec, typename F>
__device__ __forceinline__ void for_plane(int64_t base, int64_t hw, F&& f) {
  constexpr int64_t kW = Vec ? 4 : 1;
  const int64_t count = hw / kW;
  for (int64_t k = threadIdx.x; k < count; k += blockDim.x)
    f(base + k * kW);
}

template <bool Vec>
__global__ void instance_norm_forward_kernel(const float* x, const float* weight, const float* bias,
                                             float* y, float* mean, float* rstd,
                                             InstanceNormShape s, float eps) {
  GE_DYNAMIC_SHARED(float, scratch);
  for (int64_t p = blockIdx.x; p < s.planes(); p += gridDim.x) {
    const int64_t base = p * s.hw;
    const float shift = __ldg(x + base);
    float s1 = 0.f, s2 = 0.f;
    for_plane<Vec>(base, s.hw, [&](int64_t e) {
      if constexpr (Vec) {
        const float4 v = load4(x + e);
        const float a = v.x - shift, b = v.y - shift, d = v.z - shift, f = v.w - shift;
        s1 += (a + b) + (d + f);
        s2 += (a * a + b * b) + (d * d + f * f);
      } else {
        const float d = x[e] - shift;
        s1 += d;
        s2 += d * d;
      }
    });
    float sums[2] = {s1, s2};
    block_reduce<WarpOrder::Tree, SumCombine>(sums, scratch);
    const ShiftedMoments<float> mom = instance_norm_moments(shift, sums[0], sums[1], s.hw);
    const float mu = mom.mean, r = rsqrtf(mom.var + eps);
    if (threadIdx.x == 0) {
      mean[p] = mu;
      rstd[p] = r;
    }
    const int64_t c = p % s.c;
    const float scale = r * (weight != nullptr ? __ldg(weight + c) : 1.f);
    const float b = bias != nullptr ? __ldg(bias + c) : 0.f;
    for_plane<Vec>(base, s.hw, [&](int64_t e) { norm_apply_at<Vec>(x, y, e, mu, scale, b); });
  }
}

// partials: 2 * planes floats (sum dy, then sum dy * xhat, by plane); tickets: C counters, zero
// on entry and left zero (atomicInc wraps them). Both unused when N == 1 or no dweight/dbias.
template <bool Vec>
__global__ void instance_norm_backward_kernel(const float* dy, const float* x, const float* mean,
                                              const float* rstd, const float* weight, float* dx,
                                              float* dweight, float* dbias, InstanceNormShape s,
                                              float* partials, unsigned* tickets) {
  GE_DYNAMIC_SHARED(float, scratch);
  GE_STATIC_SHARED(bool, last);
  const bool param_grads = dweight != nullptr || dbias != nullptr;
  const int64_t planes = s.planes();
  const float inv_m = 1.f / static_cast<float>(s.hw);
  for (int64_t p = blockIdx.x; p < planes; p += gridDim.x) {
    const int64_t base = p * s.hw;
    const int64_t c = p % s.c;
    const float mu = __ldg(mean + p), r = __ldg(rstd + p);
    const float w = weight != nullptr ? __ldg(weight + c) : 1.f;
    float sd = 0.f, sdx = 0.f;
    for_plane<Vec>(base, s.hw,
                   [&](int64_t e) { norm_add_grad_sums_at<Vec>(dy, x, e, mu, sd, sdx); });
    float sums[2] = {sd, sdx};
    block_reduce<WarpOrder::Tree, SumCombine>(sums, scratch);
    const float sum_dy = sums[0], sum_dy_xhat = sums[1] * r;
    const float mdy = sum_dy * inv_m, mdyx = sum_dy_xhat * inv_m;
    for_plane<Vec>(base, s.hw,
                   [&](int64_t e) { norm_grad_input_at<Vec>(dy, x, dx, e, mu, r, w, mdy, mdyx); });
    if (!param_grads) continue;
    if (s.n == 1) {
      if (threadIdx.x == 0) {
        if (dweight != nullptr) dweight[c] = sum_dy_xhat;
        if (dbias != nullptr) dbias[c] = sum_dy;
      }
      continue;
    }
    if (threadIdx.x == 0) {
      partials[p] = sum_dy;
      partials[planes + p] = sum_dy_xhat;
    }
    if (!drew_last_ticket(tickets + c, static_cast<unsigned>(s.n), last)) continue;
    // Volatile: the other blocks' partials are read from L2, never from a stale L1 line. Thread
    // t adds planes n = t, t + blockDim.x, ...: a fixed order for a fixed launch.
    const volatile float* part = partials;
    float totals[2] = {0.f, 0.f};
    for (int64_t n = threadIdx.x; n < s.n; n += blockDim.x) {
      totals[0] += part[n * s.c + c];
      totals[1] += part[planes + n * s.c + c];
    }
    block_reduce<WarpOrder::Tree, SumCombine>(totals, scratch);
    if (threadIdx.x == 0) {
      if (dweight != nullptr) dweight[c] = totals[1];
      if (dbias != nullptr) dbias[c] = totals[0];
    }
  }
}

unsigned plane_grid(int64_t planes) {
  return static_cast<unsigned>(std::min<int64_t>(planes, kMaxBlocks));
}

unsigned plane_block(int64_t items) {
  return norm_set_block(items, kPlaneBlock);
}

}  // namespace

void instance_norm_forward(const float* x, const float* weight, const float* bias, float* y,
                           float* mean, float* rstd, const InstanceNormShape& s, float eps,
                           Stream stream) {
  instance_norm_check_forward(s, eps, x, y, mean, rstd);
  if (s.numel() == 0) return;
  if (s.hw % 4 == 0 && aligned16(x) && aligned16(y)) {
    GE_LAUNCH(instance_norm_forward_kernel<true>, plane_grid(s.planes()), plane_block(s.hw / 4),
              kScratchBytes, stream, x, weight, bias, y, mean, rstd, s, eps);
  } else {
    GE_LAUNCH(instance_norm_forward_kernel<false>, plane_grid(s.planes()), plane_block(s.hw),
              kScratchBytes, stream, x, weight, bias, y, mean, rstd, s, eps);
  }
}

int64_t instance_norm_backward_workspace(const InstanceNormShape& s, bool param_grads) {
  instance_norm_check_shape("instance_norm_backward_workspace", s);
  if (!param_grads || s.n <= 1 || s.c == 0) return 0;
  return 2 * s.planes() + s.c;  // the partials, then the tickets
}

void instance_norm_backward(const float* dy, const float* x, const float* mean, const float* rstd,
                            const float* weight, float* dx, float* dweight, float* dbias,
                            const InstanceNormShape& s, float* workspace, int64_t workspace_size,
                            Stream stream) {
  instance_norm_check_backward(s, dy, x, mean, rstd, dx);
  const bool param_grads = dweight != nullptr || dbias != nullptr;
  const int64_t need = instance_norm_backward_workspace(s, param_grads);
  check_workspace("instance_norm_backward", need, workspace, workspace_size, " for [", s.n, ", ",
                  s.c, ", ", s.hw, "]");
  if (s.numel() == 0) {
    // Sums over no planes.
    const size_t bytes = static_cast<size_t>(s.c) * sizeof(float);
    if (dweight != nullptr && bytes > 0) GE_CUDA_CHECK(cudaMemsetAsync(dweight, 0, bytes, stream));
    if (dbias != nullptr && bytes > 0) GE_CUDA_CHECK(cudaMemsetAsync(dbias, 0, bytes, stream));
    return;
  }
  unsigned* tickets = nullptr;
  if (need > 0) {
    tickets = reinterpret_cast<unsigned*>(workspace + 2 * s.planes());
    GE_CUDA_CHECK(cudaMemsetAsync(tickets, 0, static_cast<size_t>(s.c) * sizeof(unsigned), stream));
  }
  if (s.hw % 4 == 0 && aligned16(dy) && aligned16(x) && aligned16(dx)) {
    GE_LAUNCH(instance_norm_backward_kernel<true>, plane_grid(s.planes()), plane_block(s.hw / 4),
              kScratchBytes, stream, dy, x, mean, rstd, weight, dx, dweight, dbias, s, workspace,
              tickets);
  } else {
    GE_LAUNCH(instance_norm_backward_kernel<false>, plane_grid(s.planes()), plane_block(s.hw),
              kScratchBytes, stream, dy, x, mean, rstd, weight, dx, dweight, dbias, s, workspace,
              tickets);
  }
}

}  // namespace ge::kernels::cuda
