#pragma once
// Warp and block reductions for the CUDA kernels. Every combine happens in a fixed order, with no
// atomics, so a kernel built on them gives the same bits on every run, on every GPU and under
// every thread order of the emulator.
//
//   warp_sum(v)                          the warp's total, in every lane
//   block_sum<Order>(v, scratch)         the block's total, in every thread
//   block_reduce<Order, Op>(v, scratch)  N values at once, any combine (Reducer<Op> fits)
#include "cuda/launch.cuh"

namespace ge::kernels::cuda {

inline constexpr int kWarpSize = 32;

// The combine of a plain sum, in the shape of Reducer<Op> (common/reduce.h): identity() and
// combine(acc, v).
struct SumCombine {
  static __device__ __forceinline__ float identity() { return 0.f; }
  static __device__ __forceinline__ float combine(float acc, float v) { return acc + v; }
};

// A butterfly over the 32 lanes of a full warp; every lane must call it. Lane 0 ends with the
// tree ((v0 + v16) + (v8 + v24)) + ..., the value a shift-down tree leaves there. A commutative
// combine leaves those same bits in every lane: two partners always form the same value.
template <typename C>
__device__ __forceinline__ float warp_reduce(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    v = C::combine(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
  return warp_reduce<SumCombine>(v);
}

// How block_reduce joins the warps' partials p[0], ..., p[W-1]. Both orders are fixed; which
// one a kernel uses is part of its numerics, so switching changes the low bits of its results.
enum class WarpOrder {
  Tree,    // warp_reduce over p, padded with identity() to 32 lanes: 5 dependent steps
  Serial,  // identity() then p[0], p[1], ... left to right: W dependent steps, no shuffles
};

// Floats of shared memory block_reduce needs for N values.
template <int N = 1>
inline constexpr int kBlockReduceScratch = N* kWarpSize;

// Reduces v[0..N) over the whole block and leaves the totals in v, in every thread.
// Contract:
//   - a 1-D block, blockDim.x a multiple of 32 (at most 1024), and every thread calls it: it
//     holds full-warp shuffles and two __syncthreads.
//   - scratch: kBlockReduceScratch<N> floats of shared memory (static __shared__ or
//     GE_DYNAMIC_SHARED); value k's warp partials live at scratch[k * 32 + warp].
//   - it opens with a barrier, so consecutive calls may share scratch; it reads scratch after
//     its last barrier, so other uses of scratch need a __syncthreads() after it first.
// Thread 0 gets combine's results in the order above; every thread gets those bits when the
// combine is commutative (sums).
template <WarpOrder Order, typename C, int N>
__device__ __forceinline__ void block_reduce(float (&v)[N], float* scratch) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int warps = static_cast<int>(blockDim.x) / kWarpSize;
  for (int k = 0; k < N; ++k)
    v[k] = warp_reduce<C>(v[k]);
  __syncthreads();  // the previous call's readers of scratch are done
  if (lane == 0) {
    for (int k = 0; k < N; ++k)
      scratch[k * kWarpSize + warp] = v[k];
  }
  __syncthreads();
  for (int k = 0; k < N; ++k) {
    const float* part = scratch + k * kWarpSize;
    if constexpr (Order == WarpOrder::Tree) {
      // Every warp forms the same tree, so no third barrier is needed to share the result.
      v[k] = warp_reduce<C>(lane < warps ? part[lane] : C::identity());
    } else {
      float acc = C::identity();
      for (int w = 0; w < warps; ++w)
        acc = C::combine(acc, part[w]);
      v[k] = acc;
    }
  }
}

template <WarpOrder Order>
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  float sums[1] = {v};
  block_reduce<Order, SumCombine>(sums, scratch);
  return sums[0];
}

}  // namespace ge::kernels::cuda
