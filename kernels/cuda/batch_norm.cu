// CUDA batch_norm, deterministic (fixed combine order, no atomics):
//   statistics and the backward's per-channel sums: one block per channel (grid-stride over
//   channels), each thread summing a strided share of the channel's N * HW values (float4 when
//   HW % 4 == 0), then warp shuffles and one shared-memory step. The variance is a second pass
//   over the channel, which L2 still holds, so no cancellation.
//   normalise + affine and the backward's input gradient: flat grid-stride elementwise kernels
//   (float4 when HW % 4 == 0) reading the per-channel coefficients through the read-only cache.
// Index math divides with 32-bit multiply-shift (common/fast_div.h, cuda/channel_of.cuh) unless
// the tensor has 2^31 elements.
#include <algorithm>
#include <cstdint>

#include "common/batch_norm.h"
#include "common/grid.h"
#include "common/fast_div.h"
#include "cuda/block_reduce.cuh"
#include "cuda/channel_of.cuh"
#include "cuda/launch.cuh"
#include "cuda/norm_steps.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/batch_norm.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kChannelBlock = 512;
constexpr size_t kScratchBytes = kBlockReduceScratch<2> * sizeof(float);

// Calls f(e) for this thread's share of channel c: e is the offset of one element, or with Vec
// of four (same row, 16-byte aligned). `rows` divides by the row length hw / (Vec ? 4 : 1); it is
// used when the channel's share counts in int (narrow).
template <bool Vec, typename F>
__device__ __forceinline__ void for_channel(const BatchNormShape& s, const FastDiv& rows,
                                            bool narrow, int64_t c, F&& f) {
  constexpr int64_t kW = Vec ? 4 : 1;
  const int64_t row = s.hw / kW;
  const int64_t count = s.n * row;
  if (narrow) {  // uniform across the grid
    const int n_count = static_cast<int>(count), step = static_cast<int>(blockDim.x);
    for (int k = static_cast<int>(threadIdx.x); k < n_count; k += step) {
      int n, j;
      rows.divmod(k, n, j);
      f((n * s.c + c) * s.hw + static_cast<int64_t>(j) * kW);
    }
    return;
  }
  for (int64_t k = threadIdx.x; k < count; k += blockDim.x) {
    const int64_t n = k / row;
    f((n * s.c + c) * s.hw + (k - n * row) * kW);
  }
}

template <bool Vec>
__global__ void batch_norm_stats_kernel(const float* x, BatchNormShape s, FastDiv rows, bool narrow,
                                        float eps, float* mean, float* invstd,
                                        BatchNormRunning running) {
  GE_DYNAMIC_SHARED(float, scratch);
  const int64_t m = s.per_channel();
  for (int64_t c = blockIdx.x; c < s.c; c += gridDim.x) {
    float sum = 0.f;
    for_channel<Vec>(s, rows, narrow, c, [&](int64_t e) {
      if constexpr (Vec) {
        const float4 v = load4(x + e);
        sum += (v.x + v.y) + (v.z + v.w);
      } else {
        sum += x[e];
      }
    });
    const float mu = block_sum<WarpOrder::Tree>(sum, scratch) / static_cast<float>(m);
    float sq = 0.f;
    for_channel<Vec>(s, rows, narrow, c, [&](int64_t e) {
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
                                                  BatchNormShape s, FastDiv rows, bool narrow) {
  GE_DYNAMIC_SHARED(float, scratch);
  for (int64_t c = blockIdx.x; c < s.c; c += gridDim.x) {
    const float mu = mean[c];
    float sd = 0.f, sdx = 0.f;
    for_channel<Vec>(s, rows, narrow, c,
                     [&](int64_t e) { norm_add_grad_sums_at<Vec>(dy, x, e, mu, sd, sdx); });
    float sums[2] = {sd, sdx};
    block_reduce<WarpOrder::Tree, SumCombine>(sums, scratch);
    if (threadIdx.x == 0) {
      sum_dy[c] = sums[0];
      sum_dy_xhat[c] = sums[1] * invstd[c];
    }
  }
}

// Elementwise kernels: e (a multiple of 4 with Vec) lies in channel ch(e) = (e / hw) % c; the
// loops count in I.
template <bool Vec, typename I>
__global__ void batch_norm_forward_kernel(const float* x, const float* mean, const float* invstd,
                                          const float* weight, const float* bias, float* y,
                                          BatchNormShape s, ChannelOf<I> ch) {
  constexpr I kW = Vec ? 4 : 1;
  const I count = static_cast<I>(s.numel()) / kW;
  const I stride = grid_stride<I>();
  for (I i = first_index<I>(); i < count; i += stride) {
    const I e = i * kW;
    const I c = ch(e);
    const float mu = __ldg(mean + c);
    const float scale = __ldg(invstd + c) * (weight != nullptr ? __ldg(weight + c) : 1.f);
    const float b = bias != nullptr ? __ldg(bias + c) : 0.f;
    norm_apply_at<Vec>(x, y, e, mu, scale, b);
  }
}

template <bool Vec, typename I>
__global__ void batch_norm_backward_input_kernel(const float* dy, const float* x, const float* mean,
                                                 const float* invstd, const float* weight,
                                                 const float* sum_dy, const float* sum_dy_xhat,
                                                 float* dx, BatchNormShape s, ChannelOf<I> ch) {
  constexpr I kW = Vec ? 4 : 1;
  const I count = static_cast<I>(s.numel()) / kW;
  const float inv_m = 1.f / static_cast<float>(s.per_channel());
  const I stride = grid_stride<I>();
  for (I i = first_index<I>(); i < count; i += stride) {
    const I e = i * kW;
    const I c = ch(e);
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

// The divisor of for_channel's row index and whether a channel's share counts in int.
FastDiv channel_rows(const BatchNormShape& s, bool vec) {
  return FastDiv(static_cast<uint32_t>(std::max<int64_t>(vec ? s.hw / 4 : s.hw, 1)));
}
bool channel_narrow(const BatchNormShape& s) {
  return narrow_index(s.per_channel()) && s.hw <= INT32_MAX;
}

// Runs f.template operator()<I>(ChannelOf<I>) with I = int when the tensor's flat index fits.
template <typename F>
void with_channel_of(const BatchNormShape& s, F&& f) {
  if (narrow_index(s.numel())) {
    f.template operator()<int>(ChannelOf<int>(s.hw, s.c));
  } else {
    f.template operator()<int64_t>(ChannelOf<int64_t>(s.hw, s.c));
  }
}

}  // namespace

void batch_norm_stats(const float* x, const BatchNormShape& s, float eps, float* mean,
                      float* invstd, const BatchNormRunning& running, Stream stream) {
  batch_norm_check_stats(s, eps, x, mean, invstd, running);
  if (s.c == 0) return;
  const bool narrow = channel_narrow(s);
  if (s.hw % 4 == 0 && aligned16(x)) {
    GE_LAUNCH(batch_norm_stats_kernel<true>, channel_grid(s.c), channel_block(s.per_channel() / 4),
              kScratchBytes, stream, x, s, channel_rows(s, true), narrow, eps, mean, invstd,
              running);
  } else {
    GE_LAUNCH(batch_norm_stats_kernel<false>, channel_grid(s.c), channel_block(s.per_channel()),
              kScratchBytes, stream, x, s, channel_rows(s, false), narrow, eps, mean, invstd,
              running);
  }
}

void batch_norm_forward(const float* x, const float* mean, const float* invstd, const float* weight,
                        const float* bias, float* y, const BatchNormShape& s, Stream stream) {
  batch_norm_check_forward(s, x, mean, invstd, y);
  if (s.numel() == 0) return;
  const bool vec = s.hw % 4 == 0 && aligned16(x) && aligned16(y);
  with_channel_of(s, [&]<typename I>(ChannelOf<I> ch) {
    if (vec) {
      GE_LAUNCH((batch_norm_forward_kernel<true, I>), grid_for(s.numel() / 4), kBlock, 0, stream, x,
                mean, invstd, weight, bias, y, s, ch);
    } else {
      GE_LAUNCH((batch_norm_forward_kernel<false, I>), grid_for(s.numel()), kBlock, 0, stream, x,
                mean, invstd, weight, bias, y, s, ch);
    }
  });
}

void batch_norm_backward_reduce(const float* dy, const float* x, const float* mean,
                                const float* invstd, float* sum_dy, float* sum_dy_xhat,
                                const BatchNormShape& s, Stream stream) {
  batch_norm_check_backward("batch_norm_backward_reduce", s, dy, x, mean, invstd, sum_dy,
                            sum_dy_xhat, sum_dy);
  if (s.c == 0) return;
  const bool narrow = channel_narrow(s);
  if (s.hw % 4 == 0 && aligned16(dy) && aligned16(x)) {
    GE_LAUNCH(batch_norm_backward_reduce_kernel<true>, channel_grid(s.c),
              channel_block(s.per_channel() / 4), kScratchBytes, stream, dy, x, mean, invstd,
              sum_dy, sum_dy_xhat, s, channel_rows(s, true), narrow);
  } else {
    GE_LAUNCH(batch_norm_backward_reduce_kernel<false>, channel_grid(s.c),
              channel_block(s.per_channel()), kScratchBytes, stream, dy, x, mean, invstd, sum_dy,
              sum_dy_xhat, s, channel_rows(s, false), narrow);
  }
}

void batch_norm_backward_input(const float* dy, const float* x, const float* mean,
                               const float* invstd, const float* weight, const float* sum_dy,
                               const float* sum_dy_xhat, float* dx, const BatchNormShape& s,
                               Stream stream) {
  batch_norm_check_backward("batch_norm_backward_input", s, dy, x, mean, invstd, sum_dy,
                            sum_dy_xhat, dx);
  if (s.numel() == 0) return;
  const bool vec = s.hw % 4 == 0 && aligned16(dy) && aligned16(x) && aligned16(dx);
  with_channel_of(s, [&]<typename I>(ChannelOf<I> ch) {
    if (vec) {
      GE_LAUNCH((batch_norm_backward_input_kernel<true, I>), grid_for(s.numel() / 4), kBlock, 0,
                stream, dy, x, mean, invstd, weight, sum_dy, sum_dy_xhat, dx, s, ch);
    } else {
      GE_LAUNCH((batch_norm_backward_input_kernel<false, I>), grid_for(s.numel()), kBlock, 0,
                stream, dy, x, mean, invstd, weight, sum_dy, sum_dy_xhat, dx, s, ch);
    }
  });
}

}  // namespace ge::kernels::cuda
