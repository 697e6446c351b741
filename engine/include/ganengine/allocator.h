#pragma once
// Device memory. CUDA tensors come from a caching allocator: freed blocks are kept for reuse
// and cudaMalloc is called only when no cached block fits.
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

}  // namespace ge
