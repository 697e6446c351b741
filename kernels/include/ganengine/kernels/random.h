#pragma once
// Counter-based random numbers (Philox-4x32-10). Element i of a call draws from counter
// (offset + i / 4, ...) with key = seed, so CPU and CUDA produce the same numbers for the same
// (seed, offset). A call consumes ceil(n / 4) * 4 values of the stream; the caller advances its
// offset by philox_offset_increment(n).
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

inline constexpr uint64_t philox_offset_increment(int64_t n) {
  return static_cast<uint64_t>((n + 3) / 4);
}

namespace cpu {
void uniform(float* y, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi);
void normal(float* y, int64_t n, uint64_t seed, uint64_t offset, float mean, float stddev);
}  // namespace cpu
namespace cuda {
GE_CUDA_LAUNCHER void uniform(float* y, int64_t n, uint64_t seed, uint64_t offset, float lo,
                              float hi, Stream stream);
GE_CUDA_LAUNCHER void normal(float* y, int64_t n, uint64_t seed, uint64_t offset, float mean,
                             float stddev, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
