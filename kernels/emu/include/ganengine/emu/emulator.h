#pragma once
// Control of the CUDA emulator: the order in which it runs the threads of a block between
// barriers (to expose missing __syncthreads), the emulated target, per-kernel register counts,
// and counters for benchmarks.
//
// Launches, copies and cuBLAS calls are queued per stream and run when the host synchronises
// with the stream, as on a GPU; CUDA_LAUNCH_BLOCKING=1 runs each when it is queued.
#include <cstdint>
#include <string>

#include "ganengine/emu/cuda.h"

namespace ge::emu {

enum class ThreadOrder { forward, reverse, random };

struct Schedule {
  ThreadOrder order = ThreadOrder::forward;
  std::uint64_t seed = 0;  // for ThreadOrder::random
};

// The initial schedule comes from GE_EMU_ORDER=forward|reverse|random[:seed].
Schedule schedule();
void set_schedule(Schedule schedule);

// Sets the schedule for the lifetime of the guard, then restores the previous one.
class ScopedSchedule {
 public:
  explicit ScopedSchedule(Schedule schedule) : previous_(ge::emu::schedule()) {
    set_schedule(schedule);
  }
  ScopedSchedule(const ScopedSchedule&) = delete;
  ScopedSchedule& operator=(const ScopedSchedule&) = delete;
  ~ScopedSchedule() { set_schedule(previous_); }

 private:
  Schedule previous_;
};

// Parses "forward", "reverse", "random" or "random:SEED"; throws std::invalid_argument.
Schedule parse_schedule(const std::string& text);

// The emulated GPU (an H100 SXM, sm_90), as cudaGetDeviceProperties reports it.
const cudaDeviceProp& target_properties();

// OS threads that run blocks (GE_EMU_THREADS, default hardware_concurrency); the launching
// thread is one of them.
int worker_threads();
void set_worker_threads(int count);

// Stack size of one emulated CUDA thread (GE_EMU_STACK_KB, default 64 KiB).
std::size_t fiber_stack_bytes();

// Registers per thread that launches of `func` need, as ptxas would report them; checked at each
// launch against the SM's 65536 (cudaErrorLaunchOutOfResources). Overrides the sm_90 ptxas table,
// which covers the project's kernels by name; 0 removes the declaration.
void set_kernel_registers(const void* func, int registers);
// The sm_90 ptxas table's count for a kernel named as GE_LAUNCH names it; 0 when not listed.
int table_registers(const std::string& name);

struct Stats {
  std::uint64_t launches = 0;
  std::uint64_t blocks = 0;
  std::uint64_t threads = 0;         // CUDA threads run
  std::uint64_t fibers_created = 0;  // fibers are kept per OS thread and reused across blocks
  std::uint64_t switches = 0;        // context switches, both directions counted
};
Stats stats();
void reset_stats();

}  // namespace ge::emu
