// instance_norm2d. Two differentiable ops on the fused kernels:
//   instance_norm2d(x, w, b)                       -> y      (saves mean and rstd per plane)
//       backward: instance_norm_backward(dy, x, w)
//   instance_norm_backward(dy, x, w)               -> (dx, dw, db), or dx alone when the
//                                                     parameter gradients are not wanted
//       backward: written with differentiable ops, instance_norm_backward among them, so every
//       order of derivative exists (R1 and gradient penalties through a normalised critic).
//
// Double backward, per plane over its M = H * W values, <.> the mean over the plane, r = rstd,
// xhat = (x - mean) r, gc = dy - <dy>, and A, P, Q the gradients arriving for dx, dw, db (batch
// norm's formulas with planes for channels; P and Q are per channel, summed over n):
//   d dy = instance_norm_backward(A, x, w).dx + P xhat + Q
//   d x  = instance_norm_backward(dy, x, P).dx
//          + w r^2 (xhat (3 <dy xhat><A xhat> - <A gc>) - <A xhat> gc - <dy xhat> (A - <A>))
//   d w  = sum over n and the plane of A (gc - xhat <dy xhat>) r
#include "ganengine/instance_norm.h"

#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/instance_norm.h"
#include "ganengine/ops.h"
#include "norm2d.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;
using detail::per_channel;

const std::vector<int64_t> kPlaneDims = {2, 3};
const std::vector<int64_t> kChannelDims = {0, 2, 3};

k::InstanceNormShape shape_of(const Tensor& x) {
  return {x.size(0), x.size(1), x.size(2) * x.size(3)};
}

// mean and rstd of every plane, [N, C]: what the forward kernel saves for the backward.
struct Stats {
  Tensor mean, rstd;
};

// y = (x - mean) * rstd * weight + bias with the statistics of x, no history.
Tensor forward_kernel(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps,
                      Stats& st) {
  const Tensor xc = detail::contiguous_operand(x), wc = detail::contiguous_operand(weight),
               bc = detail::contiguous_operand(bias);
  const k::InstanceNormShape s = shape_of(x);
  Tensor y = detail::empty_raw(x.shape(), x.device());
  st.mean = detail::empty_raw({s.n, s.c}, x.device());
  st.rstd = detail::empty_raw({s.n, s.c}, x.device());
  detail::run_kernel(x.device(), k::cpu::instance_norm_forward, k::cuda::instance_norm_forward,
                     xc.data_ptr(), detail::data_or_null(wc), detail::data_or_null(bc),
                     y.data_ptr(), st.mean.data_ptr(), st.rstd.data_ptr(), s, eps);
  return y;
}

// {dx} or, with params, {dx, dw, db}; no history.
Grads backward_kernel(const Tensor& dy, const Tensor& x, const Tensor& weight, const Stats& st,
                      bool params) {
  const Tensor dyc = detail::contiguous_operand(dy), xc = detail::contiguous_operand(x),
               wc = detail::contiguous_operand(weight);
  const k::InstanceNormShape s = shape_of(x);
  Grads out = {detail::empty_raw(x.shape(), x.device())};
  if (params) {
    out.push_back(detail::empty_raw({s.c}, x.device()));
    out.push_back(detail::empty_raw({s.c}, x.device()));
  }
  float* dw = params ? out[1].data_ptr() : nullptr;
  float* db = params ? out[2].data_ptr() : nullptr;
  if (x.device().is_cuda()) {
    const int64_t need = k::cuda::instance_norm_backward_workspace(s, params);
    const Tensor workspace = detail::workspace_floats(need, x.device());
    k::cuda::instance_norm_backward(dyc.data_ptr(), xc.data_ptr(), st.mean.data_ptr(),
                                    st.rstd.data_ptr(), detail::data_or_null(wc), out[0].data_ptr(),
                                    dw, db, s, detail::data_or_null(workspace), need,
                                    detail::kernel_stream(x.device()));
  } else {
    k::cpu::instance_norm_backward(dyc.data_ptr(), xc.data_ptr(), st.mean.data_ptr(),
                                   st.rstd.data_ptr(), detail::data_or_null(wc), out[0].data_ptr(),
                                   dw, db, s);
  }
  return out;
}

Grads instance_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight,
                             const Stats& st, float eps, bool params);

Grads instance_norm_double_backward(BackwardContext& ctx, const Grads& grads, float eps,
                                    bool params) {
  const Tensor& dy = ctx.saved(0);
  const Tensor& x = ctx.saved(1);
  const Tensor& weight = ctx.saved(2);
  const Stats st{ctx.saved(3), ctx.saved(4)};
  const Tensor& a = grads[0];
  Tensor d_dy, d_x, d_w;
  const detail::Normalized nx = detail::normalize(x, eps, kPlaneDims);
  // Without the dw and db outputs, P and Q are zero and their terms are skipped.
  if (ctx.needs_input_grad(0)) {
    d_dy = instance_norm_backward(a, x, weight, st, eps, false)[0];
    if (params) d_dy = d_dy + nx.xhat * per_channel(grads[1]) + per_channel(grads[2]);
  }
  if (ctx.needs_input_grad(1) || ctx.needs_input_grad(2)) {
    const detail::NormDoubleBackward terms(dy, nx, kPlaneDims);
    if (ctx.needs_input_grad(1)) {
      const Tensor curv = terms.curvature(a);
      d_x = weight.defined() ? curv * per_channel(weight) : curv;
      if (params) d_x = d_x + instance_norm_backward(dy, x, grads[1], st, eps, false)[0];
    }
    if (ctx.needs_input_grad(2)) d_w = terms.dweight(a, kChannelDims);
  }
  return {d_dy, d_x, d_w};
}

// {dx} or {dx, dweight, dbias} for the plane statistics `st` of x (weight undefined reads as 1).
// Differentiable in dy, x and weight.
Grads instance_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight,
                             const Stats& st, float eps, bool params) {
  Grads out = backward_kernel(dy, x, weight, st, params);
  if (autograd::needs_grad({dy, x, weight})) {
    autograd::record("InstanceNormBackwardBackward", {dy, x, weight}, out,
                     [eps, params](BackwardContext& ctx, const Grads& g) {
                       return instance_norm_double_backward(ctx, g, eps, params);
                     },
                     {dy, x, weight, st.mean, st.rstd});
  }
  return out;
}

}  // namespace

Tensor instance_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  const char* op = "instance_norm2d";
  detail::check_operand(x, op);
  GE_CHECK(x.dim() == 4, op, ": expected a 4-D input [N, C, H, W], got shape ",
           to_string(x.shape()));
  GE_CHECK(weight.defined() == bias.defined(), op,
           ": expected weight and bias both defined (affine) or both undefined, got ",
           weight.defined() ? "weight only" : "bias only");
  detail::check_channel_vector(x, weight, "weight", op);
  detail::check_channel_vector(x, bias, "bias", op);
  GE_CHECK(eps > 0.f, op, ": expected eps > 0, got ", eps);
  GE_CHECK(x.size(2) * x.size(3) > 0 || x.size(0) * x.size(1) == 0, op,
           ": expected at least one value per plane (H * W > 0), got input shape ",
           to_string(x.shape()));
  Stats st;
  Tensor y = forward_kernel(x, weight, bias, eps, st);
  if (autograd::needs_grad({x, weight, bias})) {
    autograd::record("InstanceNormBackward", {x, weight, bias}, {y},
                     [eps](BackwardContext& ctx, const Grads& g) {
                       const Tensor& weight_saved = ctx.saved(1);
                       const bool params = weight_saved.defined() &&
                                           (ctx.needs_input_grad(1) || ctx.needs_input_grad(2));
                       const Grads d =
                           instance_norm_backward(g[0], ctx.saved(0), weight_saved,
                                                  Stats{ctx.saved(2), ctx.saved(3)}, eps, params);
                       return Grads{ctx.needs_input_grad(0) ? d[0] : Tensor(),
                                    params && ctx.needs_input_grad(1) ? d[1] : Tensor(),
                                    params && ctx.needs_input_grad(2) ? d[2] : Tensor()};
                     },
                     {x, weight, st.mean, st.rstd});
  }
  return y;
}

}  // namespace ge
