// Host memory: 64-byte aligned so that SIMD loads in the CPU kernels never split a cache line.
#include <cstdlib>

#include "ganengine/error.h"
#include "storage.h"

namespace ge {

namespace {
constexpr size_t kCpuAlignment = 64;
}

void* cpu_allocate(size_t nbytes) {
  // aligned_alloc requires a multiple of the alignment, and a zero-size tensor still gets a
  // unique, freeable pointer.
  const size_t rounded =
      nbytes == 0 ? kCpuAlignment : (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  void* ptr = std::aligned_alloc(kCpuAlignment, rounded);
  GE_CHECK(ptr != nullptr, "cpu allocator: out of memory allocating ", nbytes, " bytes");
  return ptr;
}

void cpu_free(void* ptr) {
  std::free(ptr);
}

}  // namespace ge
