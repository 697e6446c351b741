// CUDA minibatch_stddev, deterministic (fixed combine order, no atomics):
//   stats and the backward's gradient sums: one block per (slot m, channel set f), grid-stride.
//   A set's channels are contiguous within a sample, so the block's threads walk one contiguous
//   run of C / F * HW columns (coalesced), each column's G members a fixed stride apart; warp
//   shuffles and one shared-memory step combine the threads.
//   concat: one flat pass over the output (float4 when HW % 4 == 0), copying x and broadcasting
//   the statistics into the appended channels.
//   backward input: a thread per column (m, c, p) recomputes the column's mean and deviation
//   and writes its G input gradients, adjacent threads on adjacent positions (coalesced).
#include <algorithm>
#include <cstdint>

#include "common/grid.h"
#include "common/minibatch_stddev.h"
#include "cuda/block_reduce.cuh"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/minibatch_stddev.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kSetBlock = 512;
constexpr size_t kScratchBytes = kBlockReduceScratch<> * sizeof(float);

__global__ void minibatch_stddev_stats_kernel(const float* x, float* stats, MinibatchStdShape s) {
  GE_DYNAMIC_SHARED(float, scratch);
  const int64_t slots = s.slots(), stride = slots * s.c * s.hw;
  const int64_t run = s.set_size() * s.hw;
  for (int64_t b = blockIdx.x; b < slots * s.channels; b += gridDim.x) {
    const int64_t m = b / s.channels, f = b - m * s.channels;
    const float* first = x + minibatch_at(s, m, f * s.set_size(), 0);
    float acc = 0.f;
    for (int64_t q = threadIdx.x; q < run; q += blockDim.x)
      acc += minibatch_column(first + q, stride, s.group).stddev;
    const float total = block_sum<WarpOrder::Tree>(acc, scratch);
    if (threadIdx.x == 0) stats[b] = total / static_cast<float>(run);
  }
}

template <bool Vec>
__global__ void minibatch_stddev_concat_kernel(const float* x, const float* stats, float* out,
                                               MinibatchStdShape s) {
  constexpr int64_t kW = Vec ? 4 : 1;
  const int64_t in_row = s.c * s.hw, out_row = s.out_channels() * s.hw;
  const int64_t count = s.n * out_row / kW;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    const int64_t e = i * kW;
    const int64_t n = e / out_row, rem = e - n * out_row;
    // With Vec, HW % 4 == 0: the four elements lie in one channel.
    if constexpr (Vec) {
      float4 v;
      if (rem < in_row) {
        v = *reinterpret_cast<const float4*>(x + n * in_row + rem);
      } else {
        const float st = stats[(n % s.slots()) * s.channels + (rem - in_row) / s.hw];
        v = make_float4(st, st, st, st);
      }
      *reinterpret_cast<float4*>(out + e) = v;
    } else {
      out[e] = rem < in_row ? x[n * in_row + rem]
                            : stats[(n % s.slots()) * s.channels + (rem - in_row) / s.hw];
    }
  }
}

__global__ void minibatch_stddev_backward_reduce_kernel(const float* dout, float* gstats,
                                                        MinibatchStdShape s) {
  GE_DYNAMIC_SHARED(float, scratch);
  const int64_t slots = s.slots(), out_row = s.out_channels() * s.hw;
  const int64_t count = s.group * s.hw;
  for (int64_t b = blockIdx.x; b < slots * s.channels; b += gridDim.x) {
    const int64_t m = b / s.channels, f = b - m * s.channels;
    const float* plane = dout + m * out_row + (s.c + f) * s.hw;
    float acc = 0.f;
    for (int64_t k = threadIdx.x; k < count; k += blockDim.x) {
      const int64_t g = k / s.hw;
      acc += plane[g * slots * out_row + (k - g * s.hw)];
    }
    const float total = block_sum<WarpOrder::Tree>(acc, scratch);
    if (threadIdx.x == 0) gstats[b] = total;
  }
}

__global__ void minibatch_stddev_backward_input_kernel(const float* dout, const float* x,
                                                       const float* gstats, float* dx,
                                                       MinibatchStdShape s) {
  const int64_t slots = s.slots(), in_row = s.c * s.hw, out_row = s.out_channels() * s.hw;
  const int64_t stride = slots * in_row, columns = slots * in_row;
  const float scale = 1.f / static_cast<float>(s.set_size() * s.hw * s.group);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; col < columns;
       col += step) {
    // col is the offset of x[m, c, p]; the column's members sit `stride` apart.
    const int64_t m = col / in_row, within = col - m * in_row;
    const int64_t c = within / s.hw;
    const float k = gstats[m * s.channels + c / s.set_size()] * scale;
    const ColumnStats cs = minibatch_column(x + col, stride, s.group);
    const float coeff = k / cs.stddev;
    for (int64_t g = 0; g < s.group; ++g) {
      const int64_t n = g * slots + m;
      dx[col + g * stride] = dout[n * out_row + within] + coeff * (x[col + g * stride] - cs.mean);
    }
  }
}

unsigned set_grid(int64_t blocks) {
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, kMaxBlocks));
}

// Enough warps for `items`, at most kSetBlock threads.
unsigned set_block(int64_t items) {
  const int64_t warps = (items + kWarpSize - 1) / kWarpSize;
  return static_cast<unsigned>(std::clamp<int64_t>(warps, 1, kSetBlock / kWarpSize) * kWarpSize);
}

}  // namespace

void minibatch_stddev_stats(const float* x, float* stats, const MinibatchStdShape& s,
                            Stream stream) {
  minibatch_stddev_check("minibatch_stddev_stats", s, {x, stats});
  const int64_t blocks = s.slots() * s.channels;
  if (s.n * s.out_channels() * s.hw == 0) return;
  GE_LAUNCH(minibatch_stddev_stats_kernel, set_grid(blocks), set_block(s.set_size() * s.hw),
            kScratchBytes, stream, x, stats, s);
}

void minibatch_stddev_concat(const float* x, const float* stats, float* out,
                             const MinibatchStdShape& s, Stream stream) {
  minibatch_stddev_check("minibatch_stddev_concat", s, {x, stats, out});
  const int64_t total = s.n * s.out_channels() * s.hw;
  if (total == 0) return;
  if (s.hw % 4 == 0 && aligned16(x) && aligned16(out)) {
    GE_LAUNCH(minibatch_stddev_concat_kernel<true>, grid_for(total / 4), kBlock, 0, stream, x,
              stats, out, s);
  } else {
    GE_LAUNCH(minibatch_stddev_concat_kernel<false>, grid_for(total), kBlock, 0, stream, x, stats,
              out, s);
  }
}

void minibatch_stddev_backward_reduce(const float* dout, float* gstats, const MinibatchStdShape& s,
                                      Stream stream) {
  minibatch_stddev_check("minibatch_stddev_backward_reduce", s, {dout, gstats});
  const int64_t blocks = s.slots() * s.channels;
  if (s.n * s.out_channels() * s.hw == 0) return;
  GE_LAUNCH(minibatch_stddev_backward_reduce_kernel, set_grid(blocks), set_block(s.group * s.hw),
            kScratchBytes, stream, dout, gstats, s);
}

void minibatch_stddev_backward_input(const float* dout, const float* x, const float* gstats,
                                     float* dx, const MinibatchStdShape& s, Stream stream) {
  minibatch_stddev_check("minibatch_stddev_backward_input", s, {dout, x, gstats, dx});
  const int64_t columns = s.slots() * s.c * s.hw;
  if (s.n * s.out_channels() * s.hw == 0 || columns == 0) return;
  GE_LAUNCH(minibatch_stddev_backward_input_kernel, grid_for(columns), kBlock, 0, stream, dout, x,
            gstats, dx, s);
}

}  // namespace ge::kernels::cuda
