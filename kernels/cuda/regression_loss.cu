// CUDA regression losses: the fused elementwise-loss kernels (cuda/fused_loss.cuh) with the
// squared or absolute loss's math, chosen at compile time.
#include <cstdint>

#include "common/regression_loss.h"
#include "cuda/fused_loss.cuh"
#include "ganengine/kernels/regression_loss.h"

namespace ge::kernels::cuda {
namespace {

template <RegressionLoss L>
struct RegressionLossMath {
  using Args = RegressionLossArgs;
  static __device__ __forceinline__ float value(const Args&, float x, float t) {
    return regression_loss_value<L>(x, t);
  }
  static __device__ __forceinline__ float grad(const Args&, float x, float t, float g) {
    return regression_loss_grad<L>(x, t, g);
  }
};

// f.operator()<RegressionLossMath<L>>() for the run-time kind.
template <typename F>
void dispatch(RegressionLoss kind, F&& f) {
  if (kind == RegressionLoss::Squared)
    return f.template operator()<RegressionLossMath<RegressionLoss::Squared>>();
  return f.template operator()<RegressionLossMath<RegressionLoss::Absolute>>();
}

}  // namespace

int64_t regression_loss_workspace(LossReduction reduction, int64_t n) {
  GE_CHECK(n >= 0, "regression_loss_workspace: expected n >= 0, got ", n);
  return fused_loss_workspace(reduction, n);
}

void regression_loss(RegressionLoss kind, LossReduction reduction, const RegressionLossArgs& a,
                     float* out, float* workspace, int64_t workspace_size, Stream stream) {
  regression_loss_forward_check(kind, reduction, a, out);
  dispatch(kind, [&]<typename M>() {
    fused_loss_forward<M>("regression_loss", name(kind), reduction, a, out, workspace,
                          workspace_size, stream);
  });
}

void regression_loss_backward(RegressionLoss kind, LossReduction reduction,
                              const RegressionLossArgs& a, const float* grad, float* dx,
                              Stream stream) {
  regression_loss_backward_check(kind, reduction, a, grad, dx);
  dispatch(kind, [&]<typename M>() { fused_loss_backward<M>(reduction, a, grad, dx, stream); });
}

}  // namespace ge::kernels::cuda
