// Caching allocator for CUDA memory. Blocks are rounded to a size class and, once freed, kept
// in a free list keyed by size for reuse, so steady-state training makes no cudaMalloc calls.
// All engine work on a device goes through one stream, so a block freed by the host can be
// handed out again at once: any kernel still using it is ordered before the new user's work.
#include <array>
#include <mutex>

#include "block_pool.h"
#include "cuda/runtime.h"
#include "ganengine/allocator.h"
#include "ganengine/error.h"
#include "storage.h"

namespace ge {

namespace {

constexpr size_t kSmallGranularity = 512;
constexpr size_t kSmallLimit = 1 << 20;  // requests up to 1 MiB use the small pool
constexpr size_t kLargeGranularity = 2 << 20;

size_t round_size(size_t nbytes) {
  if (nbytes == 0) nbytes = 1;
  const size_t g = nbytes <= kSmallLimit ? kSmallGranularity : kLargeGranularity;
  return (nbytes + g - 1) / g * g;
}

class CachingAllocator {
 public:
  void* allocate(size_t nbytes, int device) {
    const size_t size = round_size(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    if (void* ptr = pool_.reuse(size)) return ptr;
    cuda_rt::set_device(Device::cuda(device));
    void* ptr = nullptr;
    cudaError_t err = cudaMalloc(&ptr, size);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      release_cached_locked(device);
      err = cudaMalloc(&ptr, size);
    }
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      const BlockPoolCounts& c = pool_.counts();
      fail("cuda allocator: out of memory on cuda:", device, " allocating ", nbytes,
           " bytes (rounded to ", size, "); ", c.bytes_reserved, " bytes reserved, ",
           c.bytes_in_use, " in use: ", cudaGetErrorString(err));
    }
    pool_.add(ptr, size);
    return ptr;
  }

  void free(void* ptr) {
    if (ptr == nullptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    // Not ours, or freed twice: ignored rather than corrupting the pool.
    if (const auto size = pool_.release(ptr)) pool_.cache(ptr, *size);
  }

  void empty_cache(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached_locked(device);
  }

  CudaAllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    const BlockPoolCounts& c = pool_.counts();
    return {c.system_allocs, c.cache_hits, c.bytes_in_use, c.bytes_reserved};
  }

 private:
  void release_cached_locked(int device) {
    if (!pool_.has_cached()) return;
    cuda_rt::set_device(Device::cuda(device));
    // Blocks may still be read by queued kernels; cudaFree waits for the device, but the
    // engine stream is synchronised first to make the dependency explicit.
    (void)cudaStreamSynchronize(cuda_rt::stream(Device::cuda(device)));
    pool_.drain([](void* ptr, size_t) { (void)cudaFree(ptr); });
  }

  std::mutex mutex_;
  BlockPool pool_;
};

constexpr int kMaxDevices = 16;

// Leaked on purpose: tensors held in static objects are freed after main returns, when a
// destroyed allocator would be a use-after-destruction.
CachingAllocator& allocator_for(int device) {
  GE_CHECK(device >= 0 && device < kMaxDevices, "cuda allocator: device index ", device,
           " out of range [0, ", kMaxDevices, ")");
  static auto* allocators = new std::array<CachingAllocator, kMaxDevices>();
  return (*allocators)[static_cast<size_t>(device)];
}

}  // namespace

void* cuda_allocate(size_t nbytes, int device) {
  GE_CHECK(cuda_is_available(), "cuda allocator: no CUDA device is available (allocating ", nbytes,
           " bytes on cuda:", device, ")");
  return allocator_for(device).allocate(nbytes, device);
}

void cuda_free(void* ptr, int device) {
  allocator_for(device).free(ptr);
}

CudaAllocatorStats cuda_allocator_stats() {
  CudaAllocatorStats total;
  for (int d = 0; d < cuda_device_count() && d < kMaxDevices; ++d) {
    const CudaAllocatorStats s = allocator_for(d).stats();
    total.device_mallocs += s.device_mallocs;
    total.cache_hits += s.cache_hits;
    total.bytes_in_use += s.bytes_in_use;
    total.bytes_reserved += s.bytes_reserved;
  }
  return total;
}

void cuda_empty_cache() {
  for (int d = 0; d < cuda_device_count() && d < kMaxDevices; ++d)
    allocator_for(d).empty_cache(d);
}

}  // namespace ge
