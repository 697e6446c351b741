// CPU logistic loss: flat loops; reductions accumulate in double (the sum of n float terms in
// float would lose digits for large n, and a double accumulator costs nothing here).
#include "common/loss.h"

#include "ganengine/kernels/loss.h"

namespace ge::kernels {

const char* name(LossReduction reduction) {
  switch (reduction) {
    case LossReduction::None:
      return "none";
    case LossReduction::Mean:
      return "mean";
    case LossReduction::Sum:
      return "sum";
  }
  return "unknown_loss_reduction";
}

namespace cpu {

void logistic_loss(LossReduction reduction, const LogisticLossArgs& a, float* out) {
  logistic_loss_forward_check(reduction, a, out);
  const float* x = a.x;
  const float* t = a.target;
  if (reduction == LossReduction::None) {
    for (int64_t i = 0; i < a.n; ++i)
      out[i] = logistic_loss_value(x[i], t != nullptr ? t[i] : a.target_value, a.sign);
    return;
  }
  double sum = 0.0;
  for (int64_t i = 0; i < a.n; ++i)
    sum += logistic_loss_value(x[i], t != nullptr ? t[i] : a.target_value, a.sign);
  out[0] = reduction == LossReduction::Mean ? static_cast<float>(sum / static_cast<double>(a.n))
                                            : static_cast<float>(sum);
}

void logistic_loss_backward(LossReduction reduction, const LogisticLossArgs& a, const float* grad,
                            float* dx) {
  logistic_loss_backward_check(reduction, a, grad, dx);
  if (a.n == 0) return;
  const float* x = a.x;
  const float* t = a.target;
  if (reduction == LossReduction::None) {
    for (int64_t i = 0; i < a.n; ++i)
      dx[i] = logistic_loss_grad(x[i], t != nullptr ? t[i] : a.target_value, a.sign, grad[i]);
    return;
  }
  const float g = reduction == LossReduction::Mean ? grad[0] / static_cast<float>(a.n) : grad[0];
  for (int64_t i = 0; i < a.n; ++i)
    dx[i] = logistic_loss_grad(x[i], t != nullptr ? t[i] : a.target_value, a.sign, g);
}

}  // namespace cpu
}  // namespace ge::kernels
