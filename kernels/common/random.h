#pragma once
// Argument checks and per-block fill shared by the CPU and CUDA random launchers.
#include <cmath>
#include <cstdint>

#include "common/macros.h"
#include "common/philox.h"
#include "ganengine/error.h"

namespace ge::kernels {

enum class Distribution { Uniform, Normal };

// The four values of block g: uniform in [p0, p1), or normal with mean p0 and stddev p1.
template <Distribution D>
GE_HOST_DEVICE void random_block(uint64_t seed, uint64_t offset, uint64_t g, float p0, float p1,
                                 float (&out)[4]) {
  const Philox4 w = philox_block(seed, offset, g);
  if constexpr (D == Distribution::Uniform) {
    for (int k = 0; k < 4; ++k)
      out[k] = uniform_transform(w.v[k], p0, p1);
  } else {
    box_muller(w.v[0], w.v[1], p0, p1, &out[0], &out[1]);
    box_muller(w.v[2], w.v[3], p0, p1, &out[2], &out[3]);
  }
}

inline void check_uniform_args(const float* y, int64_t n, float lo, float hi) {
  GE_CHECK(n >= 0, "uniform: expected n >= 0, got ", n);
  GE_CHECK(y != nullptr || n == 0, "uniform: expected a non-null output for n = ", n);
  GE_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi && std::isfinite(hi - lo),
           "uniform: expected finite lo <= hi, got lo = ", lo, ", hi = ", hi);
}

inline void check_normal_args(const float* y, int64_t n, float mean, float stddev) {
  GE_CHECK(n >= 0, "normal: expected n >= 0, got ", n);
  GE_CHECK(y != nullptr || n == 0, "normal: expected a non-null output for n = ", n);
  GE_CHECK(std::isfinite(mean) && std::isfinite(stddev) && stddev >= 0.f,
           "normal: expected finite mean and stddev >= 0, got mean = ", mean,
           ", stddev = ", stddev);
}

}  // namespace ge::kernels
