#pragma once
// State shared by the launcher and the runtime API: per-thread last error, per-kernel attributes,
// known streams.
#include <cstddef>
#include <string>

#include "ganengine/emu/cuda.h"

namespace ge::emu::detail {

// Records `error` as this thread's last error with its explanation; returns `error`.
cudaError_t fail(cudaError_t error, std::string detail);

// The dynamic shared memory a launch of `func` may use (48 KiB unless raised by
// cudaFuncSetAttribute).
std::size_t max_dynamic_shared(const void* func);

bool is_valid_stream(cudaStream_t stream);

}  // namespace ge::emu::detail
