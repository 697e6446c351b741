#pragma once
// The state of one emulated block as the scheduler and the warp resolver see it.
#include <boost/context/fiber.hpp>

#include <cstdint>
#include <source_location>
#include <string>
#include <vector>

#include "fiber_stack.h"
#include "ganengine/emu/cuda.h"

namespace ge::emu::detail {

enum class Wait : unsigned char { running, barrier, warp, done };

// A cp.async in flight: the source bytes as read at issue, and the group it belongs to (the
// thread's async_groups at issue: the group its next commit closes).
struct AsyncCopy {
  void* dst;
  unsigned char data[16];
  unsigned bytes;
  unsigned group;
};

// One CUDA thread: its fiber (kept and reused across blocks) and what it waits for.
struct ThreadSlot {
  boost::context::fiber context;  // the suspended CUDA thread, held by the scheduler
  boost::context::fiber caller;   // the suspended scheduler, held by the CUDA thread
  FiberStack stack;
  void* tsan_fiber = nullptr;
  void* asan_fake_stack = nullptr;

  uint3 tid{};
  unsigned linear = 0;
  Wait wait = Wait::done;
  bool abort = false;
  std::string failure;  // an exception that escaped the kernel

  // at a block barrier
  const char* file = nullptr;
  int line = 0;
  BlockReduce reduce = BlockReduce::none;
  int predicate = 0;
  int reduce_result = 0;

  // at a warp operation
  WarpOp op = WarpOp::sync;
  unsigned mask = 0;
  unsigned long long value = 0;
  int arg = 0;
  int width = 32;
  std::source_location where;
  unsigned long long result = 0;

  // cp.async copies not yet written to shared memory, in issue order (matrix.h)
  std::vector<AsyncCopy> async_copies;
  unsigned async_groups = 0;  // groups committed since the block started
};

struct BlockView {
  const char* kernel;
  uint3 index;
  dim3 dim;
  ThreadSlot* const* threads;  // `count` slots in linear thread order
  unsigned count;
};

// Releases every warp group whose lanes all reached the same operation with the same mask,
// appending their ids to `released`. Returns an error message for a misuse that no schedule can
// fix (a mask without the caller, a bad width), else an empty string.
std::string release_warps(const BlockView& block, std::vector<unsigned>& released);

// Why the lanes waiting at warp operations cannot proceed, for a stuck block.
std::string describe_stuck_warps(const BlockView& block);

const char* warp_op_name(WarpOp op);

// Carries out a warp matrix operation (WarpOp::mma_*, ldmatrix) for the 32 lanes that reached it
// together; returns an error message for a misuse (a bad address), else an empty string.
std::string run_matrix_op(WarpOp op, ThreadSlot* const* lanes);
bool is_matrix_op(WarpOp op);

// The CUDA thread running on this OS thread; aborts the process when called outside a kernel.
ThreadSlot& running_thread(const char* what);
// Ends the running CUDA thread's block with `why` as the launch's error.
[[noreturn]] void fail_running_thread(ThreadSlot& thread, std::string why);
// Whether [p, p + bytes) lies in the running block's shared memory.
bool in_shared_memory(const void* p, std::size_t bytes);
std::string thread_name(const uint3& tid);
std::string block_name(const uint3& index);

}  // namespace ge::emu::detail
