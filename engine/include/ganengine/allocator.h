#pragma once
// Memory of tensors. Both devices allocate through a caching allocator: freed blocks are kept
// for reuse and the system is asked (cudaMalloc; aligned_alloc, whose large blocks are fresh
// pages that fault on first touch) only when no cached block fits.
#include <cstdint>

namespace ge {

struct CudaAllocatorStats {
  uint64_t device_mallocs = 0;  // cudaMalloc calls made
  uint64_t cache_hits = 0;      // allocations served from the cache
  uint64_t bytes_in_use = 0;
  uint64_t bytes_reserved = 0;  // in use + cached
};

CudaAllocatorStats cuda_allocator_stats();
void cuda_empty_cache();  // returns cached, unused blocks to the device

// Host memory: blocks of at least kCpuCachedMinBytes are cached (smaller ones go straight to
// malloc, which reuses them without page faults), up to a limit on the cached, unused bytes:
// GE_CPU_CACHE_MB in the environment (default 1024; 0 turns caching off) or set_cpu_cache_limit.
struct CpuAllocatorStats {
  uint64_t system_allocs = 0;   // cached-size blocks obtained from the system
  uint64_t cache_hits = 0;      // allocations served from the cache
  uint64_t bytes_in_use = 0;    // in cached-size blocks
  uint64_t bytes_reserved = 0;  // in use + cached
};
inline constexpr uint64_t kCpuCachedMinBytes = 64 << 10;

CpuAllocatorStats cpu_allocator_stats();
void cpu_empty_cache();  // returns cached, unused blocks to the system
// Sets the limit on cached, unused bytes (releasing blocks above it); returns the previous one.
uint64_t set_cpu_cache_limit(uint64_t bytes);

}  // namespace ge
