#pragma once
// spectral_norm's scalar math and argument checks, shared by the CPU loops and the CUDA kernels.
#include <cmath>
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/spectral_norm.h"

namespace ge::kernels {

// 1 / max(||x||, eps) from the sum of squares, as F.normalize scales.
GE_HOST_DEVICE float sn_inv_norm(float sum_of_squares, float eps) {
  const float norm = sqrtf(sum_of_squares);
  return 1.f / (norm > eps ? norm : eps);
}

// One element of the backward: g / sigma - c u_i v_j, with c = <g, W> / sigma^2.
GE_HOST_DEVICE float sn_grad_element(float g, float inv_sigma, float c, float ui, float vj) {
  return g * inv_sigma - c * ui * vj;
}

inline void check_spectral_norm_args(const SpectralNormArgs& a, bool needs_workspace) {
  GE_CHECK(a.h >= 1 && a.w >= 1, "spectral_norm: expected a non-empty matrix, got [", a.h, ", ",
           a.w, "]");
  GE_CHECK(a.n_iterations >= 0, "spectral_norm: expected n_iterations >= 0, got ", a.n_iterations);
  GE_CHECK(a.eps >= 0.f, "spectral_norm: expected eps >= 0, got ", a.eps);
  GE_CHECK(a.mat != nullptr && a.u != nullptr && a.v != nullptr && a.sigma != nullptr,
           "spectral_norm: expected non-null W, u, v and sigma for [", a.h, ", ", a.w, "]");
  GE_CHECK(a.out == nullptr || a.weight != nullptr,
           "spectral_norm: expected the weight to scale into out, got null");
  GE_CHECK(!needs_workspace || a.workspace != nullptr,
           "spectral_norm: expected a workspace of spectral_norm_workspace(", a.h, ", ", a.w,
           ") = ", spectral_norm_workspace(a.h, a.w), " floats, got null");
}

inline void check_spectral_norm_grad_args(const SpectralNormGradArgs& a, bool needs_workspace) {
  GE_CHECK(a.h >= 1 && a.w >= 1, "spectral_norm_grad: expected a non-empty matrix, got [", a.h,
           ", ", a.w, "]");
  GE_CHECK(a.grad != nullptr && a.mat != nullptr && a.u != nullptr && a.v != nullptr &&
               a.sigma != nullptr && a.out != nullptr,
           "spectral_norm_grad: expected non-null g, W, u, v, sigma and out for [", a.h, ", ", a.w,
           "]");
  GE_CHECK(!needs_workspace || a.workspace != nullptr,
           "spectral_norm_grad: expected a workspace of spectral_norm_grad_workspace(", a.h, ", ",
           a.w, ") = ", spectral_norm_grad_workspace(a.h, a.w), " floats, got null");
}

}  // namespace ge::kernels
