#pragma once
// The tensor-core and asynchronous-copy instructions of sm_80+, one thin function each: under
// nvcc the PTX instruction itself, under the emulator the function of ganengine/emu/matrix.h that
// runs it with the same fragments and the same rounding.
//
//   tf32(x)                 cvt.rna.tf32.f32: x rounded to TF32 (ties away from zero)
//   mma_tf32(d, a, b)       d += a b, mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
//   mma_bf16(d, a, b)       d += a b, mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
//   ldmatrix_x4(d, row)     ldmatrix.sync.aligned.m8n8.x4.shared.b16 (_trans: .trans)
//   cp_async4/16(dst, src, src_bytes)   cp.async.ca/cg.shared.global, zero-filling past
//                                       src_bytes
//   cp_async_commit(), cp_async_wait<n>()
//
// Fragment layouts are those of the PTX ISA: for m16n8k8 TF32 with g = lane / 4, t = lane % 4,
//   a[0] = A[g][t]  a[1] = A[g+8][t]  a[2] = A[g][t+4]  a[3] = A[g+8][t+4]
//   b[0] = B[t][g]  b[1] = B[t+4][g]
//   d[0] = D[g][2t] d[1] = D[g][2t+1] d[2] = D[g+8][2t] d[3] = D[g+8][2t+1]
// and for m16n8k16 BF16 each register holds two consecutive k (the lower in the low half):
//   a[0] = A[g][2t..]  a[1] = A[g+8][2t..]  a[2] = A[g][2t+8..]  a[3] = A[g+8][2t+8..]
//   b[0] = B[2t..][g]  b[1] = B[2t+8..][g]
#include <cstdint>

#include "cuda/launch.cuh"

namespace ge::kernels::cuda {

__device__ __forceinline__ uint32_t tf32(float x) {
#if defined(GE_CUDA_EMULATOR)
  return ::ge::emu::tf32_round(x);
#else
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
#endif
}

__device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4],
                                         const uint32_t (&b)[2]) {
#if defined(GE_CUDA_EMULATOR)
  const float c[4] = {d[0], d[1], d[2], d[3]};
  ::ge::emu::mma_m16n8k8_tf32(d, a, b, c);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}

__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4],
                                         const uint32_t (&b)[2]) {
#if defined(GE_CUDA_EMULATOR)
  const float c[4] = {d[0], d[1], d[2], d[3]};
  ::ge::emu::mma_m16n8k16_bf16(d, a, b, c);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}

#if !defined(GE_CUDA_EMULATOR)
__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
#endif

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&d)[4], const void* row) {
#if defined(GE_CUDA_EMULATOR)
  ::ge::emu::ldmatrix(d, 4, false, row);
#else
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
               : "r"(shared_address(row))
               : "memory");
#endif
}

__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&d)[4], const void* row) {
#if defined(GE_CUDA_EMULATOR)
  ::ge::emu::ldmatrix(d, 4, true, row);
#else
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
               : "r"(shared_address(row))
               : "memory");
#endif
}

// 4 bytes through L1 (.ca); src is not read when src_bytes is 0.
__device__ __forceinline__ void cp_async4(void* dst, const void* src, int src_bytes) {
#if defined(GE_CUDA_EMULATOR)
  ::ge::emu::cp_async(dst, src, 4, src_bytes);
#else
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(shared_address(dst)), "l"(src),
               "r"(src_bytes)
               : "memory");
#endif
}

// 16 bytes, bypassing L1 (.cg).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int src_bytes) {
#if defined(GE_CUDA_EMULATOR)
  ::ge::emu::cp_async(dst, src, 16, src_bytes);
#else
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(shared_address(dst)), "l"(src),
               "r"(src_bytes)
               : "memory");
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if defined(GE_CUDA_EMULATOR)
  ::ge::emu::cp_async_commit_group();
#else
  asm volatile("cp.async.commit_group;" ::: "memory");
#endif
}

template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if defined(GE_CUDA_EMULATOR)
  ::ge::emu::cp_async_wait_group(N);
#else
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
#endif
}

}  // namespace ge::kernels::cuda
