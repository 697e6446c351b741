#pragma once
// The "last block combines" step of the deterministic multi-block reductions (fused losses,
// instance norm's parameter gradients, batch norm's split channels): every block writes its
// partials, then draws a ticket; the block that draws the last one adds the partials in a fixed
// order, so the result does not depend on which block finishes last. Atomics only elect it.
#include "cuda/launch.cuh"

namespace ge::kernels::cuda {

// Call from every thread of the block once thread 0 has written the block's partials. Thread 0
// publishes them (a fence), draws from *ticket (zero on entry; atomicInc wraps it back to zero
// after `count` draws) and, when it drew the last, fences again so that the other blocks'
// partials are visible to this block's reads (the memory model needs a fence on both sides of
// the ticket). `last` is the block's shared flag. True in the block that drew the last ticket;
// it should read the partials through a volatile pointer (from L2, never a stale L1 line).
__device__ __forceinline__ bool drew_last_ticket(unsigned* ticket, unsigned count, bool& last) {
  if (threadIdx.x == 0) {
    __threadfence();
    last = atomicInc(ticket, count - 1) == count - 1;
    if (last) __threadfence();
  }
  __syncthreads();
  return last;
}

}  // namespace ge::kernels::cuda
