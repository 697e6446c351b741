// CPU gradient penalty: sample by sample, sums in double.
#include "common/gradient_penalty.h"

#include <cmath>

#include "ganengine/kernels/gradient_penalty.h"

namespace ge::kernels::cpu {

void gradient_penalty_interpolate(const float* real, const float* fake, const float* alpha,
                                  float* out, int64_t n, int64_t d) {
  check_gp_interpolate_args(real, fake, alpha, out, n, d);
  for (int64_t k = 0; k < n; ++k) {
    const float a = alpha[k];
    const int64_t base = k * d;
    for (int64_t i = base; i < base + d; ++i)
      out[i] = gp_lerp(real[i], fake[i], a);
  }
}

void gradient_penalty_forward(const float* x, float* norms, float* out, int64_t n, int64_t d,
                              float lambda) {
  check_gp_args("gradient_penalty_forward", x, norms, n, d);
  GE_CHECK(out != nullptr, "gradient_penalty_forward: expected a non-null out");
  double total = 0.0;
  for (int64_t k = 0; k < n; ++k) {
    double ss = 0.0;
    for (int64_t i = k * d; i < (k + 1) * d; ++i)
      ss += static_cast<double>(x[i]) * x[i];
    norms[k] = static_cast<float>(std::sqrt(ss));
    const double e = static_cast<double>(norms[k]) - 1.0;
    total += e * e;
  }
  *out = static_cast<float>(static_cast<double>(lambda) * total / static_cast<double>(n));
}

void gradient_penalty_backward(const float* x, const float* norms, const float* gout, float* dx,
                               int64_t n, int64_t d, float lambda) {
  check_gp_args("gradient_penalty_backward", x, norms, n, d);
  GE_CHECK(gout != nullptr && (dx != nullptr || d == 0),
           "gradient_penalty_backward: expected non-null gout and dx");
  const float scale = gp_backward_scale(lambda, n) * *gout;
  for (int64_t k = 0; k < n; ++k) {
    const float c = scale * gp_coefficient(norms[k]);
    for (int64_t i = k * d; i < (k + 1) * d; ++i)
      dx[i] = c * x[i];
  }
}

}  // namespace ge::kernels::cpu
