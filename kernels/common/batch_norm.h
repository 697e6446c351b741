#pragma once
// batch_norm's scalar math and argument checks, shared by the CPU loops and the CUDA kernels.
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/batch_norm.h"

namespace ge::kernels {

// (x - mean) * (invstd * weight) + bias: subtracting the mean first keeps the precision of
// inputs far from zero that a precomputed shift = bias - mean * scale would lose.
GE_HOST_DEVICE float batch_norm_apply(float x, float mean, float scale, float bias) {
  return (x - mean) * scale + bias;
}

// The input gradient from the per-channel means of dy and dy * xhat.
GE_HOST_DEVICE float batch_norm_grad_input(float dy, float x, float mean, float invstd,
                                           float weight, float mean_dy, float mean_dy_xhat) {
  return weight * invstd * (dy - mean_dy - (x - mean) * invstd * mean_dy_xhat);
}

// running <- (1 - momentum) * running + momentum * stat, for mean and for the unbiased variance.
GE_HOST_DEVICE void batch_norm_update_running(const BatchNormRunning& r, int64_t c, float mean,
                                              float biased_var, int64_t m) {
  if (r.mean != nullptr) r.mean[c] = (1.f - r.momentum) * r.mean[c] + r.momentum * mean;
  if (r.var != nullptr) {
    const float unbiased = biased_var * (static_cast<float>(m) / static_cast<float>(m - 1));
    r.var[c] = (1.f - r.momentum) * r.var[c] + r.momentum * unbiased;
  }
}

inline void batch_norm_check_shape(const char* fn, const BatchNormShape& s) {
  GE_CHECK(s.n >= 0 && s.c >= 0 && s.hw >= 0, fn, ": expected non-negative sizes, got [", s.n, ", ",
           s.c, ", ", s.hw, "]");
}

inline void batch_norm_check_stats(const BatchNormShape& s, float eps, const float* x,
                                   const float* mean, const float* invstd,
                                   const BatchNormRunning& r) {
  const char* fn = "batch_norm_stats";
  batch_norm_check_shape(fn, s);
  GE_CHECK(eps >= 0.f, fn, ": expected eps >= 0, got ", eps);
  if (s.c == 0) return;
  GE_CHECK(s.per_channel() > 0, fn, ": expected at least one value per channel, got N = ", s.n,
           " and HW = ", s.hw);
  GE_CHECK(r.var == nullptr || s.per_channel() > 1, fn,
           ": expected more than one value per channel to update running_var with the unbiased "
           "variance, got ",
           s.per_channel());
  GE_CHECK(x != nullptr && mean != nullptr && invstd != nullptr, fn,
           ": expected non-null x, mean and invstd");
}

inline void batch_norm_check_forward(const BatchNormShape& s, const float* x, const float* mean,
                                     const float* invstd, const float* y) {
  const char* fn = "batch_norm_forward";
  batch_norm_check_shape(fn, s);
  if (s.numel() == 0) return;
  GE_CHECK(x != nullptr && mean != nullptr && invstd != nullptr && y != nullptr, fn,
           ": expected non-null x, mean, invstd and y");
}

inline void batch_norm_check_backward(const char* fn, const BatchNormShape& s, const float* dy,
                                      const float* x, const float* mean, const float* invstd,
                                      const float* sum_dy, const float* sum_dy_xhat,
                                      const float* out) {
  batch_norm_check_shape(fn, s);
  if (s.c == 0) return;
  GE_CHECK(s.per_channel() > 0, fn, ": expected at least one value per channel, got N = ", s.n,
           " and HW = ", s.hw);
  GE_CHECK(dy != nullptr && x != nullptr && mean != nullptr && invstd != nullptr &&
               sum_dy != nullptr && sum_dy_xhat != nullptr && out != nullptr,
           fn, ": expected non-null dy, x, mean, invstd, sums and output");
}

}  // namespace ge::kernels
