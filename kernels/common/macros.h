#pragma once
// GE_HOST_DEVICE: scalar math in kernels/common/ is shared by the CPU loops and CUDA kernels.
#if defined(__CUDACC__)
#define GE_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define GE_HOST_DEVICE inline
#endif
