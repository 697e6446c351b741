// CUDA batch_norm, deterministic (fixed combine order; atomics only draw tickets):
//   statistics and the backward's per-channel sums: each channel's N * HW values are cut into
//   `splits` contiguous slices, enough that the grid fills the GPU's SMs when channels are few
//   (batch_norm_splits); one block per (channel, slice), grid-stride. Each thread sums a
//   strided share of its slice (float4 when HW % 4 == 0), then warp shuffles and one
//   shared-memory step. The variance is a second pass over the slice, which L2 still holds, so
//   no cancellation. With several slices each block writes its slice's (mean, M2) or sums to
//   the workspace and draws a ticket; the channel's last block combines the slices in slice
//   order (Chan et al.'s pairwise update for mean and M2), so the bits do not depend on which
//   block finishes last.
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
#include "common/workspace.h"
#include "cuda/channel_of.cuh"
#include "cuda/last_block.cuh"
#include "cuda/launch.cuh"
#include "cuda/norm_steps.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/batch_norm.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kChannelBlock = 512;
constexpr size_t kScratchBytes = kBlockReduceScratch<2> * sizeof(float);

// Calls f(e) for this thread's share of items [k0, k1) of channel c: an item is one element, or
// with Vec four (same row, 16-byte aligned); e is its offset. `rows` divides by the row length
// hw / (Vec ? 4 : 1); it is used when the channel's items count in int (narrow).
template <bool Vec, typename F>
__device__ __forceinline__ void for_channel(const BatchNormShape& s, const FastDiv& rows,
                                            bool narrow, int64_t c, int64_t k0, int64_t k1, F&& f) {
  constexpr int64_t kW = Vec ? 4 : 1;
  const int64_t row = s.hw / kW;
  if (narrow) {  // uniform across the grid
    const int end = static_cast<int>(k1), step = static_cast<int>(blockDim.x);
    for (int k = static_cast<int>(k0 + threadIdx.x); k < end; k += step) {
      int n, j;
      rows.divmod(k, n, j);
      f((n * s.c + c) * s.hw + static_cast<int64_t>(j) * kW);
    }
    return;
  }
  for (int64_t k = k0 + threadIdx.x; k < k1; k += blockDim.x) {
    const int64_t n = k / row;
    f((n * s.c + c) * s.hw + (k - n * row) * kW);
  }
}

// How a channel's items are cut: `splits` slices of `per_split` items (the last may be short).
struct ChannelSplit {
  int64_t splits = 1;
  int64_t per_split = 0;
  __device__ int64_t begin(int64_t slice) const { return slice * per_split; }
  __device__ int64_t end(int64_t slice, int64_t items) const {
    return std::min(items, (slice + 1) * per_split);
  }
};

// The workspace of a split reduction: 2 floats per (channel, slice), then one ticket per channel
// (zero on entry, left zero). Writes block b's partials and draws its ticket; true for the block
// that finishes channel c last, after which every slice's partials are visible to it.
__device__ __forceinline__ bool last_slice_done(float* partials, unsigned* tickets, int64_t c,
                                                int64_t b, int64_t splits, float p0, float p1,
                                                bool& last) {
  if (threadIdx.x == 0) {
    partials[2 * b] = p0;
    partials[2 * b + 1] = p1;
  }
  return drew_last_ticket(tickets + c, static_cast<unsigned>(splits), last);
}

template <bool Vec>
__global__ void batch_norm_stats_kernel(const float* x, BatchNormShape s, FastDiv rows, bool narrow,
                                        float eps, float* mean, float* invstd,
                                        BatchNormRunning running, ChannelSplit split,
                                        float* partials, unsigned* tickets) {
  GE_DYNAMIC_SHARED(float, scratch);
  GE_STATIC_SHARED(bool, last);
  constexpr int64_t kW = Vec ? 4 : 1;
  const int64_t m = s.per_channel(), items = m / kW;
  for (int64_t b = blockIdx.x; b < s.c * split.splits; b += gridDim.x) {
    const int64_t c = b / split.splits, slice = b - c * split.splits;  // per block, not element
    const int64_t k0 = split.begin(slice), k1 = split.end(slice, items);
    const float count = static_cast<float>((k1 - k0) * kW);
    float sum = 0.f;
    for_channel<Vec>(s, rows, narrow, c, k0, k1, [&](int64_t e) {
      if constexpr (Vec) {
        const float4 v = load4(x + e);
        sum += (v.x + v.y) + (v.z + v.w);
      } else {
        sum += x[e];
      }
    });
    const float mu = block_sum<WarpOrder::Tree>(sum, scratch) / count;
    float sq = 0.f;
    for_channel<Vec>(s, rows, narrow, c, k0, k1, [&](int64_t e) {
      if constexpr (Vec) {
        const float4 v = load4(x + e);
        const float a = v.x - mu, b = v.y - mu, d = v.z - mu, f = v.w - mu;
        sq += (a * a + b * b) + (d * d + f * f);
      } else {
        const float d = x[e] - mu;
        sq += d * d;
      }
    });
    float m2 = block_sum<WarpOrder::Tree>(sq, scratch);
    float channel_mu = mu;
    if (split.splits > 1) {
      if (!last_slice_done(partials, tickets, c, b, split.splits, mu, m2, last)) continue;
      if (threadIdx.x == 0) {
        // Volatile: the other blocks' partials are read from L2, never from a stale L1 line.
        const volatile float* part = partials + 2 * c * split.splits;
        float n_a = 0.f;
        channel_mu = 0.f;
        m2 = 0.f;
        for (int64_t t = 0; t < split.splits; ++t) {
          const float n_b = static_cast<float>((split.end(t, items) - split.begin(t)) * kW);
          const float n_ab = n_a + n_b, delta = part[2 * t] - channel_mu;
          channel_mu += delta * (n_b / n_ab);
          m2 += part[2 * t + 1] + delta * delta * (n_a * n_b / n_ab);
          n_a = n_ab;
        }
      }
    }
    if (threadIdx.x == 0) {
      const float var = m2 / static_cast<float>(m);
      mean[c] = channel_mu;
      invstd[c] = rsqrtf(var + eps);
      batch_norm_update_running(running, c, channel_mu, var, m);
    }
  }
}

template <bool Vec>
__global__ void batch_norm_backward_reduce_kernel(const float* dy, const float* x,
                                                  const float* mean, const float* invstd,
                                                  float* sum_dy, float* sum_dy_xhat,
                                                  BatchNormShape s, FastDiv rows, bool narrow,
                                                  ChannelSplit split, float* partials,
                                                  unsigned* tickets) {
  GE_DYNAMIC_SHARED(float, scratch);
  GE_STATIC_SHARED(bool, last);
  const int64_t items = s.per_channel() / (Vec ? 4 : 1);
  for (int64_t b = blockIdx.x; b < s.c * split.splits; b += gridDim.x) {
    const int64_t c = b / split.splits, slice = b - c * split.splits;  // per block, not element
    const float mu = mean[c];
    float sd = 0.f, sdx = 0.f;
    for_channel<Vec>(s, rows, narrow, c, split.begin(slice), split.end(slice, items),
                     [&](int64_t e) { norm_add_grad_sums_at<Vec>(dy, x, e, mu, sd, sdx); });
    float sums[2] = {sd, sdx};
    block_reduce<WarpOrder::Tree, SumCombine>(sums, scratch);
    if (split.splits > 1) {
      if (!last_slice_done(partials, tickets, c, b, split.splits, sums[0], sums[1], last)) continue;
      if (threadIdx.x == 0) {
        const volatile float* part = partials + 2 * c * split.splits;
        sums[0] = sums[1] = 0.f;
        for (int64_t t = 0; t < split.splits; ++t) {
          sums[0] += part[2 * t];
          sums[1] += part[2 * t + 1];
        }
      }
    }
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

unsigned channel_grid(int64_t blocks) {
  return static_cast<unsigned>(std::min<int64_t>(blocks, kMaxBlocks));
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

// Fewest items of a slice: a full block of kChannelBlock threads reads 8 items each.
constexpr int64_t kMinSliceItems = 8 * kChannelBlock;

ChannelSplit channel_split(const BatchNormShape& s, int64_t splits, bool vec) {
  ChannelSplit split;
  const int64_t items = s.per_channel() / (vec ? 4 : 1);
  split.splits = splits;
  split.per_split = split.splits > 1 ? (items + split.splits - 1) / split.splits : items;
  return split;
}

// The workspace's parts for a split launch; null when one slice per channel.
struct SplitWorkspace {
  float* partials = nullptr;
  unsigned* tickets = nullptr;
};

SplitWorkspace split_workspace(const char* fn, const BatchNormShape& s, int64_t splits,
                               float* workspace, int64_t workspace_size, Stream stream) {
  const int64_t need = splits > 1 ? 2 * s.c * splits + s.c : 0;  // the partials, the tickets
  check_workspace(fn, need, workspace, workspace_size, " for [", s.n, ", ", s.c, ", ", s.hw, "]");
  if (need == 0) return {};
  SplitWorkspace w{workspace, reinterpret_cast<unsigned*>(workspace + 2 * s.c * splits)};
  GE_CUDA_CHECK(cudaMemsetAsync(w.tickets, 0, static_cast<size_t>(s.c) * sizeof(unsigned), stream));
  return w;
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

int64_t batch_norm_splits(const BatchNormShape& s) {
  batch_norm_check_shape("batch_norm_splits", s);
  if (s.c == 0) return 1;
  // Slices of at least kMinSliceItems float4s (or floats when HW % 4 != 0 makes them scalar);
  // enough blocks for two per SM; at most 64 slices, which thread 0 combines.
  const int64_t items = s.hw % 4 == 0 ? s.per_channel() / 4 : s.per_channel();
  const int64_t want = (2 * ge::cuda::sm_count() + s.c - 1) / s.c;
  return std::clamp<int64_t>(std::min(want, items / kMinSliceItems), 1, 64);
}

int64_t batch_norm_workspace(const BatchNormShape& s) {
  const int64_t splits = batch_norm_splits(s);
  return splits > 1 ? 2 * s.c * splits + s.c : 0;  // as split_workspace lays it out
}

void batch_norm_stats(const float* x, const BatchNormShape& s, float eps, float* mean,
                      float* invstd, const BatchNormRunning& running, float* workspace,
                      int64_t workspace_size, Stream stream) {
  batch_norm_check_stats(s, eps, x, mean, invstd, running);
  if (s.c == 0) return;
  const int64_t splits = batch_norm_splits(s);
  const SplitWorkspace w =
      split_workspace("batch_norm_stats", s, splits, workspace, workspace_size, stream);
  const bool narrow = channel_narrow(s);
  if (s.hw % 4 == 0 && aligned16(x)) {
    const ChannelSplit split = channel_split(s, splits, true);
    GE_LAUNCH(batch_norm_stats_kernel<true>, channel_grid(s.c * split.splits),
              channel_block(split.per_split), kScratchBytes, stream, x, s, channel_rows(s, true),
              narrow, eps, mean, invstd, running, split, w.partials, w.tickets);
  } else {
    const ChannelSplit split = channel_split(s, splits, false);
    GE_LAUNCH(batch_norm_stats_kernel<false>, channel_grid(s.c * split.splits),
              channel_block(split.per_split), kScratchBytes, stream, x, s, channel_rows(s, false),
              narrow, eps, mean, invstd, running, split, w.partials, w.tickets);
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
                                const BatchNormShape& s, float* workspace, int64_t workspace_size,
                                Stream stream) {
  batch_norm_check_backward("batch_norm_backward_reduce", s, dy, x, mean, invstd, sum_dy,
                            sum_dy_xhat, sum_dy);
  if (s.c == 0) return;
  const int64_t splits = batch_norm_splits(s);
  const SplitWorkspace w =
      split_workspace("batch_norm_backward_reduce", s, splits, workspace, workspace_size, stream);
  const bool narrow = channel_narrow(s);
  if (s.hw % 4 == 0 && aligned16(dy) && aligned16(x)) {
    const ChannelSplit split = channel_split(s, splits, true);
    GE_LAUNCH(batch_norm_backward_reduce_kernel<true>, channel_grid(s.c * split.splits),
              channel_block(split.per_split), kScratchBytes, stream, dy, x, mean, invstd, sum_dy,
              sum_dy_xhat, s, channel_rows(s, true), narrow, split, w.partials, w.tickets);
  } else {
    const ChannelSplit split = channel_split(s, splits, false);
    GE_LAUNCH(batch_norm_backward_reduce_kernel<false>, channel_grid(s.c * split.splits),
              channel_block(split.per_split), kScratchBytes, stream, dy, x, mean, invstd, sum_dy,
              sum_dy_xhat, s, channel_rows(s, false), narrow, split, w.partials, w.tickets);
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
