#pragma once
// The one way .cu files launch kernels and declare dynamic shared memory, so that the same
// source builds with nvcc and, unchanged, with the host compiler against the CUDA emulator.
//
//   GE_LAUNCH(kernel, grid, block, shared_bytes, stream, args...);
//   GE_LAUNCH((templated_kernel<float, 4>), grid, block, 0, stream, args...);
//   GE_DYNAMIC_SHARED(float, tile);      // inside a kernel: float* tile
//   GE_CUDA_CHECK(cudaMemcpyAsync(...)); // runtime calls: throw ge::Error on failure
#if defined(GE_CUDA_EMULATOR)
#include "ganengine/emu/cuda.h"
#else
#include <cuda_runtime.h>
#endif

#include <cstddef>
#include <tuple>
#include <utility>

#include "ganengine/error.h"

namespace ge::cuda {

[[noreturn]] void throw_launch_error(const char* kernel, dim3 grid, dim3 block, size_t shared_bytes,
                                     cudaError_t err);
[[noreturn]] void throw_runtime_error(const char* expr, const char* file, int line,
                                      cudaError_t err);

// The current device's SM count (cudaDevAttrMultiProcessorCount), read once per device: what
// grid-size heuristics (split-K, blocks per stream) aim to fill.
int sm_count();

template <typename... KernelArgs, typename... Args>
void launch(const char* name, void (*kernel)(KernelArgs...), dim3 grid, dim3 block,
            size_t shared_bytes, cudaStream_t stream, Args&&... args) {
  static_assert(sizeof...(KernelArgs) == sizeof...(Args), "GE_LAUNCH: wrong number of arguments");
#if defined(GE_CUDA_EMULATOR)
  cudaError_t err =
      ::ge::emu::launch_kernel(::ge::emu::LaunchConfig{name, reinterpret_cast<const void*>(kernel),
                                                       grid, block, shared_bytes, stream},
                               kernel, static_cast<KernelArgs>(std::forward<Args>(args))...);
#else
  // clang-format off
  kernel<<<grid, block, shared_bytes, stream>>>(static_cast<KernelArgs>(std::forward<Args>(args))...);
  // clang-format on
  cudaError_t err = cudaGetLastError();
#endif
  if (err != cudaSuccess) throw_launch_error(name, grid, block, shared_bytes, err);
}

}  // namespace ge::cuda

#define GE_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  ::ge::cuda::launch(#kernel, kernel, grid, block, shared_bytes, stream, ##__VA_ARGS__)

#define GE_CUDA_CHECK(expr)                                                     \
  do {                                                                          \
    cudaError_t ge_cuda_err_ = (expr);                                          \
    if (ge_cuda_err_ != cudaSuccess)                                            \
      ::ge::cuda::throw_runtime_error(#expr, __FILE__, __LINE__, ge_cuda_err_); \
  } while (0)

// Shared memory. GE_DYNAMIC_SHARED(T, name) views the launch's dynamic shared memory as T*;
// GE_STATIC_SHARED(T, name, dims) declares a static `__shared__ T name dims;`, e.g.
// GE_STATIC_SHARED(float, tile, [32][33]) or GE_STATIC_SHARED(bool, last). Under the emulator
// both live in the block's arena: garbage when the block starts, guarded against writes outside.
#if defined(GE_CUDA_EMULATOR)
#define GE_DYNAMIC_SHARED(T, name) \
  T* name = reinterpret_cast<T*>(::ge::emu::dynamic_shared_memory())
#define GE_STATIC_SHARED(T, name, ...)                                                     \
  static constexpr char ge_static_shared_site_##name = 0;                                  \
  std::type_identity_t<T __VA_ARGS__>& name =                                              \
      *static_cast<std::type_identity_t<T __VA_ARGS__>*>(::ge::emu::detail::static_shared( \
          &ge_static_shared_site_##name, sizeof(std::type_identity_t<T __VA_ARGS__>),      \
          alignof(std::type_identity_t<T __VA_ARGS__>), #name, __FILE__, __LINE__))
#else
#define GE_DYNAMIC_SHARED(T, name)                                  \
  extern __shared__ __align__(16) unsigned char ge_dynamic_smem_[]; \
  T* name = reinterpret_cast<T*>(ge_dynamic_smem_)
#define GE_STATIC_SHARED(T, name, ...) __shared__ T name __VA_ARGS__
#endif
