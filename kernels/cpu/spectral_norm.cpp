// CPU spectral_norm. W^T u sweeps W row by row (contiguous inner loop over columns, accumulated
// in v itself), W v is one dot product per row in double. No workspace: v is rebuilt in place
// from u alone and u from v alone, and sigma = ||s||^2 / max(||s||, eps) for s = W v is known from
// the last row sweep without a further pass over W.
#include "common/spectral_norm.h"

#include <cmath>

#include "ganengine/kernels/spectral_norm.h"

namespace ge::kernels::cpu {
namespace {

double dot_row(const float* row, const float* x, int64_t n) {
  double acc = 0.0;
  for (int64_t j = 0; j < n; ++j)
    acc += static_cast<double>(row[j]) * x[j];
  return acc;
}

// x *= 1 / max(||x||, eps), with the sum of squares in double.
void normalize(float* x, int64_t n, float eps) {
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i)
    ss += static_cast<double>(x[i]) * x[i];
  const float inv = sn_inv_norm(static_cast<float>(ss), eps);
  for (int64_t i = 0; i < n; ++i)
    x[i] *= inv;
}

}  // namespace

void spectral_norm(const SpectralNormArgs& a) {
  check_spectral_norm_args(a, false);
  const int64_t h = a.h, w = a.w;
  float sigma = 0.f;
  if (a.n_iterations == 0) {
    double acc = 0.0;
    for (int64_t i = 0; i < h; ++i)
      acc += a.u[i] * dot_row(a.mat + i * w, a.v, w);
    sigma = static_cast<float>(acc);
  }
  for (int it = 0; it < a.n_iterations; ++it) {
    for (int64_t j = 0; j < w; ++j)
      a.v[j] = 0.f;
    for (int64_t i = 0; i < h; ++i) {
      const float ui = a.u[i];
      const float* row = a.mat + i * w;
      for (int64_t j = 0; j < w; ++j)
        a.v[j] += row[j] * ui;
    }
    normalize(a.v, w, a.eps);
    double ss = 0.0;
    for (int64_t i = 0; i < h; ++i) {
      const double s = dot_row(a.mat + i * w, a.v, w);
      a.u[i] = static_cast<float>(s);
      ss += s * s;
    }
    const float inv = sn_inv_norm(static_cast<float>(ss), a.eps);
    for (int64_t i = 0; i < h; ++i)
      a.u[i] *= inv;
    sigma = static_cast<float>(ss) * inv;  // u^T s with u = s / max(||s||, eps)
  }
  *a.sigma = sigma;
  if (a.u_copy != nullptr)
    for (int64_t i = 0; i < h; ++i)
      a.u_copy[i] = a.u[i];
  if (a.v_copy != nullptr)
    for (int64_t j = 0; j < w; ++j)
      a.v_copy[j] = a.v[j];
  if (a.out != nullptr) {
    const float inv_sigma = 1.f / sigma;
    for (int64_t k = 0; k < h * w; ++k)
      a.out[k] = a.weight[k] * inv_sigma;
  }
}

void spectral_norm_grad(const SpectralNormGradArgs& a) {
  check_spectral_norm_grad_args(a, false);
  const int64_t n = a.h * a.w;
  double gw = 0.0;
  for (int64_t k = 0; k < n; ++k)
    gw += static_cast<double>(a.grad[k]) * a.mat[k];
  const float sigma = *a.sigma;
  const float inv_sigma = 1.f / sigma;
  const float c = static_cast<float>(gw) * inv_sigma * inv_sigma;
  for (int64_t i = 0; i < a.h; ++i) {
    const float ui = a.u[i];
    for (int64_t j = 0; j < a.w; ++j) {
      const int64_t k = i * a.w + j;
      a.out[k] = sn_grad_element(a.grad[k], inv_sigma, c, ui, a.v[j]);
    }
  }
}

}  // namespace ge::kernels::cpu
