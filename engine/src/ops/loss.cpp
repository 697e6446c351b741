// binary_cross_entropy_with_logits and softplus_loss: both are the logistic loss
//   l_i = max(z, 0) - z t_i + log1p(exp(-|z|)),  z = sign * x
// (BCE: sign 1; softplus_loss: target 0), reduced in the same kernel launch. Two
// differentiable ops:
//   logistic_loss(x, t)          -> loss   backward: logistic_loss_grad for x, -g sign x for t
//   logistic_loss_grad(g, x, t)  -> dx     one fused kernel; its backward is written with
//                                          differentiable ops (sigmoid and arithmetic), so every
//                                          higher order stays available.
#include "ganengine/loss.h"

#include <cmath>
#include <vector>

#include "dispatch.h"
#include "fused_loss.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/loss.h"
#include "ganengine/ops.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

struct LossSpec : detail::FusedLossSpec {
  float sign = 1.f;
};

const detail::FusedLossKernels<k::LogisticLossArgs> kKernels = {
    k::cpu::logistic_loss,  k::cpu::logistic_loss_backward,  k::cuda::logistic_loss_workspace,
    k::cuda::logistic_loss, k::cuda::logistic_loss_backward, {}};

k::LogisticLossArgs kernel_args(const LossSpec& s) {
  k::LogisticLossArgs a;
  a.target_value = s.target_value;
  a.sign = s.sign;
  return a;
}

// dx = g * sign * (sigmoid(sign x) - t) / divisor, differentiable in g, x and t.
Tensor logistic_loss_grad(const Tensor& g, const Tensor& x, const Tensor& t, const LossSpec& s) {
  Tensor dx = detail::run_fused_loss_grad(kKernels, s.reduction, kernel_args(s), g, x, t);
  const Grads inputs = t.defined() ? Grads{g, x, t} : Grads{g, x};
  if (autograd::needs_grad(inputs)) {
    autograd::record(
        "LogisticLossGradBackward", inputs, {dx},
        [s](BackwardContext& ctx, const Grads& gg) {
          const Tensor& g_saved = ctx.saved(0);
          const Tensor& x_saved = ctx.saved(1);
          const float k = s.sign / s.divisor;
          const Tensor sig = sigmoid(x_saved * s.sign);
          Tensor d_g, d_x, d_t;
          if (ctx.needs_input_grad(0)) {
            const Tensor residual = ctx.num_saved() > 2 ? sig - ctx.saved(2) : sig - s.target_value;
            d_g = sum_to(gg[0] * residual * k, g_saved.shape());
          }
          // d sigmoid(sign x) / dx = sign * sig * (1 - sig).
          if (ctx.needs_input_grad(1)) d_x = gg[0] * g_saved * (k * s.sign) * (sig * (1.f - sig));
          if (ctx.num_saved() > 2 && ctx.needs_input_grad(2)) d_t = -(gg[0] * g_saved) * k;
          return ctx.num_saved() > 2 ? Grads{d_g, d_x, d_t} : Grads{d_g, d_x};
        },
        inputs);
  }
  return dx;
}

Tensor logistic_loss(const char* node, const Tensor& x, const Tensor& t, const LossSpec& s) {
  Tensor out = detail::run_fused_loss(kKernels, s.reduction, kernel_args(s), x, t);
  const Grads inputs = t.defined() ? Grads{x, t} : Grads{x};
  if (autograd::needs_grad(inputs)) {
    autograd::record(
        node, inputs, {out},
        [s](BackwardContext& ctx, const Grads& g) {
          const Tensor& x_saved = ctx.saved(0);
          const Tensor t_saved = ctx.num_saved() > 1 ? ctx.saved(1) : Tensor();
          Tensor dx, dt;
          if (ctx.needs_input_grad(0)) dx = logistic_loss_grad(g[0], x_saved, t_saved, s);
          // d loss / dt = -z = -sign x.
          if (t_saved.defined() && ctx.needs_input_grad(1))
            dt = -(g[0] * x_saved) * (s.sign / s.divisor);
          return t_saved.defined() ? Grads{dx, dt} : Grads{dx};
        },
        inputs);
  }
  return out;
}

LossSpec spec(const char* op, const Tensor& x, Reduction reduction, float sign, float target) {
  return {detail::fused_loss_spec(op, x, reduction, target), sign};
}

}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  detail::check_operand(logits, op);
  detail::check_loss_target(op, logits, target, "logits'");
  return logistic_loss("BinaryCrossEntropyWithLogitsBackward", logits, target,
                       spec(op, logits, reduction, 1.f, 0.f));
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, float target, Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  detail::check_operand(logits, op);
  return logistic_loss("BinaryCrossEntropyWithLogitsBackward", logits, Tensor(),
                       spec(op, logits, reduction, 1.f, target));
}

Tensor softplus_loss(const Tensor& x, float sign, Reduction reduction) {
  const char* op = "softplus_loss";
  detail::check_operand(x, op);
  GE_CHECK(std::isfinite(sign), op, ": expected a finite sign, got ", sign);
  return logistic_loss("SoftplusLossBackward", x, Tensor(), spec(op, x, reduction, sign, 0.f));
}

}  // namespace ge
