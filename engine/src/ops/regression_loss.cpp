// mse_loss and l1_loss: the regression losses l_i = f(x_i - t_i), f = d^2 or |d|, reduced in the
// same kernel launch. Two differentiable ops:
//   regression_loss(x, t)          -> loss   backward: regression_loss_grad for x, its negation
//                                            for t (d / dt = -d / dx)
//   regression_loss_grad(g, x, t)  -> dx     one fused kernel; its backward is written with
//                                            differentiable ops (this op itself for g, plain
//                                            arithmetic for x and t), so every order exists.
#include <vector>

#include "dispatch.h"
#include "fused_loss.h"
#include "ganengine/autograd_function.h"
#include "ganengine/kernels/regression_loss.h"
#include "ganengine/loss.h"
#include "ganengine/ops.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

struct Spec : detail::FusedLossSpec {
  k::RegressionLoss kind = k::RegressionLoss::Squared;
};

detail::FusedLossKernels<k::RegressionLossArgs, k::RegressionLoss> kernels_of(const Spec& s) {
  return {k::cpu::regression_loss,
          k::cpu::regression_loss_backward,
          k::cuda::regression_loss_workspace,
          k::cuda::regression_loss,
          k::cuda::regression_loss_backward,
          {s.kind}};
}

k::RegressionLossArgs kernel_args(const Spec& s) {
  k::RegressionLossArgs a;
  a.target_value = s.target_value;
  return a;
}

const char* grad_node(const Spec& s) {
  return s.kind == k::RegressionLoss::Squared ? "MseLossGradBackward" : "L1LossGradBackward";
}

// dx = g f'(x - t) / divisor, differentiable in g, x and t.
Tensor regression_loss_grad(const Tensor& g, const Tensor& x, const Tensor& t, const Spec& s) {
  Tensor dx = detail::run_fused_loss_grad(kernels_of(s), s.reduction, kernel_args(s), g, x, t);
  const Grads inputs = t.defined() ? Grads{g, x, t} : Grads{g, x};
  if (autograd::needs_grad(inputs)) {
    autograd::record(
        grad_node(s), inputs, {dx},
        [s](BackwardContext& ctx, const Grads& gg) {
          const Tensor& g_saved = ctx.saved(0);
          const Tensor& x_saved = ctx.saved(1);
          const bool has_target = ctx.num_saved() > 2;
          const Tensor t_saved = has_target ? ctx.saved(2) : Tensor();
          Tensor d_g, d_x, d_t;
          // d/dg: gg_i f'(d_i), the elementwise form of this very op, summed for a reduction.
          if (ctx.needs_input_grad(0)) {
            Spec elementwise = s;
            elementwise.reduction = k::LossReduction::None;
            elementwise.divisor = 1.f;
            const Tensor e = regression_loss_grad(gg[0], x_saved, t_saved, elementwise);
            d_g =
                s.reduction == k::LossReduction::None ? e : sum_to(e, g_saved.shape()) / s.divisor;
          }
          // f'' is 2 for the squared loss and 0 (almost everywhere) for the absolute one.
          const bool curved = s.kind == k::RegressionLoss::Squared;
          if (curved && (ctx.needs_input_grad(1) || (has_target && ctx.needs_input_grad(2)))) {
            const Tensor second = gg[0] * g_saved * (2.f / s.divisor);
            if (ctx.needs_input_grad(1)) d_x = second;
            if (has_target && ctx.needs_input_grad(2)) d_t = -second;
          }
          return has_target ? Grads{d_g, d_x, d_t} : Grads{d_g, d_x};
        },
        inputs);
  }
  return dx;
}

Tensor regression_loss(const char* node, const Tensor& x, const Tensor& t, const Spec& s) {
  Tensor out = detail::run_fused_loss(kernels_of(s), s.reduction, kernel_args(s), x, t);
  const Grads inputs = t.defined() ? Grads{x, t} : Grads{x};
  if (autograd::needs_grad(inputs)) {
    autograd::record(
        node, inputs, {out},
        [s](BackwardContext& ctx, const Grads& g) {
          const Tensor& x_saved = ctx.saved(0);
          const Tensor t_saved = ctx.num_saved() > 1 ? ctx.saved(1) : Tensor();
          const bool want_t = t_saved.defined() && ctx.needs_input_grad(1);
          Tensor dx, dt;
          if (ctx.needs_input_grad(0) || want_t)
            dx = regression_loss_grad(g[0], x_saved, t_saved, s);
          if (want_t) dt = -dx;
          if (!ctx.needs_input_grad(0)) dx = Tensor();
          return t_saved.defined() ? Grads{dx, dt} : Grads{dx};
        },
        inputs);
  }
  return out;
}

Spec spec(const char* op, k::RegressionLoss kind, const Tensor& x, Reduction reduction,
          float target) {
  return {detail::fused_loss_spec(op, x, reduction, target), kind};
}

Tensor with_tensor_target(const char* op, const char* node, k::RegressionLoss kind,
                          const Tensor& input, const Tensor& target, Reduction reduction) {
  detail::check_operand(input, op);
  detail::check_loss_target(op, input, target, "input's");
  return regression_loss(node, input, target, spec(op, kind, input, reduction, 0.f));
}

Tensor with_float_target(const char* op, const char* node, k::RegressionLoss kind,
                         const Tensor& input, float target, Reduction reduction) {
  detail::check_operand(input, op);
  return regression_loss(node, input, Tensor(), spec(op, kind, input, reduction, target));
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return with_tensor_target("mse_loss", "MseLossBackward", k::RegressionLoss::Squared, input,
                            target, reduction);
}

Tensor mse_loss(const Tensor& input, float target, Reduction reduction) {
  return with_float_target("mse_loss", "MseLossBackward", k::RegressionLoss::Squared, input, target,
                           reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return with_tensor_target("l1_loss", "L1LossBackward", k::RegressionLoss::Absolute, input, target,
                            reduction);
}

Tensor l1_loss(const Tensor& input, float target, Reduction reduction) {
  return with_float_target("l1_loss", "L1LossBackward", k::RegressionLoss::Absolute, input, target,
                           reduction);
}

}  // namespace ge
