#pragma once
// instance_norm's scalar math and argument checks, shared by the CPU loops and the CUDA kernels.
// Normalising a plane and its input gradient are batch_norm's formulas over a different set of
// values, so those come from common/batch_norm.h.
#include <cstdint>

#include "common/batch_norm.h"
#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/instance_norm.h"

namespace ge::kernels {

template <typename T>
struct ShiftedMoments {
  T mean, var;
};

// Mean and biased variance of m values from one pass of shifted sums s1 = sum (x - k) and
// s2 = sum (x - k)^2. The shift k is one of the values: (x - k) is then of the size of the
// spread, not of the mean, so s2 / m - (s1 / m)^2 does not cancel away an offset far from 0.
template <typename T>
GE_HOST_DEVICE ShiftedMoments<T> instance_norm_moments(T shift, T s1, T s2, int64_t m) {
  const T inv_m = T(1) / static_cast<T>(m);
  const T d = s1 * inv_m;
  const T var = s2 * inv_m - d * d;
  return {shift + d, var > T(0) ? var : T(0)};
}

inline void instance_norm_check_shape(const char* fn, const InstanceNormShape& s) {
  GE_CHECK(s.n >= 0 && s.c >= 0 && s.hw >= 0, fn, ": expected non-negative sizes, got [", s.n, ", ",
           s.c, ", ", s.hw, "]");
  GE_CHECK(s.hw > 0 || s.planes() == 0, fn,
           ": expected at least one value per plane, got HW = ", s.hw, " for ", s.planes(),
           " planes");
}

inline void instance_norm_check_forward(const InstanceNormShape& s, float eps, const float* x,
                                        const float* y, const float* mean, const float* rstd) {
  const char* fn = "instance_norm_forward";
  instance_norm_check_shape(fn, s);
  GE_CHECK(eps > 0.f, fn, ": expected eps > 0, got ", eps);
  if (s.numel() == 0) return;
  GE_CHECK(x != nullptr && y != nullptr && mean != nullptr && rstd != nullptr, fn,
           ": expected non-null x, y, mean and rstd");
}

inline void instance_norm_check_backward(const InstanceNormShape& s, const float* dy,
                                         const float* x, const float* mean, const float* rstd,
                                         const float* dx) {
  const char* fn = "instance_norm_backward";
  instance_norm_check_shape(fn, s);
  if (s.numel() == 0) return;
  GE_CHECK(dy != nullptr && x != nullptr && mean != nullptr && rstd != nullptr && dx != nullptr, fn,
           ": expected non-null dy, x, mean, rstd and dx");
}

}  // namespace ge::kernels
