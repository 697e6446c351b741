#pragma once
// Optimizer math shared by the CPU loops and the CUDA multi-tensor kernels, plus the argument
// checks both launchers run. The per-step scalars (bias corrections) are computed once on the
// host in double, as PyTorch does in Python, and reach the element loop as floats.
#include <cmath>
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/optim.h"

namespace ge::kernels {

struct AdamScalars {
  float lr = 0.f;
  float beta1 = 0.f, beta2 = 0.f, eps = 0.f;
  float l2 = 0.f;           // weight decay folded into the gradient (Adam)
  float decay_scale = 1.f;  // 1 - lr * weight_decay (AdamW), else 1
  float step_size = 0.f;    // lr / (1 - beta1^step)
  float bias2_sqrt = 1.f;   // sqrt(1 - beta2^step)
};

inline AdamScalars adam_scalars(const AdamParams& p) {
  AdamScalars s;
  const double step = static_cast<double>(p.step);
  s.lr = p.lr;
  s.beta1 = p.beta1;
  s.beta2 = p.beta2;
  s.eps = p.eps;
  s.l2 = p.decoupled_weight_decay ? 0.f : p.weight_decay;
  s.decay_scale = p.decoupled_weight_decay
                      ? static_cast<float>(1.0 - static_cast<double>(p.lr) * p.weight_decay)
                      : 1.f;
  s.step_size = static_cast<float>(p.lr / (1.0 - std::pow(static_cast<double>(p.beta1), step)));
  s.bias2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(p.beta2), step)));
  return s;
}

// One element of one Adam step, in the order of PyTorch's fused kernel.
GE_HOST_DEVICE void adam_update(const AdamScalars& s, float& param, float& exp_avg,
                                float& exp_avg_sq, float grad) {
  const float g = grad + s.l2 * param;
  const float p = param * s.decay_scale;
  const float m = s.beta1 * exp_avg + (1.f - s.beta1) * g;
  const float v = s.beta2 * exp_avg_sq + (1.f - s.beta2) * g * g;
  const float denom = sqrtf(v) / s.bias2_sqrt + s.eps;
  param = p - s.step_size * m / denom;
  exp_avg = m;
  exp_avg_sq = v;
}

// One element of one RMSprop step, in the order of PyTorch's single-tensor loop.
GE_HOST_DEVICE void rmsprop_update(const RmspropParams& p, float& param, float& square_avg,
                                   float grad) {
  const float g = grad + p.weight_decay * param;
  const float v = p.alpha * square_avg + (1.f - p.alpha) * g * g;
  param = param - p.lr * (g / (sqrtf(v) + p.eps));
  square_avg = v;
}

// NaN stays NaN, as torch.clamp_ keeps it (fminf/fmaxf would drop it).
GE_HOST_DEVICE float clamp_update(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

GE_HOST_DEVICE float ema_update(float average, float source, float decay) {
  return source + decay * (average - source);
}

inline void adam_check(const AdamParams& p, const AdamTensor* tensors, int64_t count) {
  GE_CHECK(count >= 0, "adam: expected a tensor count >= 0, got ", count);
  GE_CHECK(count == 0 || tensors != nullptr, "adam: expected a tensor table for ", count,
           " tensors, got null");
  GE_CHECK(p.step >= 1, "adam: expected step >= 1 (1-based), got ", p.step);
  GE_CHECK(p.lr >= 0.f, "adam: expected lr >= 0, got ", p.lr);
  GE_CHECK(p.beta1 >= 0.f && p.beta1 < 1.f, "adam: expected beta1 in [0, 1), got ", p.beta1);
  GE_CHECK(p.beta2 >= 0.f && p.beta2 < 1.f, "adam: expected beta2 in [0, 1), got ", p.beta2);
  GE_CHECK(p.eps >= 0.f, "adam: expected eps >= 0, got ", p.eps);
  GE_CHECK(p.weight_decay >= 0.f, "adam: expected weight_decay >= 0, got ", p.weight_decay);
  for (int64_t i = 0; i < count; ++i) {
    const AdamTensor& t = tensors[i];
    GE_CHECK(t.n >= 0, "adam: expected n >= 0 for tensor ", i, ", got ", t.n);
    GE_CHECK(t.n == 0 || (t.param != nullptr && t.grad != nullptr && t.exp_avg != nullptr &&
                          t.exp_avg_sq != nullptr),
             "adam: expected non-null param, grad, exp_avg and exp_avg_sq for tensor ", i, " of ",
             t.n, " elements");
  }
}

inline void rmsprop_check(const RmspropParams& p, const RmspropTensor* tensors, int64_t count) {
  GE_CHECK(count >= 0, "rmsprop: expected a tensor count >= 0, got ", count);
  GE_CHECK(count == 0 || tensors != nullptr, "rmsprop: expected a tensor table for ", count,
           " tensors, got null");
  GE_CHECK(p.lr >= 0.f, "rmsprop: expected lr >= 0, got ", p.lr);
  GE_CHECK(p.alpha >= 0.f && p.alpha <= 1.f, "rmsprop: expected alpha in [0, 1], got ", p.alpha);
  GE_CHECK(p.eps >= 0.f, "rmsprop: expected eps >= 0, got ", p.eps);
  GE_CHECK(p.weight_decay >= 0.f, "rmsprop: expected weight_decay >= 0, got ", p.weight_decay);
  for (int64_t i = 0; i < count; ++i) {
    const RmspropTensor& t = tensors[i];
    GE_CHECK(t.n >= 0, "rmsprop: expected n >= 0 for tensor ", i, ", got ", t.n);
    GE_CHECK(t.n == 0 || (t.param != nullptr && t.grad != nullptr && t.square_avg != nullptr),
             "rmsprop: expected non-null param, grad and square_avg for tensor ", i, " of ", t.n,
             " elements");
  }
}

inline void clamp_check(float lo, float hi, const InPlaceTensor* tensors, int64_t count) {
  GE_CHECK(count >= 0, "clamp: expected a tensor count >= 0, got ", count);
  GE_CHECK(count == 0 || tensors != nullptr, "clamp: expected a tensor table for ", count,
           " tensors, got null");
  GE_CHECK(lo <= hi, "clamp: expected lo <= hi, got [", lo, ", ", hi, "]");
  for (int64_t i = 0; i < count; ++i) {
    GE_CHECK(tensors[i].n >= 0, "clamp: expected n >= 0 for tensor ", i, ", got ", tensors[i].n);
    GE_CHECK(tensors[i].n == 0 || tensors[i].data != nullptr,
             "clamp: expected non-null data for tensor ", i, " of ", tensors[i].n, " elements");
  }
}

inline void ema_check(float decay, const EmaTensor* tensors, int64_t count) {
  GE_CHECK(count >= 0, "ema: expected a tensor count >= 0, got ", count);
  GE_CHECK(count == 0 || tensors != nullptr, "ema: expected a tensor table for ", count,
           " tensors, got null");
  GE_CHECK(decay >= 0.f && decay <= 1.f, "ema: expected decay in [0, 1], got ", decay);
  for (int64_t i = 0; i < count; ++i) {
    const EmaTensor& t = tensors[i];
    GE_CHECK(t.n >= 0, "ema: expected n >= 0 for tensor ", i, ", got ", t.n);
    GE_CHECK(t.n == 0 || (t.average != nullptr && t.source != nullptr),
             "ema: expected non-null average and source for tensor ", i, " of ", t.n, " elements");
  }
}

}  // namespace ge::kernels
