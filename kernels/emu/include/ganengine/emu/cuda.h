#pragma once
// CUDA compatibility header of the emulator: lets the host compiler build unchanged .cu sources.
// The types (dim3, float4, __half, cudaError_t, ...) are the toolkit's own, from its headers
// compiled without __CUDACC__; this header adds what only nvcc knows: the execution-space
// keywords, the built-in index variables, barriers, warp intrinsics, atomics and the device-only
// math functions. Also usable from plain .cpp files.
//
// Limitations: __CUDA_ARCH__ stays undefined (code under #ifdef __CUDA_ARCH__ is not compiled),
// and shared memory is declared with the project's macros: GE_DYNAMIC_SHARED for the launch's
// dynamic shared memory, GE_STATIC_SHARED for static variables (kernels/cuda/launch.cuh). Both
// live in the running block's arena, filled with garbage when the block starts and surrounded by
// guard zones that are checked when it ends. A bare `__shared__` does not compile.
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>

#include "ganengine/emu/matrix.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <bit>
#include <memory>  // before __noinline__ is defined: libstdc++ spells that attribute itself
#include <source_location>
#include <string>
#include <tuple>
#include <type_traits>

// ---- execution-space keywords (the toolkit headers define most as empty without nvcc) ----
#undef __shared__
#define __shared__ \
  _Pragma("GCC error \"declare shared memory with GE_STATIC_SHARED or GE_DYNAMIC_SHARED\"")
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif
#ifndef __noinline__
#define __noinline__ __attribute__((noinline))
#endif
#ifndef __grid_constant__
#define __grid_constant__
#endif

namespace ge::emu {

struct LaunchConfig {
  const char* name;
  const void* func;  // identifies the kernel for cudaFuncSetAttribute
  dim3 grid;
  dim3 block;
  size_t shared_bytes;
  cudaStream_t stream;
};

namespace detail {

using KernelBody = void (*)(void*);
cudaError_t launch(const LaunchConfig& config, KernelBody body, void* state);

// A launch queued on its stream: the kernel with its arguments held by value.
class QueuedKernel {
 public:
  virtual ~QueuedKernel() = default;
  virtual void run() = 0;
};

template <typename... Args>
class BoundKernel final : public QueuedKernel {
 public:
  BoundKernel(void (*kernel)(Args...), Args... args) : kernel_(kernel), args_(args...) {}
  void run() override { std::apply(kernel_, args_); }

 private:
  void (*kernel_)(Args...);
  std::tuple<Args...> args_;
};

// A pointer among a launch's arguments, which must address memory the device can reach.
struct PointerArgument {
  unsigned index;
  std::uintptr_t address;
};

cudaError_t submit(const LaunchConfig& config, QueuedKernel* kernel,
                   const PointerArgument* pointers, unsigned count);

template <typename T>
void note_pointer(PointerArgument* pointers, unsigned& count, unsigned index, const T& value) {
  if constexpr (std::is_pointer_v<T> && !std::is_function_v<std::remove_pointer_t<T>>) {
    pointers[count++] = PointerArgument{index, reinterpret_cast<std::uintptr_t>(value)};
  }
}

// The running block's dynamic shared memory; thread-local because blocks run one per OS thread.
extern thread_local constinit unsigned char* dynamic_smem
    __attribute__((tls_model("initial-exec")));

// The running block's copy of the static shared variable declared at `site` (the address of an
// object unique to the declaration), `bytes` long: placed in the block's arena by the first CUDA
// thread that reaches the declaration, garbage-filled and guarded; the same address for every
// thread of the block.
void* static_shared(const void* site, std::size_t bytes, std::size_t align, const char* name,
                    const char* file, int line);

void syncthreads(const char* file, int line);
enum class BlockReduce : unsigned char { none, count, all, any };
int syncthreads_reduce(BlockReduce op, int predicate, const char* file, int line);

enum class WarpOp : unsigned char {
  sync,
  shfl_idx,
  shfl_up,
  shfl_down,
  shfl_xor,
  ballot,
  any,
  all,
  active,
  mma_tf32,  // the warp matrix operations of matrix.h: value points at the lane's operands
  mma_bf16,
  ldmatrix
};
unsigned long long warp_op(WarpOp op, unsigned mask, unsigned long long value, int arg, int width,
                           const std::source_location& where);
void thread_fence();

template <typename T>
unsigned long long to_bits(T value) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>,
                "warp shuffles move trivially copyable values of at most 8 bytes");
  unsigned long long bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  return bits;
}

template <typename T>
T from_bits(unsigned long long bits) {
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

}  // namespace detail

// Runs `body` once per CUDA thread of the grid, synchronously, after the work queued before it on
// the stream; returns the launch's error (a fault inside the kernel included).
template <typename Body>
cudaError_t launch(const LaunchConfig& config, Body&& body) {
  using B = std::remove_reference_t<Body>;
  return detail::launch(
      config, [](void* state) { (*static_cast<B*>(state))(); },
      const_cast<void*>(static_cast<const void*>(std::addressof(body))));
}

// Queues `kernel(args...)` on the launch's stream, as <<<>>> does; it runs when the host
// synchronises with that stream (or at once under CUDA_LAUNCH_BLOCKING=1). The configuration and
// the pointer arguments are checked now; faults inside the kernel surface at the synchronisation.
template <typename... KernelArgs>
cudaError_t launch_kernel(const LaunchConfig& config, void (*kernel)(KernelArgs...),
                          std::type_identity_t<KernelArgs>... args) {
  detail::PointerArgument pointers[sizeof...(KernelArgs) + 1];
  unsigned count = 0;
  unsigned index = 0;
  (detail::note_pointer(pointers, count, index++, args), ...);
  return detail::submit(config, new detail::BoundKernel<KernelArgs...>(kernel, args...), pointers,
                        count);
}

// Why the last failing launch or runtime call of this host thread failed, in words.
std::string last_error_detail();

inline void* dynamic_shared_memory() {
  return detail::dynamic_smem;
}

}  // namespace ge::emu

// ---- built-in variables: written by the scheduler before it resumes a CUDA thread ----
extern thread_local constinit uint3 threadIdx __attribute__((tls_model("initial-exec")));
extern thread_local constinit uint3 blockIdx __attribute__((tls_model("initial-exec")));
extern thread_local constinit dim3 blockDim __attribute__((tls_model("initial-exec")));
extern thread_local constinit dim3 gridDim __attribute__((tls_model("initial-exec")));
inline constexpr int warpSize = 32;

// ---- barriers and warp intrinsics ----
#define __syncthreads() ::ge::emu::detail::syncthreads(__FILE__, __LINE__)
#define __syncthreads_count(predicate)                                                      \
  ::ge::emu::detail::syncthreads_reduce(::ge::emu::detail::BlockReduce::count, (predicate), \
                                        __FILE__, __LINE__)
#define __syncthreads_and(predicate)                                                      \
  ::ge::emu::detail::syncthreads_reduce(::ge::emu::detail::BlockReduce::all, (predicate), \
                                        __FILE__, __LINE__)
#define __syncthreads_or(predicate)                                                       \
  ::ge::emu::detail::syncthreads_reduce(::ge::emu::detail::BlockReduce::any, (predicate), \
                                        __FILE__, __LINE__)

inline void __syncwarp(unsigned mask = 0xffffffffu,
                       std::source_location where = std::source_location::current()) {
  ::ge::emu::detail::warp_op(::ge::emu::detail::WarpOp::sync, mask, 0, 0, warpSize, where);
}

template <typename T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
              std::source_location where = std::source_location::current()) {
  using namespace ::ge::emu::detail;
  return from_bits<T>(warp_op(WarpOp::shfl_idx, mask, to_bits(var), src_lane, width, where));
}

template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 std::source_location where = std::source_location::current()) {
  using namespace ::ge::emu::detail;
  return from_bits<T>(
      warp_op(WarpOp::shfl_up, mask, to_bits(var), static_cast<int>(delta), width, where));
}

template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   std::source_location where = std::source_location::current()) {
  using namespace ::ge::emu::detail;
  return from_bits<T>(
      warp_op(WarpOp::shfl_down, mask, to_bits(var), static_cast<int>(delta), width, where));
}

template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                  std::source_location where = std::source_location::current()) {
  using namespace ::ge::emu::detail;
  return from_bits<T>(warp_op(WarpOp::shfl_xor, mask, to_bits(var), lane_mask, width, where));
}

inline unsigned __ballot_sync(unsigned mask, int predicate,
                              std::source_location where = std::source_location::current()) {
  using namespace ::ge::emu::detail;
  return static_cast<unsigned>(warp_op(WarpOp::ballot, mask, predicate != 0, 0, warpSize, where));
}

inline int __any_sync(unsigned mask, int predicate,
                      std::source_location where = std::source_location::current()) {
  using namespace ::ge::emu::detail;
  return static_cast<int>(warp_op(WarpOp::any, mask, predicate != 0, 0, warpSize, where));
}

inline int __all_sync(unsigned mask, int predicate,
                      std::source_location where = std::source_location::current()) {
  using namespace ::ge::emu::detail;
  return static_cast<int>(warp_op(WarpOp::all, mask, predicate != 0, 0, warpSize, where));
}

// The lanes of the warp that reach __activemask together: it resolves once every other lane has
// exited or is blocked elsewhere, which is what convergence means when lanes run one at a time.
inline unsigned __activemask(std::source_location where = std::source_location::current()) {
  using namespace ::ge::emu::detail;
  return static_cast<unsigned>(warp_op(WarpOp::active, 0, 0, 0, warpSize, where));
}

inline void __threadfence() {
  ::ge::emu::detail::thread_fence();
}
inline void __threadfence_block() {
  ::ge::emu::detail::thread_fence();
}
inline void __threadfence_system() {
  ::ge::emu::detail::thread_fence();
}

// ---- atomics: CUDA's signatures, relaxed like the hardware's (blocks run in parallel) ----
#define GE_EMU_ATOMIC_BITWISE(T)                                                 \
  inline T atomicAdd(T* address, T val) {                                        \
    return __atomic_fetch_add(address, val, __ATOMIC_RELAXED);                   \
  }                                                                              \
  inline T atomicAnd(T* address, T val) {                                        \
    return __atomic_fetch_and(address, val, __ATOMIC_RELAXED);                   \
  }                                                                              \
  inline T atomicOr(T* address, T val) {                                         \
    return __atomic_fetch_or(address, val, __ATOMIC_RELAXED);                    \
  }                                                                              \
  inline T atomicXor(T* address, T val) {                                        \
    return __atomic_fetch_xor(address, val, __ATOMIC_RELAXED);                   \
  }                                                                              \
  inline T atomicExch(T* address, T val) {                                       \
    return __atomic_exchange_n(address, val, __ATOMIC_RELAXED);                  \
  }                                                                              \
  inline T atomicCAS(T* address, T compare, T val) {                             \
    __atomic_compare_exchange_n(address, &compare, val, false, __ATOMIC_RELAXED, \
                                __ATOMIC_RELAXED);                               \
    return compare;                                                              \
  }
#define GE_EMU_ATOMIC_MIN_MAX(T)                                                                 \
  inline T atomicMax(T* address, T val) {                                                        \
    T old = __atomic_load_n(address, __ATOMIC_RELAXED);                                          \
    while (old < val && !__atomic_compare_exchange_n(address, &old, val, true, __ATOMIC_RELAXED, \
                                                     __ATOMIC_RELAXED)) {                        \
    }                                                                                            \
    return old;                                                                                  \
  }                                                                                              \
  inline T atomicMin(T* address, T val) {                                                        \
    T old = __atomic_load_n(address, __ATOMIC_RELAXED);                                          \
    while (val < old && !__atomic_compare_exchange_n(address, &old, val, true, __ATOMIC_RELAXED, \
                                                     __ATOMIC_RELAXED)) {                        \
    }                                                                                            \
    return old;                                                                                  \
  }
// The overload set of CUDA's sm_90 atomics, so that code using them also builds with nvcc.
// clang-format off
GE_EMU_ATOMIC_BITWISE(int)
GE_EMU_ATOMIC_BITWISE(unsigned int)
GE_EMU_ATOMIC_BITWISE(unsigned long long int)
GE_EMU_ATOMIC_MIN_MAX(int)
GE_EMU_ATOMIC_MIN_MAX(unsigned int)
GE_EMU_ATOMIC_MIN_MAX(long long int)
GE_EMU_ATOMIC_MIN_MAX(unsigned long long int)
// clang-format on
#undef GE_EMU_ATOMIC_BITWISE
#undef GE_EMU_ATOMIC_MIN_MAX
inline int atomicSub(int* address, int val) {
  return __atomic_fetch_sub(address, val, __ATOMIC_RELAXED);
}
inline unsigned atomicSub(unsigned* address, unsigned val) {
  return __atomic_fetch_sub(address, val, __ATOMIC_RELAXED);
}

namespace ge::emu::detail {
template <typename T, typename Op>
T atomic_update(T* address, Op op) {
  T old;
  __atomic_load(address, &old, __ATOMIC_RELAXED);
  T desired;
  do {
    desired = op(old);
  } while (!__atomic_compare_exchange(address, &old, &desired, true, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED));
  return old;
}
}  // namespace ge::emu::detail

inline float atomicAdd(float* address, float val) {
  return ::ge::emu::detail::atomic_update(address, [val](float old) { return old + val; });
}
inline double atomicAdd(double* address, double val) {
  return ::ge::emu::detail::atomic_update(address, [val](double old) { return old + val; });
}
inline float atomicExch(float* address, float val) {
  float old;
  __atomic_exchange(address, &val, &old, __ATOMIC_RELAXED);
  return old;
}
inline unsigned atomicInc(unsigned* address, unsigned limit) {
  return ::ge::emu::detail::atomic_update(
      address, [limit](unsigned old) { return old >= limit ? 0u : old + 1; });
}
inline unsigned atomicDec(unsigned* address, unsigned limit) {
  return ::ge::emu::detail::atomic_update(
      address, [limit](unsigned old) { return (old == 0 || old > limit) ? limit : old - 1; });
}

// ---- device math that glibc and the toolkit headers do not give the host compiler ----
inline float rsqrtf(float x) {
  return 1.0f / std::sqrt(x);
}
inline double rsqrt(double x) {
  return 1.0 / std::sqrt(x);
}
inline float rcbrtf(float x) {
  return 1.0f / std::cbrt(x);
}
inline float __fdividef(float x, float y) {
  return x / y;
}
inline float __saturatef(float x) {
  return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : (x != x ? 0.0f : x));
}
inline float __fadd_rn(float x, float y) {
  return x + y;
}
inline float __fsub_rn(float x, float y) {
  return x - y;
}
inline float __fmul_rn(float x, float y) {
  return x * y;
}
inline float __fdiv_rn(float x, float y) {
  return x / y;
}
inline float __frcp_rn(float x) {
  return 1.0f / x;
}
inline float __fsqrt_rn(float x) {
  return std::sqrt(x);
}
inline float __fmaf_rn(float x, float y, float z) {
  return std::fma(x, y, z);
}
inline double __fma_rn(double x, double y, double z) {
  return std::fma(x, y, z);
}
inline double __dadd_rn(double x, double y) {
  return x + y;
}
inline double __dmul_rn(double x, double y) {
  return x * y;
}
inline int __float_as_int(float x) {
  return std::bit_cast<int>(x);
}
inline float __int_as_float(int x) {
  return std::bit_cast<float>(x);
}
inline unsigned __float_as_uint(float x) {
  return std::bit_cast<unsigned>(x);
}
inline float __uint_as_float(unsigned x) {
  return std::bit_cast<float>(x);
}
inline long long __double_as_longlong(double x) {
  return std::bit_cast<long long>(x);
}
inline double __longlong_as_double(long long x) {
  return std::bit_cast<double>(x);
}
inline int __popc(unsigned x) {
  return __builtin_popcount(x);
}
inline int __popcll(unsigned long long x) {
  return __builtin_popcountll(x);
}
inline int __clz(int x) {
  return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x));
}
inline int __clzll(long long x) {
  return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x));
}
inline int __ffs(int x) {
  return __builtin_ffs(x);
}
inline int __ffsll(long long x) {
  return __builtin_ffsll(x);
}
inline unsigned __brev(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  return __builtin_bswap32(x);
}
inline int __mul24(int x, int y) {
  return x * y;
}
inline unsigned __umul24(unsigned x, unsigned y) {
  return x * y;
}
inline int __mulhi(int x, int y) {
  return static_cast<int>((static_cast<long long>(x) * y) >> 32);
}
inline unsigned __umulhi(unsigned x, unsigned y) {
  return static_cast<unsigned>((static_cast<unsigned long long>(x) * y) >> 32);
}
template <typename T>
T __ldg(const T* address) {
  return *address;
}

// glibc declares these names (as aliases it does not export), so they are defined, not declared.
extern "C" {
inline float __expf(float x) noexcept {
  return ::expf(x);
}
inline float __exp10f(float x) noexcept {
  return ::exp10f(x);
}
inline float __logf(float x) noexcept {
  return ::logf(x);
}
inline float __log2f(float x) noexcept {
  return ::log2f(x);
}
inline float __log10f(float x) noexcept {
  return ::log10f(x);
}
inline float __sinf(float x) noexcept {
  return ::sinf(x);
}
inline float __cosf(float x) noexcept {
  return ::cosf(x);
}
inline float __tanf(float x) noexcept {
  return ::tanf(x);
}
inline float __powf(float x, float y) noexcept {
  return ::powf(x, y);
}
}
inline void __sincosf(float x, float* s, float* c) {
  ::sincosf(x, s, c);
}

// CUDA's global min/max overloads for device code.
inline int min(int a, int b) {
  return a < b ? a : b;
}
inline int max(int a, int b) {
  return a > b ? a : b;
}
inline unsigned min(unsigned a, unsigned b) {
  return a < b ? a : b;
}
inline unsigned max(unsigned a, unsigned b) {
  return a > b ? a : b;
}
inline long long min(long long a, long long b) {
  return a < b ? a : b;
}
inline long long max(long long a, long long b) {
  return a > b ? a : b;
}
inline unsigned long long min(unsigned long long a, unsigned long long b) {
  return a < b ? a : b;
}
inline unsigned long long max(unsigned long long a, unsigned long long b) {
  return a > b ? a : b;
}
inline float min(float a, float b) {
  return std::fmin(a, b);
}
inline float max(float a, float b) {
  return std::fmax(a, b);
}
inline double min(double a, double b) {
  return std::fmin(a, b);
}
inline double max(double a, double b) {
  return std::fmax(a, b);
}
