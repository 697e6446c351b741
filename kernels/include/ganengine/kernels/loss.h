#pragma once
// The logistic loss family, float32, contiguous buffers. With z = sign * x,
//   loss_i = max(z, 0) - z * t_i + log1p(exp(-|z|))      (= softplus(z) - z * t_i)
// which is PyTorch's binary_cross_entropy_with_logits for sign = 1 and softplus(sign * x) for
// t = 0: the non-saturating and logistic GAN losses. t_i is target[i], or target_value for every
// element when target is null.
//   logistic_loss           the elementwise losses (None) or their mean/sum (one value), the
//                           reduction fused into the same launch.
//   logistic_loss_backward  dx_i = g_i * sign * (sigmoid(z) - t_i), where g_i is grad[i] (None),
//                           grad[0] / n (Mean) or grad[0] (Sum); grad[0] is read on the device,
//                           so the backward never synchronises with the host.
// Reductions are deterministic: a fixed combine order that depends on n alone.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

enum class LossReduction : int { None, Mean, Sum };

const char* name(LossReduction reduction);

struct LogisticLossArgs {
  const float* x = nullptr;
  const float* target = nullptr;  // null: target_value for every element
  float target_value = 0.f;
  float sign = 1.f;
  int64_t n = 0;
};

namespace cpu {
// out: n floats (None) or 1 (Mean, Sum).
void logistic_loss(LossReduction reduction, const LogisticLossArgs& a, float* out);
void logistic_loss_backward(LossReduction reduction, const LogisticLossArgs& a, const float* grad,
                            float* dx);
}  // namespace cpu

namespace cuda {
// Floats of workspace logistic_loss needs for n elements and `reduction` (0 for None and for
// inputs one block reduces); its contents need not be initialised.
GE_CUDA_LAUNCHER int64_t logistic_loss_workspace(LossReduction reduction, int64_t n);
GE_CUDA_LAUNCHER void logistic_loss(LossReduction reduction, const LogisticLossArgs& a, float* out,
                                    float* workspace, int64_t workspace_size, Stream stream);
GE_CUDA_LAUNCHER void logistic_loss_backward(LossReduction reduction, const LogisticLossArgs& a,
                                             const float* grad, float* dx, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
