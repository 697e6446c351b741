#pragma once
// State shared by the launcher and the runtime API: per-thread last error, per-kernel attributes,
// known streams, the per-stream queues of deferred work, and the device allocations.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "ganengine/emu/cuda.h"

namespace ge::emu::detail {

// Records `error` as this thread's last error with its explanation; returns `error`.
cudaError_t fail(cudaError_t error, std::string detail);

// The dynamic shared memory a launch of `func` may use (48 KiB unless raised by
// cudaFuncSetAttribute).
std::size_t max_dynamic_shared(const void* func);

bool is_valid_stream(cudaStream_t stream);

// What a piece of deferred work found: a fault inside a kernel, or cudaSuccess.
struct Fault {
  cudaError_t error = cudaSuccess;
  std::string detail;
};
using Work = std::function<Fault()>;

// Queues `work` on a valid stream behind the work already there, and behind what the legacy
// default stream's implicit synchronisation orders before it. Under CUDA_LAUNCH_BLOCKING=1 the
// stream is drained at once and the fault, if any, returned.
cudaError_t enqueue(cudaStream_t stream, Work work);

// Runs the work queued on `stream`, and the work of other streams it waits for. Returns the
// asynchronous error that work (or earlier deferred work) raised, once, as the runtime reports it
// at a synchronisation point.
cudaError_t synchronize_stream(cudaStream_t stream);
// Runs the work of every stream.
cudaError_t synchronize_device();
// The asynchronous error raised by deferred work and not yet reported, once; cudaSuccess if none.
cudaError_t take_fault();

// True when CUDA_LAUNCH_BLOCKING=1: work runs when it is queued, as the runtime does then.
bool launch_blocking();

// Where a pointer lives: inside a cudaMalloc allocation, a cudaMallocHost one, or neither
// (pageable host memory, or freed memory).
enum class Residence { device, pinned, host };
Residence residence(const void* ptr);

// The register count per thread a kernel is known to use: declared with
// ge::emu::set_kernel_registers, else the sm_90 ptxas table's entry for its name; 0 if unknown.
int kernel_registers(const void* func, const char* name);

}  // namespace ge::emu::detail
