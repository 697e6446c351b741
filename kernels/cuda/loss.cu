// CUDA logistic loss: the fused elementwise-loss kernels (cuda/fused_loss.cuh) with the logistic
// loss's math, z = sign * x.
#include <cstdint>

#include "common/loss.h"
#include "cuda/fused_loss.cuh"
#include "ganengine/kernels/loss.h"

namespace ge::kernels::cuda {
namespace {

struct LogisticLossMath {
  using Args = LogisticLossArgs;
  static __device__ __forceinline__ float value(const Args& a, float x, float t) {
    return logistic_loss_value(x, t, a.sign);
  }
  static __device__ __forceinline__ float grad(const Args& a, float x, float t, float g) {
    return logistic_loss_grad(x, t, a.sign, g);
  }
};

}  // namespace

int64_t logistic_loss_workspace(LossReduction reduction, int64_t n) {
  GE_CHECK(n >= 0, "logistic_loss_workspace: expected n >= 0, got ", n);
  return fused_loss_workspace(reduction, n);
}

void logistic_loss(LossReduction reduction, const LogisticLossArgs& a, float* out, float* workspace,
                   int64_t workspace_size, Stream stream) {
  logistic_loss_forward_check(reduction, a, out);
  fused_loss_forward<LogisticLossMath>("logistic_loss", nullptr, reduction, a, out, workspace,
                                       workspace_size, stream);
}

void logistic_loss_backward(LossReduction reduction, const LogisticLossArgs& a, const float* grad,
                            float* dx, Stream stream) {
  logistic_loss_backward_check(reduction, a, grad, dx);
  fused_loss_backward<LogisticLossMath>(reduction, a, grad, dx, stream);
}

}  // namespace ge::kernels::cuda
