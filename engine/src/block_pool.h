#pragma once
// The bookkeeping of a caching allocator, host or device: blocks in use by address, freed blocks
// by size for reuse, and the counts behind the allocator's stats. Not locked: its allocator
// holds a mutex around every call.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>

namespace ge {

struct BlockPoolCounts {
  uint64_t system_allocs = 0;  // blocks obtained from the system (malloc, cudaMalloc)
  uint64_t cache_hits = 0;     // allocations served from the cache
  uint64_t bytes_in_use = 0;
  uint64_t bytes_reserved = 0;  // in use + cached
};

class BlockPool {
 public:
  // A cached block of at least `size` bytes, taken into use, or null. A block is taken only when
  // it wastes at most the request's own size, so large blocks are not pinned down by small ones.
  void* reuse(size_t size) {
    auto it = free_.lower_bound(size);
    if (it == free_.end() || it->first > 2 * size) return nullptr;
    void* ptr = it->second;
    live_[ptr] = it->first;
    counts_.bytes_in_use += it->first;
    cached_bytes_ -= it->first;
    ++counts_.cache_hits;
    free_.erase(it);
    return ptr;
  }

  // A block of `size` bytes fresh from the system, in use.
  void add(void* ptr, size_t size) {
    live_[ptr] = size;
    ++counts_.system_allocs;
    counts_.bytes_reserved += size;
    counts_.bytes_in_use += size;
  }

  // Takes a block out of use; its size, or nothing when the pool does not know it (not ours, or
  // freed twice). The caller then caches it (cache) or returns it to the system (forget).
  std::optional<size_t> release(void* ptr) {
    auto it = live_.find(ptr);
    if (it == live_.end()) return std::nullopt;
    const size_t size = it->second;
    counts_.bytes_in_use -= size;
    live_.erase(it);
    return size;
  }
  void cache(void* ptr, size_t size) {
    free_.emplace(size, ptr);
    cached_bytes_ += size;
  }
  void forget(size_t size) { counts_.bytes_reserved -= size; }

  // Hands every cached block to give_back(ptr, size) and forgets it.
  template <typename F>
  void drain(F&& give_back) {
    for (auto& [size, ptr] : free_) {
      give_back(ptr, size);
      counts_.bytes_reserved -= size;
    }
    free_.clear();
    cached_bytes_ = 0;
  }

  bool has_cached() const { return !free_.empty(); }
  uint64_t cached_bytes() const { return cached_bytes_; }
  const BlockPoolCounts& counts() const { return counts_; }

 private:
  std::multimap<size_t, void*> free_;
  std::unordered_map<void*, size_t> live_;
  uint64_t cached_bytes_ = 0;
  BlockPoolCounts counts_;
};

}  // namespace ge
