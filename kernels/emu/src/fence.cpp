// __threadfence: blocks run on parallel OS threads, so the fence is a real one.
#include <atomic>

#include "ganengine/emu/cuda.h"

namespace ge::emu::detail {

void thread_fence() {
#if defined(GE_TSAN)
  // TSan does not model standalone fences; a sequentially consistent RMW orders as strongly.
  static std::atomic<int> fence_point{0};
  fence_point.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace ge::emu::detail
