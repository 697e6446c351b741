#pragma once
// The regression losses' scalar math, shared by the CPU loops and the CUDA kernels, and the
// argument checks both launchers run.
#include <cmath>
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/regression_loss.h"

namespace ge::kernels {

template <RegressionLoss K>
GE_HOST_DEVICE float regression_loss_value(float x, float t) {
  const float d = x - t;
  if constexpr (K == RegressionLoss::Squared) {
    return d * d;
  } else {
    return fabsf(d);
  }
}

// g * d loss / dx. The absolute loss's sign is 0 at d = 0 (PyTorch's sign); d * g there keeps a
// NaN d (or an infinite g) visible instead of returning a clean 0.
template <RegressionLoss K>
GE_HOST_DEVICE float regression_loss_grad(float x, float t, float g) {
  const float d = x - t;
  if constexpr (K == RegressionLoss::Squared) {
    return 2.f * d * g;
  } else {
    return d > 0.f ? g : (d < 0.f ? -g : d * g);
  }
}

// Checks shared by the forward and the backward; `op` names the launcher.
inline void regression_loss_check(const char* op, RegressionLoss kind, LossReduction r,
                                  const RegressionLossArgs& a) {
  GE_CHECK(kind == RegressionLoss::Squared || kind == RegressionLoss::Absolute, op,
           ": expected kind squared or absolute, got ", static_cast<int>(kind));
  GE_CHECK(r == LossReduction::None || r == LossReduction::Mean || r == LossReduction::Sum, op,
           ": expected reduction none, mean or sum, got ", static_cast<int>(r));
  GE_CHECK(a.n >= 0, op, "(", name(kind), ", ", name(r), "): expected n >= 0, got ", a.n);
  GE_CHECK(a.n == 0 || a.x != nullptr, op, "(", name(kind), ", ", name(r),
           "): expected non-null input x for n = ", a.n);
}

inline void regression_loss_forward_check(RegressionLoss kind, LossReduction r,
                                          const RegressionLossArgs& a, const float* out) {
  regression_loss_check("regression_loss", kind, r, a);
  // A reduction writes its one value even for n = 0 (the mean of nothing is NaN, as in PyTorch).
  GE_CHECK(out != nullptr || (a.n == 0 && r == LossReduction::None), "regression_loss(", name(kind),
           ", ", name(r), "): expected a non-null output for n = ", a.n);
}

inline void regression_loss_backward_check(RegressionLoss kind, LossReduction r,
                                           const RegressionLossArgs& a, const float* grad,
                                           const float* dx) {
  regression_loss_check("regression_loss_backward", kind, r, a);
  GE_CHECK(a.n == 0 || (grad != nullptr && dx != nullptr), "regression_loss_backward(", name(kind),
           ", ", name(r), "): expected non-null grad and dx for n = ", a.n);
}

}  // namespace ge::kernels
