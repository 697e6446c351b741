#pragma once
// The regression losses, float32, contiguous buffers. With d_i = x_i - t_i,
//   squared:   loss_i = d_i^2     (PyTorch's mse_loss)   d loss_i / dx_i = 2 d_i
//   absolute:  loss_i = |d_i|     (PyTorch's l1_loss)    d loss_i / dx_i = sign(d_i), 0 at 0
// t_i is target[i], or target_value for every element when target is null.
//   regression_loss           the elementwise losses (None) or their mean/sum (one value), the
//                             reduction fused into the same launch.
//   regression_loss_backward  dx_i = g_i * d loss_i / dx_i, where g_i is grad[i] (None),
//                             grad[0] / n (Mean) or grad[0] (Sum); grad[0] is read on the device,
//                             so the backward never synchronises with the host.
// Reductions are deterministic: a fixed combine order that depends on n alone.
#include <cstdint>

#include "ganengine/kernels/loss.h"
#include "ganengine/kernels/types.h"

namespace ge::kernels {

enum class RegressionLoss : int { Squared, Absolute };

const char* name(RegressionLoss kind);

struct RegressionLossArgs {
  const float* x = nullptr;
  const float* target = nullptr;  // null: target_value for every element
  float target_value = 0.f;
  int64_t n = 0;
};

namespace cpu {
// out: n floats (None) or 1 (Mean, Sum).
void regression_loss(RegressionLoss kind, LossReduction reduction, const RegressionLossArgs& a,
                     float* out);
void regression_loss_backward(RegressionLoss kind, LossReduction reduction,
                              const RegressionLossArgs& a, const float* grad, float* dx);
}  // namespace cpu

namespace cuda {
// Floats of workspace regression_loss needs for n elements and `reduction` (0 for None and for
// inputs one block reduces); its contents need not be initialised.
GE_CUDA_LAUNCHER int64_t regression_loss_workspace(LossReduction reduction, int64_t n);
GE_CUDA_LAUNCHER void regression_loss(RegressionLoss kind, LossReduction reduction,
                                      const RegressionLossArgs& a, float* out, float* workspace,
                                      int64_t workspace_size, Stream stream);
GE_CUDA_LAUNCHER void regression_loss_backward(RegressionLoss kind, LossReduction reduction,
                                               const RegressionLossArgs& a, const float* grad,
                                               float* dx, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
