#pragma once
// The logistic loss's scalar math, shared by the CPU loops and the CUDA kernels, and the
// argument checks both launchers run. z = sign * x throughout.
#include <cmath>
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/loss.h"

namespace ge::kernels {

// max(z, 0) - z t + log1p(exp(-|z|)): never overflows, and keeps full precision where the loss
// is tiny (z t ~ max(z, 0)), which softplus(z) - z t would round away.
GE_HOST_DEVICE float logistic_loss_value(float x, float t, float sign) {
  const float z = sign * x;
  return fmaxf(z, 0.f) - z * t + log1pf(expf(-fabsf(z)));
}

// sigmoid(z) without overflow for either sign of z.
GE_HOST_DEVICE float stable_sigmoid(float z) {
  const float e = expf(-fabsf(z));
  const float r = 1.f / (1.f + e);
  return z >= 0.f ? r : e * r;
}

// g * d loss / dx = g * sign * (sigmoid(z) - t).
GE_HOST_DEVICE float logistic_loss_grad(float x, float t, float sign, float g) {
  return g * sign * (stable_sigmoid(sign * x) - t);
}

// Checks shared by the forward and the backward; `op` names the launcher.
inline void logistic_loss_check(const char* op, LossReduction r, const LogisticLossArgs& a) {
  GE_CHECK(r == LossReduction::None || r == LossReduction::Mean || r == LossReduction::Sum, op,
           ": expected reduction none, mean or sum, got ", static_cast<int>(r));
  GE_CHECK(a.n >= 0, op, "(", name(r), "): expected n >= 0, got ", a.n);
  GE_CHECK(std::isfinite(a.sign), op, "(", name(r), "): expected a finite sign, got ", a.sign);
  GE_CHECK(a.n == 0 || a.x != nullptr, op, "(", name(r),
           "): expected non-null logits x for n = ", a.n);
}

inline void logistic_loss_forward_check(LossReduction r, const LogisticLossArgs& a,
                                        const float* out) {
  logistic_loss_check("logistic_loss", r, a);
  // A reduction writes its one value even for n = 0 (the mean of nothing is NaN, as in PyTorch).
  GE_CHECK(out != nullptr || (a.n == 0 && r == LossReduction::None), "logistic_loss(", name(r),
           "): expected a non-null output for n = ", a.n);
}

inline void logistic_loss_backward_check(LossReduction r, const LogisticLossArgs& a,
                                         const float* grad, const float* dx) {
  logistic_loss_check("logistic_loss_backward", r, a);
  GE_CHECK(a.n == 0 || (grad != nullptr && dx != nullptr), "logistic_loss_backward(", name(r),
           "): expected non-null grad and dx for n = ", a.n);
}

}  // namespace ge::kernels
