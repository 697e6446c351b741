#pragma once
// The engine's view of the CUDA runtime. In emulator builds the same functions are provided by
// kernels/emu, so this code is identical for a real GPU and the emulator.
#include <cuda_runtime_api.h>

#include "ganengine/device.h"
#include "ganengine/kernels/types.h"

namespace ge::cuda_rt {

// Throws ge::Error naming `what` and the CUDA error when `err` is not cudaSuccess.
void check(cudaError_t err, const char* what);

// The engine stream of a CUDA device: every kernel, memset and copy the engine issues for that
// device goes to it, so ordering between them is the stream's order.
kernels::Stream stream(Device device);
// Makes `device` current for the calling thread (allocations and stream creation need it).
void set_device(Device device);
void sync_stream(Device device);

}  // namespace ge::cuda_rt
