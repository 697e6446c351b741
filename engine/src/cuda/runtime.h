#pragma once
// The engine's view of the CUDA runtime. In emulator builds the same functions are provided by
// kernels/emu, so this code is identical for a real GPU and the emulator. A build without the
// CUDA backend (GE_CUDA_OFF) defines them in backend_absent.cpp: no device is ever counted, and
// everything that would need one refuses with an error that says how to build with CUDA.
#include <cstddef>
#include <string>

#if !defined(GE_CUDA_OFF)
#include <cuda_runtime_api.h>
#endif

#include "ganengine/device.h"
#include "ganengine/kernels/types.h"

namespace ge::cuda_rt {

#if !defined(GE_CUDA_OFF)
// Throws ge::Error naming `what` and the CUDA error when `err` is not cudaSuccess.
void check(cudaError_t err, const char* what);
#endif

// CUDA devices present: 0 without a GPU, a driver or (GE_CUDA_OFF) the backend itself.
int device_count();
// Why no CUDA device can be used, for errors that refuse one ("no CUDA device is available",
// and in a build without the backend, what to build instead).
const char* unavailable_reason();
// The engine stream of a CUDA device: every kernel, memset and copy the engine issues for that
// device goes to it, so ordering between them is the stream's order.
kernels::Stream stream(Device device);
// "NVIDIA H100 80GB HBM3, sm_90, 132 SMs": the device's name, architecture and SM count.
std::string device_label(Device device);
// Makes `device` current for the calling thread (allocations and stream creation need it).
void set_device(Device device);
void sync_stream(Device device);
// `bytes` from `device`'s memory to the host, queued behind the work already on the engine
// stream and waited for (the host reads the result right away).
void copy_to_host(void* host, const void* src, size_t bytes, Device device);
// `bytes` from the host into `device`'s memory, on the engine stream and waited for: the host
// buffer may be a temporary the caller frees right after, which is safe for pageable memory on
// every runtime only once the copy is done.
void copy_from_host(void* dst, const void* host, size_t bytes, Device device);

}  // namespace ge::cuda_rt
