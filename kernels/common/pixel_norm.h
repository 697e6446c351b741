#pragma once
// pixel_norm's scalar math and argument checks, shared by the CPU loops and the CUDA kernels.
// One template serves both directions: the forward sums x^2 per row, the backward also sums
// dy * x, and each element's output is a function of its inputs and the row's sums.
#include <cmath>
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/pixel_norm.h"

namespace ge::kernels {

// 1 / sqrt(mean(x^2) + eps) from the row's sum of squares (once per row, so the exact
// square root and division cost nothing next to the row's memory traffic).
GE_HOST_DEVICE float pixel_norm_rs(float sum_sq, int64_t r, float eps) {
  return 1.f / sqrtf(sum_sq / static_cast<float>(r) + eps);
}

// Forward: x * rs. Backward: rs * dy - rs^3 * x * mean(dy * x), which is rs (dy - y mean(dy y)).
template <bool Backward>
GE_HOST_DEVICE float pixel_norm_apply(float x, float dy, float rs, float mean_dy_x) {
  if constexpr (Backward) {
    return rs * (dy - rs * rs * x * mean_dy_x);
  } else {
    return x * rs;
  }
}

inline void pixel_norm_check(const char* fn, const PixelNormShape& s, float eps, const float* x,
                             const float* dy, const float* out, bool backward) {
  GE_CHECK(s.outer >= 0 && s.r >= 0 && s.inner >= 0, fn, ": expected non-negative sizes, got [",
           s.outer, ", ", s.r, ", ", s.inner, "]");
  GE_CHECK(eps >= 0.f, fn, ": expected eps >= 0, got ", eps);
  if (s.numel() == 0) return;
  GE_CHECK(x != nullptr && out != nullptr && (!backward || dy != nullptr), fn,
           ": expected non-null inputs and output for ", s.numel(), " elements");
}

}  // namespace ge::kernels
