#pragma once
// GE_HOST_DEVICE: scalar math in kernels/common/ is shared by the CPU loops and CUDA kernels.
#if defined(__CUDACC__)
#define GE_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define GE_HOST_DEVICE inline
#endif

// GE_UNROLL: unroll the next loop in device code (a loop over a fixed bound whose body indexes
// arrays by the loop variable keeps them in registers instead of local memory). Only nvcc's
// device pass sees it: the host compiler would warn about the pragma.
#if defined(__CUDA_ARCH__)
#define GE_UNROLL _Pragma("unroll")
#else
#define GE_UNROLL
#endif
