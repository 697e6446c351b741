#pragma once
// gradient_penalty's scalar math and argument checks, shared by the CPU loops and CUDA kernels.
#include <cmath>
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"

namespace ge::kernels {

GE_HOST_DEVICE float gp_lerp(float real, float fake, float alpha) {
  return real + alpha * (fake - real);
}

// d(norm - 1)^2 / d x_i = 2 (norm - 1) / norm * x_i; the 2 lives in the caller's scale. A zero
// norm takes the subgradient 0 (PyTorch's norm backward masks it the same way).
GE_HOST_DEVICE float gp_coefficient(float norm) {
  return norm > 0.f ? (norm - 1.f) / norm : 0.f;
}

// lambda * 2 / n: the factor every backward element shares.
GE_HOST_DEVICE float gp_backward_scale(float lambda, int64_t n) {
  return lambda * 2.f / static_cast<float>(n);
}

inline void check_gp_interpolate_args(const float* real, const float* fake, const float* alpha,
                                      const float* out, int64_t n, int64_t d) {
  GE_CHECK(n >= 0 && d >= 0, "gradient_penalty_interpolate: expected n, d >= 0, got ", n, ", ", d);
  if (n == 0 || d == 0) return;
  GE_CHECK(real != nullptr && fake != nullptr && alpha != nullptr && out != nullptr,
           "gradient_penalty_interpolate: expected non-null real, fake, alpha and out for [", n,
           ", ", d, "]");
}

inline void check_gp_args(const char* op, const float* x, const float* norms, int64_t n,
                          int64_t d) {
  GE_CHECK(n >= 1 && d >= 0, op, ": expected n >= 1 and d >= 0, got ", n, ", ", d);
  GE_CHECK(norms != nullptr && (x != nullptr || d == 0), op,
           ": expected non-null x and norms for [", n, ", ", d, "]");
}

}  // namespace ge::kernels
