// Host memory: 64-byte aligned so that SIMD loads in the CPU kernels never split a cache line,
// and cached once freed. A training step allocates and frees the same large activations and
// gradients every time; from the system each would be fresh pages, zeroed by the kernel on their
// first touch (about a fifth of a step's time at large sizes), so blocks of kCpuCachedMinBytes
// and more are kept for reuse, rounded to size classes, up to a limit on the cached bytes.
#include <cstdlib>
#include <mutex>
#include <optional>

#include "block_pool.h"
#include "ganengine/allocator.h"
#include "ganengine/error.h"
#include "storage.h"

namespace ge {

namespace {

constexpr size_t kCpuAlignment = 64;
// Size classes of cached blocks: a quarter of the size's power of two, at least a page, so a
// block wastes at most a quarter of its request.
constexpr size_t kPage = 4096;

size_t cached_size(size_t nbytes) {
  size_t top = kPage;
  while (top * 2 <= nbytes)
    top *= 2;
  const size_t step = top / 4 > kPage ? top / 4 : kPage;
  return (nbytes + step - 1) / step * step;
}

void* system_allocate(size_t nbytes) {
  // aligned_alloc requires a multiple of the alignment, and a zero-size tensor still gets a
  // unique, freeable pointer.
  const size_t rounded =
      nbytes == 0 ? kCpuAlignment : (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  return std::aligned_alloc(kCpuAlignment, rounded);
}

uint64_t limit_from_environment() {
  constexpr uint64_t kDefaultMb = 1024;
  const char* env = std::getenv("GE_CPU_CACHE_MB");
  if (env == nullptr || *env == '\0') return kDefaultMb << 20;
  char* end = nullptr;
  const unsigned long long mb = std::strtoull(env, &end, 10);
  GE_CHECK(*end == '\0' && env[0] != '-' && mb < (1ull << 40),
           "GE_CPU_CACHE_MB: expected a number of mebibytes (0 turns the cache off), got '", env,
           "'");
  return static_cast<uint64_t>(mb) << 20;
}

class CpuCache {
 public:
  void* allocate(size_t nbytes) {
    if (nbytes < kCpuCachedMinBytes) return checked(system_allocate(nbytes), nbytes);
    const size_t size = cached_size(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    limit();  // reads the environment here, where an error may be thrown
    if (void* ptr = pool_.reuse(size)) return ptr;
    void* ptr = system_allocate(size);
    if (ptr == nullptr) {
      release_locked();
      ptr = system_allocate(size);
    }
    checked(ptr, nbytes);
    pool_.add(ptr, size);
    return ptr;
  }

  void free(void* ptr, size_t nbytes) {
    if (ptr == nullptr) return;
    if (nbytes < kCpuCachedMinBytes) {  // never cached
      std::free(ptr);
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    const auto size = pool_.release(ptr);
    if (!size) return;  // not ours, or freed twice: ignored rather than corrupting the pool
    if (pool_.cached_bytes() + *size <= limit_.value_or(0)) {
      pool_.cache(ptr, *size);
    } else {
      pool_.forget(*size);
      std::free(ptr);
    }
  }

  void empty() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_locked();
  }

  uint64_t set_limit(uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t before = limit();
    limit_ = bytes;
    if (pool_.cached_bytes() > bytes) release_locked();
    return before;
  }

  CpuAllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    const BlockPoolCounts& c = pool_.counts();
    return {c.system_allocs, c.cache_hits, c.bytes_in_use, c.bytes_reserved};
  }

 private:
  static void* checked(void* ptr, size_t nbytes) {
    GE_CHECK(ptr != nullptr, "cpu allocator: out of memory allocating ", nbytes, " bytes");
    return ptr;
  }

  uint64_t limit() {
    if (!limit_) limit_ = limit_from_environment();
    return *limit_;
  }

  // Frees every cached block (a simple policy: the cache refills from the next steps).
  void release_locked() {
    pool_.drain([](void* ptr, size_t) { std::free(ptr); });
  }

  std::mutex mutex_;
  BlockPool pool_;
  std::optional<uint64_t> limit_;
};

// Leaked on purpose: tensors held in static objects are freed after main returns.
CpuCache& cache() {
  static auto* instance = new CpuCache();
  return *instance;
}

}  // namespace

void* cpu_allocate(size_t nbytes) {
  return cache().allocate(nbytes);
}

void cpu_free(void* ptr, size_t nbytes) {
  cache().free(ptr, nbytes);
}

CpuAllocatorStats cpu_allocator_stats() {
  return cache().stats();
}

void cpu_empty_cache() {
  cache().empty();
}

uint64_t set_cpu_cache_limit(uint64_t bytes) {
  return cache().set_limit(bytes);
}

}  // namespace ge
