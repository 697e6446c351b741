// CUDA minibatch_stddev, deterministic (fixed combine order, no atomics):
//   stats and the backward's gradient sums: one block per (slot m, channel set f), grid-stride.
//   A set's channels are contiguous within a sample, so the block's threads walk one contiguous
//   run of C / F * HW columns (coalesced), each column's G members a fixed stride apart; warp
//   shuffles and one shared-memory step combine the threads.
//   concat: one flat pass over the output (float4 when HW % 4 == 0), copying x and broadcasting
//   the statistics into the appended channels.
//   backward input: a thread per column (m, c, p) recomputes the column's mean and deviation
//   and writes its G input gradients, adjacent threads on adjacent positions (coalesced).
//   The per-element index math counts in I and divides through DivBy<I> (channel_of.cuh).
#include <algorithm>
#include <cstdint>

#include "common/grid.h"
#include "common/minibatch_stddev.h"
#include "cuda/block_reduce.cuh"
#include "cuda/channel_of.cuh"
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

// The divisors of the per-element index math, in I (see channel_of.cuh).
template <typename I>
struct StdDivs {
  DivBy<I> by_out_row, by_in_row, by_slots, by_hw, by_set;
  explicit StdDivs(const MinibatchStdShape& s)
      : by_out_row(s.out_channels() * s.hw),
        by_in_row(std::max<int64_t>(s.c * s.hw, 1)),
        by_slots(s.slots()),
        by_hw(s.hw),
        by_set(s.set_size()) {}
};

template <typename I, bool Vec>
__global__ void minibatch_stddev_concat_kernel(const float* x, const float* stats, float* out,
                                               MinibatchStdShape s, I count, StdDivs<I> d) {
  constexpr I kW = Vec ? 4 : 1;
  const I in_row = static_cast<I>(s.c * s.hw), channels = static_cast<I>(s.channels);
  for (I i = first_index<I>(); i < count; i += grid_stride<I>()) {
    const I e = i * kW;
    I rem, m;
    const I n = d.by_out_row.divmod(e, rem);
    // With Vec, HW % 4 == 0: the four elements lie in one channel.
    if constexpr (Vec) {
      float4 v;
      if (rem < in_row) {
        v = *reinterpret_cast<const float4*>(x + n * in_row + rem);
      } else {
        d.by_slots.divmod(n, m);
        const float st = stats[m * channels + d.by_hw(rem - in_row)];
        v = make_float4(st, st, st, st);
      }
      *reinterpret_cast<float4*>(out + e) = v;
    } else if (rem < in_row) {
      out[e] = x[n * in_row + rem];
    } else {
      d.by_slots.divmod(n, m);
      out[e] = stats[m * channels + d.by_hw(rem - in_row)];
    }
  }
}

template <typename I>
__global__ void minibatch_stddev_backward_reduce_kernel(const float* dout, float* gstats,
                                                        MinibatchStdShape s, StdDivs<I> d) {
  GE_DYNAMIC_SHARED(float, scratch);
  const int64_t slots = s.slots(), out_row = s.out_channels() * s.hw;
  const I count = static_cast<I>(s.group * s.hw), member_stride = static_cast<I>(slots * out_row);
  for (int64_t b = blockIdx.x; b < slots * s.channels; b += gridDim.x) {
    const int64_t m = b / s.channels, f = b - m * s.channels;
    const float* plane = dout + m * out_row + (s.c + f) * s.hw;
    float acc = 0.f;
    for (I k = threadIdx.x; k < count; k += blockDim.x) {
      I p;
      const I g = d.by_hw.divmod(k, p);
      acc += plane[g * member_stride + p];
    }
    const float total = block_sum<WarpOrder::Tree>(acc, scratch);
    if (threadIdx.x == 0) gstats[b] = total;
  }
}

template <typename I>
__global__ void minibatch_stddev_backward_input_kernel(const float* dout, const float* x,
                                                       const float* gstats, float* dx,
                                                       MinibatchStdShape s, I columns,
                                                       StdDivs<I> d) {
  const I out_row = static_cast<I>(s.out_channels() * s.hw), stride = columns;
  const float scale = 1.f / static_cast<float>(s.set_size() * s.hw * s.group);
  for (I col = first_index<I>(); col < columns; col += grid_stride<I>()) {
    // col is the offset of x[m, c, p]; the column's members sit `stride` apart.
    I within, unused;
    const I m = d.by_in_row.divmod(col, within);
    const I c = d.by_hw.divmod(within, unused);
    const float k = gstats[m * static_cast<I>(s.channels) + d.by_set(c)] * scale;
    const ColumnStats cs = minibatch_column(x + col, stride, s.group);
    const float coeff = k / cs.stddev;
    for (I g = 0; g < static_cast<I>(s.group); ++g) {
      const I n = g * static_cast<I>(s.slots()) + m;
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
  const bool vec = s.hw % 4 == 0 && aligned16(x) && aligned16(out);
  const int64_t count = vec ? total / 4 : total;
  if (narrow_index(total)) {
    const StdDivs<int> d(s);
    if (vec)
      GE_LAUNCH((minibatch_stddev_concat_kernel<int, true>), grid_for(count), kBlock, 0, stream, x,
                stats, out, s, static_cast<int>(count), d);
    else
      GE_LAUNCH((minibatch_stddev_concat_kernel<int, false>), grid_for(count), kBlock, 0, stream, x,
                stats, out, s, static_cast<int>(count), d);
  } else {
    const StdDivs<int64_t> d(s);
    if (vec)
      GE_LAUNCH((minibatch_stddev_concat_kernel<int64_t, true>), grid_for(count), kBlock, 0, stream,
                x, stats, out, s, count, d);
    else
      GE_LAUNCH((minibatch_stddev_concat_kernel<int64_t, false>), grid_for(count), kBlock, 0,
                stream, x, stats, out, s, count, d);
  }
}

void minibatch_stddev_backward_reduce(const float* dout, float* gstats, const MinibatchStdShape& s,
                                      Stream stream) {
  minibatch_stddev_check("minibatch_stddev_backward_reduce", s, {dout, gstats});
  const int64_t blocks = s.slots() * s.channels;
  if (s.n * s.out_channels() * s.hw == 0) return;
  if (narrow_index(s.n * s.out_channels() * s.hw))
    GE_LAUNCH(minibatch_stddev_backward_reduce_kernel<int>, set_grid(blocks),
              set_block(s.group * s.hw), kScratchBytes, stream, dout, gstats, s, StdDivs<int>(s));
  else
    GE_LAUNCH(minibatch_stddev_backward_reduce_kernel<int64_t>, set_grid(blocks),
              set_block(s.group * s.hw), kScratchBytes, stream, dout, gstats, s,
              StdDivs<int64_t>(s));
}

void minibatch_stddev_backward_input(const float* dout, const float* x, const float* gstats,
                                     float* dx, const MinibatchStdShape& s, Stream stream) {
  minibatch_stddev_check("minibatch_stddev_backward_input", s, {dout, x, gstats, dx});
  const int64_t columns = s.slots() * s.c * s.hw;
  if (s.n * s.out_channels() * s.hw == 0 || columns == 0) return;
  if (narrow_index(s.n * s.out_channels() * s.hw))
    GE_LAUNCH(minibatch_stddev_backward_input_kernel<int>, grid_for(columns), kBlock, 0, stream,
              dout, x, gstats, dx, s, static_cast<int>(columns), StdDivs<int>(s));
  else
    GE_LAUNCH(minibatch_stddev_backward_input_kernel<int64_t>, grid_for(columns), kBlock, 0, stream,
              dout, x, gstats, dx, s, columns, StdDivs<int64_t>(s));
}

}  // namespace ge::kernels::cuda
