#pragma once
// The CUDA layout every elementwise loss against a target shares, templated on the loss's math.
// Two kernels, each templated on whether a target buffer is read:
//   fused_loss_map     the elementwise loss (reduction none) or the backward dx, grid-stride
//                      with float4s when every stream shares the output's alignment mod 16
//                      bytes (a scalar head up to the first aligned element, a scalar tail).
//   fused_loss_reduce  mean/sum in one launch: each block reduces its grid-stride share (float4
//                      loads, warp shuffles, one shared-memory combine) to a partial; the last
//                      block to finish, found by an atomic ticket, adds the partials in index
//                      order. The ticket only elects that block, the sums never go through
//                      atomics, and the grid depends on n alone, so the result is bitwise
//                      reproducible. Small inputs run as a single block, with no partials at all.
//
// A loss M provides
//   using Args = ...;  with x, target (null: target_value for every element), target_value, n
//   static __device__ float value(const Args&, float x, float t);
//   static __device__ float grad(const Args&, float x, float t, float g);  // g * d loss / dx
// and its launchers check their arguments, then call fused_loss_forward / fused_loss_backward.
#include <algorithm>
#include <cstdint>

#include "common/grid.h"
#include "cuda/block_reduce.cuh"
#include "cuda/last_block.cuh"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/loss.h"

namespace ge::kernels::cuda {

inline constexpr int kFusedLossThreads = 256;
inline constexpr int64_t kFusedLossMaxBlocks = 1024;

enum class FusedLossMap : int { Loss, GradElementwise, GradBroadcast };

template <bool HasTarget, typename Args>
__device__ __forceinline__ float fused_loss_target(const Args& a, int64_t i) {
  if constexpr (HasTarget) {
    return a.target[i];
  } else {
    return a.target_value;
  }
}

// The targets of elements [i, i + 4), i 16-byte aligned with a target buffer.
template <bool HasTarget, typename Args>
__device__ __forceinline__ float4 fused_loss_target4(const Args& a, int64_t i) {
  if constexpr (HasTarget) {
    return load4(a.target + i);
  } else {
    return make_float4(a.target_value, a.target_value, a.target_value, a.target_value);
  }
}

// One output element: the loss, or dx with the incoming gradient g (already scaled).
template <typename M, FusedLossMap K>
__device__ __forceinline__ float fused_loss_map_value(const typename M::Args& a, float x, float t,
                                                      float g) {
  if constexpr (K == FusedLossMap::Loss) {
    return M::value(a, x, t);
  } else {
    return M::grad(a, x, t, g);
  }
}

template <typename M, FusedLossMap K, bool HasTarget>
__device__ __forceinline__ float fused_loss_map_at(const typename M::Args& a, const float* grad,
                                                   float g, int64_t i) {
  const float gi = K == FusedLossMap::GradElementwise ? grad[i] : g;
  return fused_loss_map_value<M, K>(a, a.x[i], fused_loss_target<HasTarget>(a, i), gi);
}

// The mean's divisor is applied as a division by n, as PyTorch's mean does; n = 0 gives NaN.
__device__ __forceinline__ float fused_loss_finalize(LossReduction r, float sum, int64_t n) {
  return r == LossReduction::Mean ? sum / static_cast<float>(n) : sum;
}

// grad: per-element (GradElementwise) or one value divided by `divisor` (GradBroadcast: n for
// the mean, as PyTorch's mean backward divides); unused for Loss. Vec: elements [head, head + 4 *
// nvec) as float4s, the rest by the grid's first threads.
template <typename M, FusedLossMap K, bool HasTarget, bool Vec>
__global__ void __launch_bounds__(kFusedLossThreads)
    fused_loss_map(typename M::Args a, const float* grad, float divisor, float* out, int64_t head) {
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const float g = K == FusedLossMap::GradBroadcast ? grad[0] / divisor : 0.f;
  if constexpr (Vec) {
    const int64_t nvec = (a.n - head) / 4;
    for (int64_t j = tid; j < nvec; j += stride) {
      const int64_t e = head + 4 * j;
      const float4 x = load4(a.x + e), t = fused_loss_target4<HasTarget>(a, e);
      float4 gv = make_float4(g, g, g, g);
      if constexpr (K == FusedLossMap::GradElementwise) gv = load4(grad + e);
      float4 r;
      r.x = fused_loss_map_value<M, K>(a, x.x, t.x, gv.x);
      r.y = fused_loss_map_value<M, K>(a, x.y, t.y, gv.y);
      r.z = fused_loss_map_value<M, K>(a, x.z, t.z, gv.z);
      r.w = fused_loss_map_value<M, K>(a, x.w, t.w, gv.w);
      reinterpret_cast<float4*>(out + head)[j] = r;
    }
    const int64_t tail = head + 4 * nvec;
    if (tid < head) out[tid] = fused_loss_map_at<M, K, HasTarget>(a, grad, g, tid);
    if (tid < a.n - tail)
      out[tail + tid] = fused_loss_map_at<M, K, HasTarget>(a, grad, g, tail + tid);
  } else {
    for (int64_t i = tid; i < a.n; i += stride)
      out[i] = fused_loss_map_at<M, K, HasTarget>(a, grad, g, i);
  }
}

// partials: gridDim.x floats; ticket: zero on entry, and left zero (atomicInc wraps it).
template <typename M, bool HasTarget, bool Vec>
__global__ void __launch_bounds__(kFusedLossThreads)
    fused_loss_reduce(typename M::Args a, LossReduction reduction, float* out, int64_t head,
                      float* partials, unsigned* ticket) {
  GE_STATIC_SHARED(float, scratch, [kBlockReduceScratch<>]);
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  float acc = 0.f;
  int64_t scalar_from = 0;
  if constexpr (Vec) {
    const int64_t nvec = (a.n - head) / 4;
    for (int64_t j = tid; j < nvec; j += stride) {
      const int64_t e = head + 4 * j;
      const float4 x = load4(a.x + e), t = fused_loss_target4<HasTarget>(a, e);
      acc += (M::value(a, x.x, t.x) + M::value(a, x.y, t.y)) +
             (M::value(a, x.z, t.z) + M::value(a, x.w, t.w));
    }
    if (tid < head) acc += M::value(a, a.x[tid], fused_loss_target<HasTarget>(a, tid));
    scalar_from = head + 4 * nvec;
  }
  for (int64_t i = scalar_from + tid; i < a.n; i += stride)
    acc += M::value(a, a.x[i], fused_loss_target<HasTarget>(a, i));
  acc = block_sum<WarpOrder::Tree>(acc, scratch);

  if (gridDim.x == 1) {
    if (threadIdx.x == 0) out[0] = fused_loss_finalize(reduction, acc, a.n);
    return;
  }
  GE_STATIC_SHARED(bool, last);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
  if (!drew_last_ticket(ticket, gridDim.x, last)) return;
  // Volatile: the other blocks' partials are read from L2, never from a stale L1 line.
  const volatile float* p = partials;
  float total = 0.f;
  for (unsigned i = threadIdx.x; i < gridDim.x; i += blockDim.x)
    total += p[i];
  total = block_sum<WarpOrder::Tree>(total, scratch);
  if (threadIdx.x == 0) out[0] = fused_loss_finalize(reduction, total, a.n);
}

inline unsigned fused_loss_reduce_blocks(int64_t n) {
  return static_cast<unsigned>(std::clamp<int64_t>(
      (n + 4 * kFusedLossThreads - 1) / (4 * kFusedLossThreads), 1, kFusedLossMaxBlocks));
}

// Floats of workspace fused_loss_forward needs (n >= 0): the partials, then the ticket; none for
// None and for inputs one block reduces.
inline int64_t fused_loss_workspace(LossReduction reduction, int64_t n) {
  if (reduction == LossReduction::None) return 0;
  const unsigned blocks = fused_loss_reduce_blocks(n);
  return blocks == 1 ? 0 : blocks + 1;
}

// The vector paths need every per-element stream to share the alignment `head` of the stream
// it is measured against.
inline bool fused_loss_same_alignment(int64_t head, const float* p) {
  return p == nullptr || misalignment(p) == head;
}

// f.operator()<HasTarget, Vec>() for the run-time choices.
template <typename F>
void fused_loss_dispatch(bool has_target, bool vec, F&& f) {
  if (has_target) {
    if (vec) return f.template operator()<true, true>();
    return f.template operator()<true, false>();
  }
  if (vec) return f.template operator()<false, true>();
  return f.template operator()<false, false>();
}

template <typename M, FusedLossMap K>
void fused_loss_launch_map(const typename M::Args& a, const float* grad, float divisor, float* out,
                           Stream stream) {
  const int64_t head = misalignment(out);
  const bool vec = a.n >= head + 4 && fused_loss_same_alignment(head, a.x) &&
                   fused_loss_same_alignment(head, a.target) &&
                   (K != FusedLossMap::GradElementwise || fused_loss_same_alignment(head, grad));
  fused_loss_dispatch(a.target != nullptr, vec, [&]<bool HasTarget, bool Vec>() {
    const int64_t work = Vec ? (a.n - head) / 4 : a.n;
    GE_LAUNCH((fused_loss_map<M, K, HasTarget, Vec>), grid_for(work, kFusedLossThreads),
              kFusedLossThreads, 0, stream, a, grad, divisor, out, head);
  });
}

// The loss values (None) or their reduction, for checked arguments. The workspace check's
// message names the launcher as op(kind, reduction), or op(reduction) for a null kind.
template <typename M>
void fused_loss_forward(const char* op, const char* kind, LossReduction reduction,
                        const typename M::Args& a, float* out, float* workspace,
                        int64_t workspace_size, Stream stream) {
  if (reduction == LossReduction::None) {
    if (a.n > 0) fused_loss_launch_map<M, FusedLossMap::Loss>(a, nullptr, 1.f, out, stream);
    return;
  }
  const int64_t need = fused_loss_workspace(reduction, a.n);
  GE_CHECK(workspace_size >= need && (need == 0 || workspace != nullptr), op, "(",
           kind != nullptr ? kind : "", kind != nullptr ? ", " : "", name(reduction),
           "): expected a workspace of at least ", need, " floats for n = ", a.n, ", got ",
           workspace_size, workspace == nullptr ? " (null)" : "");
  const unsigned blocks = fused_loss_reduce_blocks(a.n);
  unsigned* ticket = nullptr;
  if (blocks > 1) {
    ticket = reinterpret_cast<unsigned*>(workspace + blocks);
    GE_CUDA_CHECK(cudaMemsetAsync(ticket, 0, sizeof(unsigned), stream));
  }
  const int64_t head = std::min<int64_t>(misalignment(a.x), a.n);
  const bool vec = a.n >= head + 4 && fused_loss_same_alignment(head, a.target);
  fused_loss_dispatch(a.target != nullptr, vec, [&]<bool HasTarget, bool Vec>() {
    GE_LAUNCH((fused_loss_reduce<M, HasTarget, Vec>), blocks, kFusedLossThreads, 0, stream, a,
              reduction, out, head, workspace, ticket);
  });
}

// dx for checked arguments: grad[i] (None), grad[0] / n (Mean) or grad[0] (Sum) times the
// loss's derivative.
template <typename M>
void fused_loss_backward(LossReduction reduction, const typename M::Args& a, const float* grad,
                         float* dx, Stream stream) {
  if (a.n == 0) return;
  if (reduction == LossReduction::None) {
    fused_loss_launch_map<M, FusedLossMap::GradElementwise>(a, grad, 1.f, dx, stream);
  } else {
    const float divisor = reduction == LossReduction::Mean ? static_cast<float>(a.n) : 1.f;
    fused_loss_launch_map<M, FusedLossMap::GradBroadcast>(a, grad, divisor, dx, stream);
  }
}

}  // namespace ge::kernels::cuda
