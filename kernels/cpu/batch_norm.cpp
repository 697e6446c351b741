// CPU batch_norm: per-channel sums accumulated in double over the channel's N rows of HW
// contiguous values (two passes for the variance, so no cancellation), and elementwise passes
// over the same rows with the channel's coefficients hoisted out of the inner loop.
#include "common/batch_norm.h"

#include <cmath>

#include "ganengine/kernels/batch_norm.h"

namespace ge::kernels::cpu {

void batch_norm_stats(const float* x, const BatchNormShape& s, float eps, float* mean,
                      float* invstd, const BatchNormRunning& running) {
  batch_norm_check_stats(s, eps, x, mean, invstd, running);
  const int64_t m = s.per_channel();
  for (int64_t c = 0; c < s.c; ++c) {
    double sum = 0.0;
    for (int64_t n = 0; n < s.n; ++n) {
      const float* row = x + (n * s.c + c) * s.hw;
      for (int64_t j = 0; j < s.hw; ++j)
        sum += row[j];
    }
    const double mu = sum / static_cast<double>(m);
    double sq = 0.0;
    for (int64_t n = 0; n < s.n; ++n) {
      const float* row = x + (n * s.c + c) * s.hw;
      for (int64_t j = 0; j < s.hw; ++j) {
        const double d = row[j] - mu;
        sq += d * d;
      }
    }
    const double var = sq / static_cast<double>(m);
    mean[c] = static_cast<float>(mu);
    invstd[c] = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    batch_norm_update_running(running, c, static_cast<float>(mu), static_cast<float>(var), m);
  }
}

void batch_norm_forward(const float* x, const float* mean, const float* invstd, const float* weight,
                        const float* bias, float* y, const BatchNormShape& s) {
  batch_norm_check_forward(s, x, mean, invstd, y);
  for (int64_t n = 0; n < s.n; ++n) {
    for (int64_t c = 0; c < s.c; ++c) {
      const float mu = mean[c];
      const float scale = invstd[c] * (weight != nullptr ? weight[c] : 1.f);
      const float b = bias != nullptr ? bias[c] : 0.f;
      const int64_t base = (n * s.c + c) * s.hw;
      for (int64_t j = base; j < base + s.hw; ++j)
        y[j] = batch_norm_apply(x[j], mu, scale, b);
    }
  }
}

void batch_norm_backward_reduce(const float* dy, const float* x, const float* mean,
                                const float* invstd, float* sum_dy, float* sum_dy_xhat,
                                const BatchNormShape& s) {
  batch_norm_check_backward("batch_norm_backward_reduce", s, dy, x, mean, invstd, sum_dy,
                            sum_dy_xhat, sum_dy);
  for (int64_t c = 0; c < s.c; ++c) {
    double sd = 0.0, sdx = 0.0;
    const double mu = mean[c];
    for (int64_t n = 0; n < s.n; ++n) {
      const int64_t base = (n * s.c + c) * s.hw;
      for (int64_t j = base; j < base + s.hw; ++j) {
        sd += dy[j];
        sdx += static_cast<double>(dy[j]) * (x[j] - mu);
      }
    }
    sum_dy[c] = static_cast<float>(sd);
    sum_dy_xhat[c] = static_cast<float>(sdx * invstd[c]);
  }
}

void batch_norm_backward_input(const float* dy, const float* x, const float* mean,
                               const float* invstd, const float* weight, const float* sum_dy,
                               const float* sum_dy_xhat, float* dx, const BatchNormShape& s) {
  batch_norm_check_backward("batch_norm_backward_input", s, dy, x, mean, invstd, sum_dy,
                            sum_dy_xhat, dx);
  const float inv_m = 1.f / static_cast<float>(s.per_channel());
  for (int64_t n = 0; n < s.n; ++n) {
    for (int64_t c = 0; c < s.c; ++c) {
      const float mu = mean[c], r = invstd[c], w = weight != nullptr ? weight[c] : 1.f;
      const float mdy = sum_dy[c] * inv_m, mdyx = sum_dy_xhat[c] * inv_m;
      const int64_t base = (n * s.c + c) * s.hw;
      for (int64_t j = base; j < base + s.hw; ++j)
        dx[j] = batch_norm_grad_input(dy[j], x[j], mu, r, w, mdy, mdyx);
    }
  }
}

}  // namespace ge::kernels::cpu
