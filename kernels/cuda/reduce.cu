// CUDA reductions over the middle axis of [outer, r, inner], deterministic (fixed combine order,
// no atomics).
//   inner == 1, short rows: one warp per row.   inner == 1, long rows: one block per row with
//   float4 loads.   inner > 1: 32 columns per block across threadIdx.x (coalesced), r split
//   8 ways across threadIdx.y and combined in shared memory.
#include <cstdint>

#include "common/grid.h"
#include "common/reduce.h"
#include "cuda/block_reduce.cuh"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/reduce.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kRowBlock = 512;
constexpr int64_t kWarpRowMaxR = 256;
constexpr int kColsX = 32, kColsY = 8;
constexpr int64_t kMaxGridY = 65535;

template <ReduceOp Op>
__global__ void reduce_rows_warp(const float* x, float* y, int64_t outer, int64_t r) {
  using R = Reducer<Op>;
  const int lane = threadIdx.x % kWarpSize;
  const int64_t warps_per_block = blockDim.x / kWarpSize;
  // The row loop is uniform across a warp, so every lane reaches each shuffle.
  for (int64_t row = blockIdx.x * warps_per_block + threadIdx.x / kWarpSize; row < outer;
       row += static_cast<int64_t>(gridDim.x) * warps_per_block) {
    const float* xr = x + row * r;
    float acc = R::identity();
    for (int64_t j = lane; j < r; j += kWarpSize)
      acc = R::combine(acc, xr[j]);
    acc = warp_reduce<R>(acc);
    if (lane == 0) y[row] = R::finalize(acc, r);
  }
}

template <ReduceOp Op>
__global__ void reduce_rows_block(const float* x, float* y, int64_t outer, int64_t r) {
  using R = Reducer<Op>;
  GE_STATIC_SHARED(float, scratch, [kBlockReduceScratch<>]);
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {
    const float* xr = x + row * r;
    // Rows start anywhere when r % 4 != 0: scalar head up to 16-byte alignment, then float4.
    int64_t head = misalignment(xr);
    if (head > r) head = r;
    const int64_t nvec = (r - head) / 4;
    float acc = R::identity();
    if (threadIdx.x < head) acc = R::combine(acc, xr[threadIdx.x]);
    const float4* xv = reinterpret_cast<const float4*>(xr + head);
    for (int64_t j = threadIdx.x; j < nvec; j += blockDim.x) {
      const float4 v = xv[j];
      acc = R::combine(R::combine(acc, v.x), R::combine(v.y, R::combine(v.z, v.w)));
    }
    for (int64_t j = head + 4 * nvec + threadIdx.x; j < r; j += blockDim.x) {
      acc = R::combine(acc, xr[j]);
    }
    float total[1] = {acc};
    block_reduce<WarpOrder::Tree, R>(total, scratch);
    if (threadIdx.x == 0) y[row] = R::finalize(total[0], r);
  }
}

template <ReduceOp Op>
__global__ void reduce_cols(const float* x, float* y, int64_t outer, int64_t r, int64_t inner) {
  using R = Reducer<Op>;
  GE_STATIC_SHARED(float, partial, [kColsY][kColsX + 1]);
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kColsX + threadIdx.x;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    float acc = R::identity();
    if (i < inner) {
      const float* xo = x + o * r * inner + i;
      for (int64_t j = threadIdx.y; j < r; j += kColsY)
        acc = R::combine(acc, xo[j * inner]);
    }
    __syncthreads();  // the previous outer's readers of `partial` are done
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && i < inner) {
      for (int k = 1; k < kColsY; ++k)
        acc = R::combine(acc, partial[k][threadIdx.x]);
      y[o * inner + i] = R::finalize(acc, r);
    }
  }
}

}  // namespace

void reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t r, int64_t inner,
            Stream stream) {
  check_reduce_args(op, x, y, outer, r, inner);
  if (outer == 0 || inner == 0) return;
  dispatch_reduce(op, [&]<ReduceOp Op>() {
    if (inner == 1 && r <= kWarpRowMaxR) {
      GE_LAUNCH((reduce_rows_warp<Op>), grid_for(outer * kWarpSize), kBlock, 0, stream, x, y, outer,
                r);
    } else if (inner == 1) {
      GE_LAUNCH((reduce_rows_block<Op>), grid_for(outer, 1), kRowBlock, 0, stream, x, y, outer, r);
    } else {
      const int64_t tiles = (inner + kColsX - 1) / kColsX;
      GE_CHECK(tiles <= 0x7fffffff, "reduce(", name(op),
               "): expected inner <= ", int64_t{0x7fffffff} * kColsX, ", got ", inner);
      const dim3 grid(static_cast<unsigned>(tiles),
                      static_cast<unsigned>(outer < kMaxGridY ? outer : kMaxGridY));
      GE_LAUNCH((reduce_cols<Op>), grid, dim3(kColsX, kColsY), 0, stream, x, y, outer, r, inner);
    }
  });
}

}  // namespace ge::kernels::cuda
