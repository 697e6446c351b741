// CUDA batch_norm, deterministic (fixed combine order, no atomics):
//   statistics and the backward's per-channel sums: one block per channel (grid-stride over
//   channels), each thread summing a strided share of the channel's N * HW values (float4 when
//   HW % 4 == 0), then warp shuffles and one shared-memory step. The variance is a second pass
//   over the channel, which L2 still holds, so no cancellation.
//   normalise + affine and the backward's input gradient: flat grid-stride elementwise kernels
//   (float4 when HW % 4 == 0) reading the per-channel coefficients through the read-only cache.
#include <cstdint>

#include "common/batch_norm.h"
#include "common/grid.h"
#include "cuda/block_reduce.cuh"
#include "cuda/launch.cuh"
#include "cuda/norm_steps.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/batch_norm.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kChannelBlock = 512;
constexpr size_t kScratchBytes = kBlockReduceScratch<2> * sizeof(float);

// Calls f(e) for this thread's share of channel c: e is the offset of one element, or with Vec
// of four (same row, 16-byte aligned).
template <bool Vec, typename F>
__device__ __forceinline__ void for_channel(const BatchNormShape& s, int64_t c, F&& f) {
  constexpr int64_t kW = Vec ? 4 : 1;
  const int64_t row = s.hw / kW;
  const int64_t count = s.n * row;
  for (int64_t k = threadIdx.x; k < count; k += blockDim.x) {
    const int64_t n = k / row;
    f((n * s.c + c) * s.hw + (k - n * row) * kW);
  }
}

template <bool Vec>
__global__ void batch_norm_stats_kernel(const float* x, BatchNormShape s, float eps, float* mean,
                                        float* invstd, BatchNormRunning running) {
  GE_DYNAMIC_SHARED(float, scratch);
  const int64_t m = s.per_channel();
  for (int64_t c = blockIdx.x; c < s.c; c += gridDim.x) {
    float sum = 0.f;
    for_channel<Vec>(s, c, [&](int64_t e) {
      if constexpr (Vec) {
        const float4 v = load4(x + e);
        sum += (v.x + v.y) + (v.z + v.w);
      } else {
        sum += x[e];
      }
    });
    const float mu = block_sum<WarpOrder::Tree>(sum, scratch) / static_cast<float>(m);
    float sq = 0.f;
    for_channel<Vec>(s, c, [&](int64_t e) {
      if constexpr (Vec) {
        const float4 v = load4(x + e);
        const float a = v.x - mu, b = v.y - mu, d = v.z - mu, f = v.w - mu;
        sq += (a * a + b * b) + (d * d + f * f);
      } else {
        const float d = x[e] - mu;
        sq += d * d;
      }
    });
    const float var = block_sum<WarpOrder::Tree>(sq, scratch) / static_cast<float>(m);
    if (threadIdx.x == 0) {
      mean[c] = mu;
      invstd[c] = rsqrtf(var + eps);
      batch_norm_update_running(running, c, mu, var, m);
    }
  }
}

template <bool Vec>
__global__ void batch_norm_backward_reduce_kernel(const float* dy, const float* x,
                                                  const float* mean, const float* invstd,
                                                  float* sum_dy, float* sum_dy_xhat,
                                                  BatchNormShape s) {
  GE_DYNAMIC_SHARED(float, scratch);
  for (int64_t c = blockIdx.x; c < s.c; c += gridDim.x) {
    const float mu = mean[c];
    float sd = 0.f, sdx = 0.f;
    for_channel<Vec>(s, c, [&](int64_t e) { norm_add_grad_sums_at<Vec>(dy, x, e, mu, sd, sdx); });
    float sums[2] = {sd, sdx};
    block_reduce<WarpOrder::Tree, SumCombine>(sums, scratch);
    if (threadIdx.x == 0) {
      sum_dy[c] = sums[0];
      sum_dy_xhat[c] = sums[1] * invstd[c];
    }
  }
}

// Elementwise kernels: e (a multiple of 4 with Vec) lies in channel (e / hw) % c.
template <bool Vec>
__global__ void batch_norm_forward_kernel(const float* x, const float* mean, const float* invstd,
                                          const float* weight, const float* bias, float* y,
                                          BatchNormShape s) {
  constexpr int64_t kW = Vec ? 4 : 1;
  const int64_t count = s.numel() / kW;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    const int64_t e = i * kW;
    const int64_t c = (e / s.hw) % s.c;
    const float mu = __ldg(mean + c);
    const float scale = __ldg(invstd + c) * (weight != nullptr ? __ldg(weight + c) : 1.f);
    const float b = bias != nullptr ? __ldg(bias + c) : 0.f;
    norm_apply_at<Vec>(x, y, e, mu, scale, b);
  }
}

template <bool Vec>
__global__ void batch_norm_backward_input_kernel(const float* dy, const float* x, const float* mean,
                                                 const float* invstd, const float* weight,
                                                 const float* sum_dy, const float* sum_dy_xhat,
                                                 float* dx, BatchNormShape s) {
  constexpr int64_t kW = Vec ? 4 : 1;
  const int64_t count = s.numel() / kW;
  const float inv_m = 1.f / static_cast<float>(s.per_channel());
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    const int64_t e = i * kW;
    const int64_t c = (e / s.hw) % s.c;
    const float mu = __ldg(mean + c), r = __ldg(invstd + c);
    const float w = weight != nullptr ? __ldg(weight + c) : 1.f;
    const float mdy = __ldg(sum_dy + c) * inv_m, mdyx = __ldg(sum_dy_xhat + c) * inv_m;
    norm_grad_input_at<Vec>(dy, x, dx, e, mu, r, w, mdy, mdyx);
  }
}

unsigned channel_grid(int64_t c) {
  return static_cast<unsigned>(c < kMaxBlocks ? c : kMaxBlocks);
}

unsigned channel_block(int64_t items) {
  return norm_set_block(items, kChannelBlock);
}

}  // namespace

void batch_norm_stats(const float* x, const BatchNormShape& s, float eps, float* mean,
                      float* invstd, const BatchNormRunning& running, Stream stream) {
  batch_norm_check_stats(s, eps, x, mean, invstd, running);
  if (s.c == 0) return;
  if (s.hw % 4 == 0 && aligned16(x)) {
    GE_LAUNCH(batch_norm_stats_kernel<true>, channel_grid(s.c), channel_block(s.per_channel() / 4),
              kScratchBytes, stream, x, s, eps, mean, invstd, running);
  } else {
    GE_LAUNCH(batch_norm_stats_kernel<false>, channel_grid(s.c), channel_block(s.per_channel()),
              kScratchBytes, stream, x, s, eps, mean, invstd, running);
  }
}

void batch_norm_forward(const float* x, const float* mean, const float* invstd, const float* weight,
                        const float* bias, float* y, const BatchNormShape& s, Stream stream) {
  batch_norm_check_forward(s, x, mean, invstd, y);
  if (s.numel() == 0) return;
  if (s.hw % 4 == 0 && aligned16(x) && aligned16(y)) {
    GE_LAUNCH(batch_norm_forward_kernel<true>, grid_for(s.numel() / 4), kBlock, 0, stream, x, mean,
              invstd, weight, bias, y, s);
  } else {
    GE_LAUNCH(batch_norm_forward_kernel<false>, grid_for(s.numel()), kBlock, 0, stream, x, mean,
              invstd, weight, bias, y, s);
  }
}

void batch_norm_backward_reduce(const float* dy, const float* x, const float* mean,
                                const float* invstd, float* sum_dy, float* sum_dy_xhat,
                                const BatchNormShape& s, Stream stream) {
  batch_norm_check_backward("batch_norm_backward_reduce", s, dy, x, mean, invstd, sum_dy,
                            sum_dy_xhat, sum_dy);
  if (s.c == 0) return;
  if (s.hw % 4 == 0 && aligned16(dy) && aligned16(x)) {
    GE_LAUNCH(batch_norm_backward_reduce_kernel<true>, channel_grid(s.c),
              channel_block(s.per_channel() / 4), kScratchBytes, stream, dy, x, mean, invstd,
              sum_dy, sum_dy_xhat, s);
  } else {
    GE_LAUNCH(batch_norm_backward_reduce_kernel<false>, channel_grid(s.c),
              channel_block(s.per_channel()), kScratchBytes, stream, dy, x, mean, invstd, sum_dy,
              sum_dy_xhat, s);
  }
}

void batch_norm_backward_input(const float* dy, const float* x, const float* mean,
                               const float* invstd, const float* weight, const float* sum_dy,
                               const float* sum_dy_xhat, float* dx, const BatchNormShape& s,
                               Stream stream) {
  batch_norm_check_backward("batch_norm_backward_input", s, dy, x, mean, invstd, sum_dy,
                            sum_dy_xhat, dx);
  if (s.numel() == 0) return;
  if (s.hw % 4 == 0 && aligned16(dy) && aligned16(x) && aligned16(dx)) {
    GE_LAUNCH(batch_norm_backward_input_kernel<true>, grid_for(s.numel() / 4), kBlock, 0, stream,
              dy, x, mean, invstd, weight, sum_dy, sum_dy_xhat, dx, s);
  } else {
    GE_LAUNCH(batch_norm_backward_input_kernel<false>, grid_for(s.numel()), kBlock, 0, stream, dy,
              x, mean, invstd, weight, sum_dy, sum_dy_xhat, dx, s);
  }
}

}  // namespace ge::kernels::cuda
