#pragma once
// NumPy .npy files (format 1.0, little-endian float32, C order), so samples can be checked with
// anyone's tools (numpy.load).
#include <string>
#include <string_view>

#include "ganengine/tensor.h"

namespace ge::models {

// Writes `t` (float32, any device, any shape) to `path` atomically (a temporary file renamed
// into place); throws ge::Error naming the path when it cannot be written.
void save_npy(const std::string& path, const Tensor& t);

// Reads a float32 ('<f4', C order) .npy file onto the CPU; throws ge::Error naming the path and
// the defect (bad magic, unsupported version or dtype, Fortran order, truncated data).
Tensor load_npy(const std::string& path);
// load_npy of a file's bytes already in memory; errors name `name` where load_npy names the path.
Tensor load_npy_from_memory(std::string_view bytes, const std::string& name);

}  // namespace ge::models
