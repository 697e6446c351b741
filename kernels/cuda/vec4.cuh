#pragma once
// float4 access for the CUDA kernels: the alignment tests launchers pick a vector path with, and
// the loads kernels move 16 bytes with.
#include <cstdint>

#include "cuda/launch.cuh"

namespace ge::kernels::cuda {

// A float4 at p is a single 16-byte access (null counts as aligned: an absent operand never
// blocks the vector path).
__host__ __device__ __forceinline__ bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

// Elements before the first 16-byte aligned one (pointers to float are 4-byte aligned).
__host__ __device__ __forceinline__ int64_t misalignment(const void* p) {
  return static_cast<int64_t>((16 - reinterpret_cast<uintptr_t>(p) % 16) % 16 / 4);
}

// The four floats at p (16-byte aligned).
__device__ __forceinline__ float4 load4(const float* p) {
  return *reinterpret_cast<const float4*>(p);
}

// This thread's share of <a, b>: elements first, first + stride, ... below n, or with Vec the
// float4s of those indices below n / 4 (a and b 16-byte aligned; the caller adds any tail).
template <bool Vec>
__device__ __forceinline__ float strided_dot(const float* a, const float* b, int64_t n,
                                             int64_t first, int64_t stride) {
  float acc = 0.f;
  if constexpr (Vec) {
    const float4* av = reinterpret_cast<const float4*>(a);
    const float4* bv = reinterpret_cast<const float4*>(b);
    for (int64_t i = first; i < n / 4; i += stride) {
      const float4 x = av[i], y = bv[i];
      acc += x.x * y.x + x.y * y.y + x.z * y.z + x.w * y.w;
    }
  } else {
    for (int64_t i = first; i < n; i += stride)
      acc += a[i] * b[i];
  }
  return acc;
}

}  // namespace ge::kernels::cuda
