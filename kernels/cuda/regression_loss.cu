// CUDA regression losses, the logistic loss's two-kernel layout (loss.cu) templated on the loss:
//   regression_loss_map     the elementwise loss (reduction none) or the backward dx, grid-stride
//                           with float4s when every stream shares the output's alignment mod 16
//                           bytes (a scalar head up to the first aligned element, a scalar tail).
//   regression_loss_reduce  mean/sum in one launch: each block reduces its grid-stride share
//                           (float4 loads, warp shuffles, one shared-memory combine) to a partial;
//                           the last block to finish, found by an atomic ticket, adds the
//                           partials in index order. The ticket only elects that block, the sums
//                           never go through atomics, and the grid depends on n alone, so the
//                           result is bitwise reproducible. Small inputs run as a single block.
#include <algorithm>
#include <cstdint>

#include "common/grid.h"
#include "common/regression_loss.h"
#include "cuda/block_reduce.cuh"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/regression_loss.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxReduceBlocks = 1024;

enum class MapKind : int { Loss, GradElementwise, GradBroadcast };

template <bool HasTarget>
__device__ __forceinline__ float target_at(const RegressionLossArgs& a, int64_t i) {
  if constexpr (HasTarget) {
    return a.target[i];
  } else {
    return a.target_value;
  }
}

// The targets of elements [i, i + 4), i 16-byte aligned with a target buffer.
template <bool HasTarget>
__device__ __forceinline__ float4 target4_at(const RegressionLossArgs& a, int64_t i) {
  if constexpr (HasTarget) {
    return load4(a.target + i);
  } else {
    return make_float4(a.target_value, a.target_value, a.target_value, a.target_value);
  }
}

template <RegressionLoss L, MapKind K>
__device__ __forceinline__ float map_value(float x, float t, float g) {
  if constexpr (K == MapKind::Loss) {
    return regression_loss_value<L>(x, t);
  } else {
    return regression_loss_grad<L>(x, t, g);
  }
}

template <RegressionLoss L, MapKind K, bool HasTarget>
__device__ __forceinline__ float map_at(const RegressionLossArgs& a, const float* grad, float g,
                                        int64_t i) {
  const float gi = K == MapKind::GradElementwise ? grad[i] : g;
  return map_value<L, K>(a.x[i], target_at<HasTarget>(a, i), gi);
}

// grad: per-element (GradElementwise) or one value divided by `divisor` (GradBroadcast: n for
// the mean, as PyTorch's mean backward divides); unused for Loss. Vec: elements [head, head + 4 *
// nvec) as float4s, the rest by the grid's first threads.
template <RegressionLoss L, MapKind K, bool HasTarget, bool Vec>
__global__ void __launch_bounds__(kThreads)
    regression_loss_map(RegressionLossArgs a, const float* grad, float divisor, float* out,
                        int64_t head) {
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const float g = K == MapKind::GradBroadcast ? grad[0] / divisor : 0.f;
  if constexpr (Vec) {
    const int64_t nvec = (a.n - head) / 4;
    for (int64_t j = tid; j < nvec; j += stride) {
      const int64_t e = head + 4 * j;
      const float4 x = load4(a.x + e), t = target4_at<HasTarget>(a, e);
      float4 gv = make_float4(g, g, g, g);
      if constexpr (K == MapKind::GradElementwise) gv = load4(grad + e);
      float4 r;
      r.x = map_value<L, K>(x.x, t.x, gv.x);
      r.y = map_value<L, K>(x.y, t.y, gv.y);
      r.z = map_value<L, K>(x.z, t.z, gv.z);
      r.w = map_value<L, K>(x.w, t.w, gv.w);
      reinterpret_cast<float4*>(out + head)[j] = r;
    }
    const int64_t tail = head + 4 * nvec;
    if (tid < head) out[tid] = map_at<L, K, HasTarget>(a, grad, g, tid);
    if (tid < a.n - tail) out[tail + tid] = map_at<L, K, HasTarget>(a, grad, g, tail + tid);
  } else {
    for (int64_t i = tid; i < a.n; i += stride)
      out[i] = map_at<L, K, HasTarget>(a, grad, g, i);
  }
}

__device__ __forceinline__ float finalize(LossReduction r, float sum, int64_t n) {
  return r == LossReduction::Mean ? sum / static_cast<float>(n) : sum;
}

// partials: gridDim.x floats; ticket: zero on entry, and left zero (atomicInc wraps it).
template <RegressionLoss L, bool HasTarget, bool Vec>
__global__ void __launch_bounds__(kThreads)
    regression_loss_reduce(RegressionLossArgs a, LossReduction reduction, float* out, int64_t head,
                           float* partials, unsigned* ticket) {
  __shared__ float scratch[kBlockReduceScratch<>];
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  float acc = 0.f;
  int64_t scalar_from = 0;
  if constexpr (Vec) {
    const int64_t nvec = (a.n - head) / 4;
    for (int64_t j = tid; j < nvec; j += stride) {
      const int64_t e = head + 4 * j;
      const float4 x = load4(a.x + e), t = target4_at<HasTarget>(a, e);
      acc += (regression_loss_value<L>(x.x, t.x) + regression_loss_value<L>(x.y, t.y)) +
             (regression_loss_value<L>(x.z, t.z) + regression_loss_value<L>(x.w, t.w));
    }
    if (tid < head) acc += regression_loss_value<L>(a.x[tid], target_at<HasTarget>(a, tid));
    scalar_from = head + 4 * nvec;
  }
  for (int64_t i = scalar_from + tid; i < a.n; i += stride)
    acc += regression_loss_value<L>(a.x[i], target_at<HasTarget>(a, i));
  acc = block_sum<WarpOrder::Tree>(acc, scratch);

  if (gridDim.x == 1) {
    if (threadIdx.x == 0) out[0] = finalize(reduction, acc, a.n);
    return;
  }
  __shared__ bool last;
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = acc;
    __threadfence();  // the partial is visible to whichever block draws the last ticket
    last = atomicInc(ticket, gridDim.x - 1) == gridDim.x - 1;
  }
  __syncthreads();
  if (!last) return;
  // Volatile: the other blocks' partials are read from L2, never from a stale L1 line.
  const volatile float* p = partials;
  float total = 0.f;
  for (unsigned i = threadIdx.x; i < gridDim.x; i += blockDim.x)
    total += p[i];
  total = block_sum<WarpOrder::Tree>(total, scratch);
  if (threadIdx.x == 0) out[0] = finalize(reduction, total, a.n);
}

unsigned reduce_blocks(int64_t n) {
  return static_cast<unsigned>(
      std::clamp<int64_t>((n + 4 * kThreads - 1) / (4 * kThreads), 1, kMaxReduceBlocks));
}

// The vector paths need every per-element stream to share the alignment `head` of the stream
// it is measured against.
bool same_alignment(int64_t head, const float* p) {
  return p == nullptr || misalignment(p) == head;
}

// f.operator()<Loss, HasTarget, Vec>() for the run-time choices.
template <typename F>
void dispatch(RegressionLoss kind, bool has_target, bool vec, F&& f) {
  const auto with_loss = [&]<RegressionLoss L>() {
    if (has_target) {
      if (vec) return f.template operator()<L, true, true>();
      return f.template operator()<L, true, false>();
    }
    if (vec) return f.template operator()<L, false, true>();
    return f.template operator()<L, false, false>();
  };
  if (kind == RegressionLoss::Squared)
    return with_loss.template operator()<RegressionLoss::Squared>();
  return with_loss.template operator()<RegressionLoss::Absolute>();
}

template <MapKind K>
void launch_map(RegressionLoss kind, const RegressionLossArgs& a, const float* grad, float divisor,
                float* out, Stream stream) {
  const int64_t head = misalignment(out);
  const bool vec = a.n >= head + 4 && same_alignment(head, a.x) && same_alignment(head, a.target) &&
                   (K != MapKind::GradElementwise || same_alignment(head, grad));
  dispatch(kind, a.target != nullptr, vec, [&]<RegressionLoss L, bool HasTarget, bool Vec>() {
    const int64_t work = Vec ? (a.n - head) / 4 : a.n;
    GE_LAUNCH((regression_loss_map<L, K, HasTarget, Vec>), grid_for(work, kThreads), kThreads, 0,
              stream, a, grad, divisor, out, head);
  });
}

}  // namespace

int64_t regression_loss_workspace(LossReduction reduction, int64_t n) {
  GE_CHECK(n >= 0, "regression_loss_workspace: expected n >= 0, got ", n);
  if (reduction == LossReduction::None) return 0;
  const unsigned blocks = reduce_blocks(n);
  return blocks == 1 ? 0 : blocks + 1;  // the partials, then the ticket
}

void regression_loss(RegressionLoss kind, LossReduction reduction, const RegressionLossArgs& a,
                     float* out, float* workspace, int64_t workspace_size, Stream stream) {
  regression_loss_forward_check(kind, reduction, a, out);
  if (reduction == LossReduction::None) {
    if (a.n > 0) launch_map<MapKind::Loss>(kind, a, nullptr, 1.f, out, stream);
    return;
  }
  const int64_t need = regression_loss_workspace(reduction, a.n);
  GE_CHECK(workspace_size >= need && (need == 0 || workspace != nullptr), "regression_loss(",
           name(kind), ", ", name(reduction), "): expected a workspace of at least ", need,
           " floats for n = ", a.n, ", got ", workspace_size,
           workspace == nullptr ? " (null)" : "");
  const unsigned blocks = reduce_blocks(a.n);
  unsigned* ticket = nullptr;
  if (blocks > 1) {
    ticket = reinterpret_cast<unsigned*>(workspace + blocks);
    GE_CUDA_CHECK(cudaMemsetAsync(ticket, 0, sizeof(unsigned), stream));
  }
  const int64_t head = std::min<int64_t>(misalignment(a.x), a.n);
  const bool vec = a.n >= head + 4 && same_alignment(head, a.target);
  dispatch(kind, a.target != nullptr, vec, [&]<RegressionLoss L, bool HasTarget, bool Vec>() {
    GE_LAUNCH((regression_loss_reduce<L, HasTarget, Vec>), blocks, kThreads, 0, stream, a,
              reduction, out, head, workspace, ticket);
  });
}

void regression_loss_backward(RegressionLoss kind, LossReduction reduction,
                              const RegressionLossArgs& a, const float* grad, float* dx,
                              Stream stream) {
  regression_loss_backward_check(kind, reduction, a, grad, dx);
  if (a.n == 0) return;
  if (reduction == LossReduction::None) {
    launch_map<MapKind::GradElementwise>(kind, a, grad, 1.f, dx, stream);
  } else {
    const float divisor = reduction == LossReduction::Mean ? static_cast<float>(a.n) : 1.f;
    launch_map<MapKind::GradBroadcast>(kind, a, grad, divisor, dx, stream);
  }
}

}  // namespace ge::kernels::cuda
