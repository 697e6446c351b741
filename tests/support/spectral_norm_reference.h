#pragma once
// torch.nn.utils.spectral_norm from its definition, in double, on a row-major h x w matrix:
// shared by the kernel tests (which hand the launchers the matrix) and the op tests (which
// reshape a weight into one). Header-only and engine-free.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace ge::testing {

// x / max(||x||, eps).
inline std::vector<double> normalized(std::vector<double> x, double eps = 1e-12) {
  double ss = 0.0;
  for (double e : x)
    ss += e * e;
  const double norm = std::max(std::sqrt(ss), eps);
  for (double& e : x)
    e /= norm;
  return x;
}

// x scaled to unit length in double, then rounded: starting vectors for the power iteration.
inline std::vector<float> unit_length(std::vector<float> x) {
  double ss = 0.0;
  for (float e : x)
    ss += static_cast<double>(e) * e;
  for (float& e : x)
    e = static_cast<float>(e / std::sqrt(ss));
  return x;
}

// u^T W v.
inline double sigma_ref(const std::vector<double>& mat, int64_t h, int64_t w,
                        const std::vector<double>& u, const std::vector<double>& v) {
  double sigma = 0.0;
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j)
      sigma += u[i] * mat[i * w + j] * v[j];
  return sigma;
}

struct PowerIteration {
  std::vector<double> u, v;
  double sigma = 0.0;
};

// `iterations` rounds of v = normalize(W^T u), u = normalize(W v) from u0, v0 (PyTorch's update
// order), then sigma = u^T W v.
inline PowerIteration power_iteration_ref(const std::vector<double>& mat, int64_t h, int64_t w,
                                          const std::vector<float>& u0,
                                          const std::vector<float>& v0, int iterations,
                                          double eps = 1e-12) {
  PowerIteration r;
  r.u.assign(u0.begin(), u0.end());
  r.v.assign(v0.begin(), v0.end());
  for (int it = 0; it < iterations; ++it) {
    std::vector<double> t(static_cast<size_t>(w), 0.0), s(static_cast<size_t>(h), 0.0);
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j)
        t[j] += mat[i * w + j] * r.u[i];
    r.v = normalized(t, eps);
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j)
        s[i] += mat[i * w + j] * r.v[j];
    r.u = normalized(s, eps);
  }
  r.sigma = sigma_ref(mat, h, w, r.u, r.v);
  return r;
}

// The backward with u, v and sigma held constant, g the upstream gradient (both in the matrix
// layout): g / sigma - (<g, W> / sigma^2) u v^T.
inline std::vector<double> spectral_norm_grad_ref(const std::vector<double>& mat,
                                                  const std::vector<double>& g, int64_t h,
                                                  int64_t w, const std::vector<double>& u,
                                                  const std::vector<double>& v, double sigma) {
  double gw = 0.0;
  for (size_t k = 0; k < g.size(); ++k)
    gw += g[k] * mat[k];
  std::vector<double> dw(g.size());
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j)
      dw[i * w + j] = g[i * w + j] / sigma - gw / (sigma * sigma) * u[i] * v[j];
  return dw;
}

}  // namespace ge::testing
