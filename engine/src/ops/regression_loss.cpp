// mse_loss and l1_loss: the regression losses l_i = f(x_i - t_i), f = d^2 or |d|, reduced in the
// same kernel launch. Two differentiable ops:
//   regression_loss(x, t)          -> loss   backward: regression_loss_grad for x, its negation
//                                            for t (d / dt = -d / dx)
//   regression_loss_grad(g, x, t)  -> dx     one fused kernel; its backward is written with
//                                            differentiable ops (this op itself for g, plain
//                                            arithmetic for x and t), so every order exists.
#include <vector>

#include "dispatch.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/regression_loss.h"
#include "ganengine/loss.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

struct Spec {
  k::RegressionLoss kind = k::RegressionLoss::Squared;
  float target_value = 0.f;  // used when no target tensor is given
  k::LossReduction reduction = k::LossReduction::Mean;
  float divisor = 1.f;  // n for the mean, else 1: what the gradient is divided by
};

k::RegressionLossArgs kernel_args(const Spec& s, const Tensor& xc, const Tensor& tc) {
  k::RegressionLossArgs a;
  a.x = xc.data_ptr();
  a.target = tc.defined() ? tc.data_ptr() : nullptr;
  a.target_value = s.target_value;
  a.n = xc.numel();
  return a;
}

// The loss values (None) or their reduction, without history.
Tensor run_loss(const Spec& s, const Tensor& x, const Tensor& t) {
  const Tensor xc = detail::contiguous_operand(x), tc = detail::contiguous_operand(t);
  const bool reduce = s.reduction != k::LossReduction::None;
  Tensor out = detail::empty_raw(reduce ? Shape{} : x.shape(), x.device());
  const k::RegressionLossArgs a = kernel_args(s, xc, tc);
  if (x.device().is_cuda()) {
    const int64_t need = k::cuda::regression_loss_workspace(s.reduction, a.n);
    const Tensor workspace = detail::workspace_floats(need, x.device());
    k::cuda::regression_loss(s.kind, s.reduction, a, out.data_ptr(),
                             detail::data_or_null(workspace), need,
                             detail::kernel_stream(x.device()));
  } else {
    k::cpu::regression_loss(s.kind, s.reduction, a, out.data_ptr());
  }
  return out;
}

// dx for the incoming gradient g (x's shape for None, a scalar otherwise), without history.
Tensor run_grad(const Spec& s, const Tensor& g, const Tensor& x, const Tensor& t) {
  const Tensor gc = detail::contiguous_operand(g);
  const Tensor xc = detail::contiguous_operand(x), tc = detail::contiguous_operand(t);
  Tensor dx = detail::empty_raw(x.shape(), x.device());
  const k::RegressionLossArgs a = kernel_args(s, xc, tc);
  if (a.n == 0) return dx;
  detail::run_kernel(x.device(), k::cpu::regression_loss_backward,
                     k::cuda::regression_loss_backward, s.kind, s.reduction, a, gc.data_ptr(),
                     dx.data_ptr());
  return dx;
}

const char* grad_node(const Spec& s) {
  return s.kind == k::RegressionLoss::Squared ? "MseLossGradBackward" : "L1LossGradBackward";
}

// dx = g f'(x - t) / divisor, differentiable in g, x and t.
Tensor regression_loss_grad(const Tensor& g, const Tensor& x, const Tensor& t, const Spec& s) {
  Tensor dx = run_grad(s, g, x, t);
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
  Tensor out = run_loss(s, x, t);
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

k::LossReduction kernel_reduction(Reduction r, const char* op) {
  switch (r) {
    case Reduction::None:
      return k::LossReduction::None;
    case Reduction::Mean:
      return k::LossReduction::Mean;
    case Reduction::Sum:
      return k::LossReduction::Sum;
  }
  fail(op, ": expected Reduction::None, Mean or Sum, got ", static_cast<int>(r));
}

Spec spec(const char* op, k::RegressionLoss kind, const Tensor& x, Reduction reduction,
          float target) {
  Spec s;
  s.kind = kind;
  s.target_value = target;
  s.reduction = kernel_reduction(reduction, op);
  s.divisor = reduction == Reduction::Mean ? static_cast<float>(x.numel()) : 1.f;
  return s;
}

Tensor with_tensor_target(const char* op, const char* node, k::RegressionLoss kind,
                          const Tensor& input, const Tensor& target, Reduction reduction) {
  detail::check_operand(input, op);
  GE_CHECK(target.defined(), op, ": expected a defined target tensor, got an undefined one");
  detail::check_float(target, op);
  detail::check_same_device(input, target, op);
  GE_CHECK(target.shape() == input.shape(), op, ": expected target of shape ",
           to_string(input.shape()), " (the input's shape), got ", to_string(target.shape()));
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
