// CPU instance_norm: each plane's sums accumulated in double in one pass (shifted by the plane's
// first value), then an elementwise pass with the plane's coefficients hoisted. Planes spread
// over the threads; when dweight or dbias is asked for, channels do, each summing its N planes in
// order, so the parameter gradients need no scratch and have a fixed combine order.
#include "common/instance_norm.h"

#include <cmath>

#include "cpu/parallel.h"
#include "ganengine/kernels/instance_norm.h"

namespace ge::kernels::cpu {

namespace {

struct PlaneSums {
  double dy = 0.0, dy_xhat = 0.0;
};

bool worth_threads(const InstanceNormShape& s) {
  return s.numel() >= kParallelGrain;
}

// dx for plane p; returns its sums of dy and dy * xhat.
PlaneSums backward_plane(const float* dy, const float* x, const float* mean, const float* rstd,
                         const float* weight, float* dx, const InstanceNormShape& s, int64_t p) {
  const int64_t base = p * s.hw;
  const float mu = mean[p], r = rstd[p];
  PlaneSums sums;
  double centered = 0.0;
  for (int64_t j = base; j < base + s.hw; ++j) {
    sums.dy += dy[j];
    centered += static_cast<double>(dy[j]) * (static_cast<double>(x[j]) - mu);
  }
  sums.dy_xhat = centered * r;
  const float inv_m = 1.f / static_cast<float>(s.hw);
  const float w = weight != nullptr ? weight[p % s.c] : 1.f;
  const float mdy = static_cast<float>(sums.dy) * inv_m;
  const float mdyx = static_cast<float>(sums.dy_xhat) * inv_m;
  for (int64_t j = base; j < base + s.hw; ++j)
    dx[j] = batch_norm_grad_input(dy[j], x[j], mu, r, w, mdy, mdyx);
  return sums;
}

}  // namespace

void instance_norm_forward(const float* x, const float* weight, const float* bias, float* y,
                           float* mean, float* rstd, const InstanceNormShape& s, float eps) {
  instance_norm_check_forward(s, eps, x, y, mean, rstd);
  if (s.numel() == 0) return;
  parallel_for(s.planes(), worth_threads(s), [&](int64_t p) {
    const float* row = x + p * s.hw;
    float* out = y + p * s.hw;
    const double shift = row[0];
    double s1 = 0.0, s2 = 0.0;
    for (int64_t j = 0; j < s.hw; ++j) {
      const double d = row[j] - shift;
      s1 += d;
      s2 += d * d;
    }
    const ShiftedMoments<double> mom = instance_norm_moments(shift, s1, s2, s.hw);
    const float mu = static_cast<float>(mom.mean);
    const float r = static_cast<float>(1.0 / std::sqrt(mom.var + static_cast<double>(eps)));
    mean[p] = mu;
    rstd[p] = r;
    const int64_t c = p % s.c;
    const float scale = r * (weight != nullptr ? weight[c] : 1.f);
    const float b = bias != nullptr ? bias[c] : 0.f;
    for (int64_t j = 0; j < s.hw; ++j)
      out[j] = batch_norm_apply(row[j], mu, scale, b);
  });
}

void instance_norm_backward(const float* dy, const float* x, const float* mean, const float* rstd,
                            const float* weight, float* dx, float* dweight, float* dbias,
                            const InstanceNormShape& s) {
  instance_norm_check_backward(s, dy, x, mean, rstd, dx);
  if (dweight == nullptr && dbias == nullptr) {
    parallel_for(s.planes(), worth_threads(s),
                 [&](int64_t p) { backward_plane(dy, x, mean, rstd, weight, dx, s, p); });
    return;
  }
  parallel_for(s.c, worth_threads(s), [&](int64_t c) {
    double dw = 0.0, db = 0.0;
    for (int64_t n = 0; n < s.n; ++n) {
      const PlaneSums sums = backward_plane(dy, x, mean, rstd, weight, dx, s, n * s.c + c);
      dw += sums.dy_xhat;
      db += sums.dy;
    }
    if (dweight != nullptr) dweight[c] = static_cast<float>(dw);
    if (dbias != nullptr) dbias[c] = static_cast<float>(db);
  });
}

}  // namespace ge::kernels::cpu
