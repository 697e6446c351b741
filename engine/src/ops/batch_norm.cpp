// batch_norm2d. Training mode chains two differentiable ops on the fused kernels:
//   batch_norm2d(x, w, b)                      -> y
//       backward: batch_norm_backward(dy, x, w)
//   batch_norm_backward(dy, x, w)              -> (dx, dw, db)   (stats + reduce + input kernels)
//       backward: written with differentiable ops, batch_norm_backward among them, so every
//       order of derivative exists (WGAN-GP and R1 through a normalised critic).
// Eval mode is an affine map per channel with constant coefficients; its backward is plain
// differentiable arithmetic.
//
// Double backward, per channel over its M values, <.> the mean over them, r = invstd,
// xhat = (x - mean) r, gc = dy - <dy>, and A, P, Q the gradients arriving for dx, dw, db:
//   d dy = batch_norm_backward(A, x, w).dx + P xhat + Q
//   d x  = batch_norm_backward(dy, x, P).dx
//          + w r^2 (xhat (3 <dy xhat><A xhat> - <A gc>) - <A xhat> gc - <dy xhat> (A - <A>))
//   d w  = sum(A (gc - xhat <dy xhat>)) r
#include "ganengine/batch_norm.h"

#include <string>
#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/batch_norm.h"
#include "ganengine/ops.h"
#include "norm2d.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;
using detail::per_channel;

const std::vector<int64_t> kReduceDims = {0, 2, 3};

k::BatchNormShape shape_of(const Tensor& x) {
  return {x.size(0), x.size(1), x.size(2) * x.size(3)};
}

struct Stats {
  Tensor mean, invstd;
};

// A running statistic as the kernel writes it: in place when contiguous, else through a
// contiguous copy written back afterwards. Either way its version is bumped, so that a graph
// that saved it notices the update.
class RunningBuffer {
 public:
  explicit RunningBuffer(const Tensor& target) : target_(target) {
    work_ = detail::contiguous_operand(target_);
  }
  float* data() const { return detail::data_or_null(work_); }
  void commit() const {
    if (!target_.defined()) return;
    if (work_.impl() != target_.impl()) detail::copy_kernel(work_, target_);
    detail::bump_version(target_);
  }

 private:
  Tensor target_, work_;
};

Stats stats_kernel(const Tensor& xc, float eps, const Tensor& running_mean,
                   const Tensor& running_var, float momentum) {
  const k::BatchNormShape s = shape_of(xc);
  Stats st{detail::empty_raw({s.c}, xc.device()), detail::empty_raw({s.c}, xc.device())};
  const RunningBuffer rm(running_mean), rv(running_var);
  k::BatchNormRunning running;
  running.mean = rm.data();
  running.var = rv.data();
  running.momentum = momentum;
  if (xc.device().is_cuda()) {
    const int64_t need = k::cuda::batch_norm_workspace(s);
    const Tensor workspace = detail::workspace_floats(need, xc.device());
    k::cuda::batch_norm_stats(xc.data_ptr(), s, eps, st.mean.data_ptr(), st.invstd.data_ptr(),
                              running, detail::data_or_null(workspace), need,
                              detail::kernel_stream(xc.device()));
  } else {
    k::cpu::batch_norm_stats(xc.data_ptr(), s, eps, st.mean.data_ptr(), st.invstd.data_ptr(),
                             running);
  }
  rm.commit();
  rv.commit();
  return st;
}

// y = (x - mean) * invstd * weight + bias, no history.
Tensor forward_kernel(const Tensor& x, const Stats& st, const Tensor& weight, const Tensor& bias) {
  const Tensor xc = detail::contiguous_operand(x), wc = detail::contiguous_operand(weight),
               bc = detail::contiguous_operand(bias);
  Tensor y = detail::empty_raw(x.shape(), x.device());
  const k::BatchNormShape s = shape_of(x);
  detail::run_kernel(x.device(), k::cpu::batch_norm_forward, k::cuda::batch_norm_forward,
                     xc.data_ptr(), st.mean.data_ptr(), st.invstd.data_ptr(),
                     detail::data_or_null(wc), detail::data_or_null(bc), y.data_ptr(), s);
  return y;
}

Grads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Stats& st,
                          float eps);

Grads batch_norm_double_backward(BackwardContext& ctx, const Grads& grads, float eps) {
  const Tensor& dy = ctx.saved(0);
  const Tensor& x = ctx.saved(1);
  const Tensor& weight = ctx.saved(2);
  const Stats st{ctx.saved(3), ctx.saved(4)};
  const Tensor& a = grads[0];
  const Tensor& p = grads[1];
  const Tensor& q = grads[2];
  Tensor d_dy, d_x, d_w;
  const detail::Normalized nx = detail::normalize(x, eps, kReduceDims);
  // Without a weight nothing reads the dw output, so P is zero and its terms are skipped.
  if (ctx.needs_input_grad(0)) {
    d_dy = batch_norm_backward(a, x, weight, st, eps)[0] + per_channel(q);
    if (weight.defined()) d_dy = d_dy + nx.xhat * per_channel(p);
  }
  if (ctx.needs_input_grad(1) || ctx.needs_input_grad(2)) {
    const detail::NormDoubleBackward terms(dy, nx, kReduceDims);
    if (ctx.needs_input_grad(1)) {
      const Tensor curv = terms.curvature(a);
      d_x = weight.defined()
                ? batch_norm_backward(dy, x, p, st, eps)[0] + curv * per_channel(weight)
                : curv;
    }
    if (ctx.needs_input_grad(2)) d_w = terms.dweight(a, kReduceDims);
  }
  return {d_dy, d_x, d_w};
}

// The training-mode backward: {dx, dweight, dbias} for the batch statistics `st` of x (weight
// undefined reads as 1). Differentiable in dy, x and weight.
Grads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Stats& st,
                          float eps) {
  const Tensor dyc = detail::contiguous_operand(dy), xc = detail::contiguous_operand(x),
               wc = detail::contiguous_operand(weight);
  const k::BatchNormShape s = shape_of(x);
  Tensor dx = detail::empty_raw(x.shape(), x.device());
  Tensor sum_dy = detail::empty_raw({s.c}, x.device());
  Tensor sum_dy_xhat = detail::empty_raw({s.c}, x.device());
  if (x.device().is_cuda()) {
    const int64_t need = k::cuda::batch_norm_workspace(s);
    const Tensor workspace = detail::workspace_floats(need, x.device());
    k::cuda::batch_norm_backward_reduce(dyc.data_ptr(), xc.data_ptr(), st.mean.data_ptr(),
                                        st.invstd.data_ptr(), sum_dy.data_ptr(),
                                        sum_dy_xhat.data_ptr(), s, detail::data_or_null(workspace),
                                        need, detail::kernel_stream(x.device()));
  } else {
    k::cpu::batch_norm_backward_reduce(dyc.data_ptr(), xc.data_ptr(), st.mean.data_ptr(),
                                       st.invstd.data_ptr(), sum_dy.data_ptr(),
                                       sum_dy_xhat.data_ptr(), s);
  }
  detail::run_kernel(x.device(), k::cpu::batch_norm_backward_input,
                     k::cuda::batch_norm_backward_input, dyc.data_ptr(), xc.data_ptr(),
                     st.mean.data_ptr(), st.invstd.data_ptr(), detail::data_or_null(wc),
                     sum_dy.data_ptr(), sum_dy_xhat.data_ptr(), dx.data_ptr(), s);
  if (autograd::needs_grad({dy, x, weight})) {
    autograd::record("BatchNormBackwardBackward", {dy, x, weight}, {dx, sum_dy_xhat, sum_dy},
                     [eps](BackwardContext& ctx, const Grads& g) {
                       return batch_norm_double_backward(ctx, g, eps);
                     },
                     {dy, x, weight, st.mean, st.invstd});
  }
  return {dx, sum_dy_xhat, sum_dy};
}

Tensor batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Tensor& running_mean, const Tensor& running_var, float momentum,
                        float eps) {
  const char* op = "batch_norm2d";
  const int64_t m = x.size(0) * x.size(2) * x.size(3);
  GE_CHECK(m > 1 || x.size(1) == 0, op,
           ": expected more than 1 value per channel when training, got input shape ",
           to_string(x.shape()));
  const Tensor xc = detail::contiguous_operand(x);
  Stats st;
  {
    NoGradGuard no_grad;
    st = stats_kernel(xc, eps, running_mean, running_var, momentum);
  }
  Tensor y = forward_kernel(xc, st, weight, bias);
  if (autograd::needs_grad({x, weight, bias})) {
    autograd::record("BatchNormBackward", {x, weight, bias}, {y},
                     [eps, has_bias = bias.defined()](BackwardContext& ctx, const Grads& g) {
                       const Tensor& weight_saved = ctx.saved(1);
                       const Grads d = batch_norm_backward(g[0], ctx.saved(0), weight_saved,
                                                           Stats{ctx.saved(2), ctx.saved(3)}, eps);
                       return Grads{
                           ctx.needs_input_grad(0) ? d[0] : Tensor(),
                           weight_saved.defined() && ctx.needs_input_grad(1) ? d[1] : Tensor(),
                           has_bias && ctx.needs_input_grad(2) ? d[2] : Tensor()};
                     },
                     {x, weight, st.mean, st.invstd});
  }
  return y;
}

Tensor batch_norm_eval(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Tensor& running_mean, const Tensor& running_var, float eps) {
  Stats st;
  {
    // Snapshots: the running statistics may be updated in place after this call.
    NoGradGuard no_grad;
    st.mean = detail::contiguous_operand(running_mean.detach()).clone();
    st.invstd = rsqrt(running_var.detach() + eps).contiguous();
  }
  Tensor y = forward_kernel(x, st, weight, bias);
  if (autograd::needs_grad({x, weight, bias})) {
    autograd::record(
        "BatchNormEvalBackward", {x, weight, bias}, {y},
        [has_bias = bias.defined()](BackwardContext& ctx, const Grads& g) {
          const Tensor& x_saved = ctx.saved(0);
          const Tensor& weight_saved = ctx.saved(1);
          const Tensor invstd = per_channel(ctx.saved(3));
          Tensor dx, dw, db;
          if (ctx.needs_input_grad(0))
            dx = g[0] * (weight_saved.defined() ? invstd * per_channel(weight_saved) : invstd);
          if (weight_saved.defined() && ctx.needs_input_grad(1))
            dw = sum(g[0] * ((x_saved - per_channel(ctx.saved(2))) * invstd), kReduceDims);
          if (has_bias && ctx.needs_input_grad(2)) db = sum(g[0], kReduceDims);
          return Grads{dx, dw, db};
        },
        {x, weight, st.mean, st.invstd});
  }
  return y;
}

}  // namespace

Tensor batch_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Tensor& running_mean, const Tensor& running_var, bool training,
                    float momentum, float eps) {
  const char* op = "batch_norm2d";
  detail::check_operand(x, op);
  GE_CHECK(x.dim() == 4, op, ": expected a 4-D input [N, C, H, W], got shape ",
           to_string(x.shape()));
  detail::check_channel_vector(x, weight, "weight", op);
  detail::check_channel_vector(x, bias, "bias", op);
  detail::check_channel_vector(x, running_mean, "running_mean", op);
  detail::check_channel_vector(x, running_var, "running_var", op);
  GE_CHECK(eps >= 0.f, op, ": expected eps >= 0, got ", eps);
  if (training) return batch_norm_train(x, weight, bias, running_mean, running_var, momentum, eps);
  GE_CHECK(running_mean.defined() && running_var.defined(), op,
           ": expected running_mean and running_var in eval mode (training = false), got ",
           running_mean.defined()  ? "running_mean only"
           : running_var.defined() ? "running_var only"
                                   : "neither");
  return batch_norm_eval(x, weight, bias, running_mean, running_var, eps);
}

}  // namespace ge
