// CPU batch_norm: per-channel sums accumulated in double over the channel's N rows of HW
// contiguous values (two passes for the variance, so no cancellation), and elementwise passes
// over the same rows with the channel's coefficients hoisted out of the inner loop. The row
// loops (batch_norm_loops.h) run on AVX-512 where the CPU has it; channels (for the sums) or rows
// spread over the team.
#include "common/batch_norm.h"

#include <cmath>

#include "cpu/batch_norm_loops.h"
#include "cpu/cpu_isa.h"
#include "cpu/parallel.h"
#include "ganengine/kernels/batch_norm.h"

namespace ge::kernels::cpu {
namespace {

const BatchNormLoops kBatchNormBaseline{sum_row, sum_squares_row, sum_dy_row, apply_row,
                                        grad_input_row};

const BatchNormLoops& loops() {
  return active_isa() == CpuIsa::avx512 ? kBatchNormAvx512 : kBatchNormBaseline;
}

double lanes_total(const double* acc) {
  double total = 0.0;
  for (int64_t u = 0; u < kLanes; ++u)
    total += acc[u];
  return total;
}

// Channels (each summed whole on one thread, so in one order) or rows over the team.
bool spread(const BatchNormShape& s) {
  return s.n * s.c * s.hw >= kParallelGrain;
}

}  // namespace

void batch_norm_stats(const float* x, const BatchNormShape& s, float eps, float* mean,
                      float* invstd, const BatchNormRunning& running) {
  batch_norm_check_stats(s, eps, x, mean, invstd, running);
  const int64_t m = s.per_channel();
  const BatchNormLoops& f = loops();
  parallel_for(s.c, spread(s), [&](int64_t c) {
    double acc[kLanes] = {};
    for (int64_t n = 0; n < s.n; ++n)
      f.sum(x + (n * s.c + c) * s.hw, s.hw, acc);
    const double mu = lanes_total(acc) / static_cast<double>(m);
    double sq[kLanes] = {};
    for (int64_t n = 0; n < s.n; ++n)
      f.sum_squares(x + (n * s.c + c) * s.hw, s.hw, mu, sq);
    const double var = lanes_total(sq) / static_cast<double>(m);
    mean[c] = static_cast<float>(mu);
    invstd[c] = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    batch_norm_update_running(running, c, static_cast<float>(mu), static_cast<float>(var), m);
  });
}

void batch_norm_forward(const float* x, const float* mean, const float* invstd, const float* weight,
                        const float* bias, float* y, const BatchNormShape& s) {
  batch_norm_check_forward(s, x, mean, invstd, y);
  const BatchNormLoops& f = loops();
  parallel_for(s.n * s.c, spread(s), [&](int64_t row) {
    const int64_t c = row % s.c;
    const float scale = invstd[c] * (weight != nullptr ? weight[c] : 1.f);
    const float b = bias != nullptr ? bias[c] : 0.f;
    f.apply(x + row * s.hw, mean[c], scale, b, y + row * s.hw, s.hw);
  });
}

void batch_norm_backward_reduce(const float* dy, const float* x, const float* mean,
                                const float* invstd, float* sum_dy, float* sum_dy_xhat,
                                const BatchNormShape& s) {
  batch_norm_check_backward("batch_norm_backward_reduce", s, dy, x, mean, invstd, sum_dy,
                            sum_dy_xhat, sum_dy);
  const BatchNormLoops& f = loops();
  parallel_for(s.c, spread(s), [&](int64_t c) {
    double sd[kLanes] = {}, sdx[kLanes] = {};
    for (int64_t n = 0; n < s.n; ++n) {
      const int64_t base = (n * s.c + c) * s.hw;
      f.sum_dy(dy + base, x + base, s.hw, mean[c], sd, sdx);
    }
    sum_dy[c] = static_cast<float>(lanes_total(sd));
    sum_dy_xhat[c] = static_cast<float>(lanes_total(sdx) * invstd[c]);
  });
}

void batch_norm_backward_input(const float* dy, const float* x, const float* mean,
                               const float* invstd, const float* weight, const float* sum_dy,
                               const float* sum_dy_xhat, float* dx, const BatchNormShape& s) {
  batch_norm_check_backward("batch_norm_backward_input", s, dy, x, mean, invstd, sum_dy,
                            sum_dy_xhat, dx);
  const float inv_m = 1.f / static_cast<float>(s.per_channel());
  const BatchNormLoops& f = loops();
  parallel_for(s.n * s.c, spread(s), [&](int64_t row) {
    const int64_t c = row % s.c;
    const float w = weight != nullptr ? weight[c] : 1.f;
    f.grad_input(dy + row * s.hw, x + row * s.hw, mean[c], invstd[c], w, sum_dy[c] * inv_m,
                 sum_dy_xhat[c] * inv_m, dx + row * s.hw, s.hw);
  });
}

}  // namespace ge::kernels::cpu
