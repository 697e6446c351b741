// The WGAN-GP gradient penalty. Three differentiable ops:
//   gradient_penalty_interpolate(real, fake, alpha)  one fused kernel; backward: elementwise ops
//   gradient_penalty(x)        -> penalty   backward: gradient_penalty_grad (fused kernel reading
//                                           the forward's per-sample norms)
//   gradient_penalty_grad(x, gout) -> dx    backward: differentiable ops with the norms
//                                           recomputed from x, so any order is available
// In a WGAN-GP step, x is itself a gradient built with create_graph; the critic's parameters get
// d(penalty)/d(params) through gradient_penalty_grad's output flowing into that graph, so the
// hot path is the two fused kernels.
#include "ganengine/gradient_penalty.h"

#include <cmath>
#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/gradient_penalty.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

// [n, 1, ..., 1] with `ndim` dims: one value per sample, broadcast over the rest.
Shape per_sample_shape(int64_t n, int64_t ndim) {
  Shape s(static_cast<size_t>(ndim), 1);
  s[0] = n;
  return s;
}

std::vector<int64_t> sample_dims(int64_t ndim) {
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < ndim; ++d)
    dims.push_back(d);
  return dims;
}

// lambda * 2/N * gout * c(||x_n||) * x_n, fused; differentiable in x and gout.
Tensor gradient_penalty_grad(const Tensor& x, const Tensor& norms, const Tensor& gout,
                             float lambda) {
  const int64_t n = x.size(0), d = x.numel() / n;
  const Tensor xc = detail::contiguous_operand(x), gc = detail::contiguous_operand(gout);
  Tensor dx = detail::empty_raw(x.shape(), x.device());
  detail::run_kernel(x.device(), k::cpu::gradient_penalty_backward,
                     k::cuda::gradient_penalty_backward, xc.data_ptr(), norms.data_ptr(),
                     gc.data_ptr(), dx.data_ptr(), n, d, lambda);
  if (autograd::needs_grad({x, gout})) {
    // dx[n, i] = K gout c_n x[n, i] with K = 2 lambda / N, c_n = 1 - 1/r_n, r_n = ||x_n||, and
    // dc_n/dx[n, j] = x[n, j] / r_n^3. Zero-norm samples are masked (their c is 0, as in the
    // kernel); the mask keeps their r finite (1) so no 0 * inf reaches any order.
    autograd::record("GradientPenaltyGradBackward", {x, gout}, {dx},
                     [lambda, n, d](BackwardContext& ctx, const Grads& grads) {
                       const Tensor& x_saved = ctx.saved(0);
                       const Tensor& gout_saved = ctx.saved(1);
                       const float scale = lambda * 2.f / static_cast<float>(n);
                       const Tensor x2 = x_saved.reshape({n, d});
                       const Tensor gg = grads[0].reshape({n, d});
                       const Tensor sq = sum(x2 * x2, {1}, true);
                       const Tensor mask = gt(sq, zeros_like(sq));
                       const Tensor r = sqrt(sq + (1.f - mask));
                       const Tensor c = mask * (1.f - 1.f / r);
                       const Tensor proj = sum(gg * x2, {1}, true);
                       Tensor d_x, d_gout;
                       if (ctx.needs_input_grad(0)) {
                         d_x = ((scale * gout_saved) * (c * gg + x2 * (mask * proj / (r * r * r))))
                                   .reshape(x_saved.shape());
                       }
                       if (ctx.needs_input_grad(1))
                         d_gout = (scale * sum(c * proj)).reshape(gout_saved.shape());
                       return Grads{d_x, d_gout};
                     },
                     {x, gout});
  }
  return dx;
}

}  // namespace

Tensor gradient_penalty_interpolate(const Tensor& real, const Tensor& fake, const Tensor& alpha) {
  const char* op = "gradient_penalty_interpolate";
  detail::check_operands({real, fake, alpha}, op);
  GE_CHECK(real.dim() >= 1, op, ": expected real [N, ...] with a batch dim, got shape ",
           to_string(real.shape()));
  GE_CHECK(fake.shape() == real.shape(), op, ": expected fake of real's shape ",
           to_string(real.shape()), ", got ", to_string(fake.shape()));
  const int64_t n = real.size(0), nd = real.dim();
  const int64_t d = n > 0 ? real.numel() / n : 0;
  const bool alpha_ok = alpha.numel() == n && alpha.dim() >= 1 && alpha.size(0) == n &&
                        (alpha.dim() == 1 || alpha.shape() == per_sample_shape(n, nd));
  GE_CHECK(alpha_ok, op, ": expected alpha of shape [", n, "] (one per sample of real ",
           to_string(real.shape()), "), got shape ", to_string(alpha.shape()));

  const Tensor rc = detail::contiguous_operand(real), fc = detail::contiguous_operand(fake),
               ac = detail::contiguous_operand(alpha);
  Tensor out = detail::empty_raw(real.shape(), real.device());
  detail::run_kernel(real.device(), k::cpu::gradient_penalty_interpolate,
                     k::cuda::gradient_penalty_interpolate, rc.data_ptr(), fc.data_ptr(),
                     ac.data_ptr(), out.data_ptr(), n, d);
  if (autograd::needs_grad({real, fake, alpha})) {
    autograd::record("GradientPenaltyInterpolateBackward", {real, fake, alpha}, {out},
                     [n, nd](BackwardContext& ctx, const Grads& g) {
                       const Tensor& r = ctx.saved(0);
                       const Tensor& f = ctx.saved(1);
                       const Tensor& al = ctx.saved(2);
                       const Tensor a = al.reshape(per_sample_shape(n, nd));
                       Tensor d_real, d_fake, d_alpha;
                       if (ctx.needs_input_grad(0)) d_real = g[0] - g[0] * a;
                       if (ctx.needs_input_grad(1)) d_fake = g[0] * a;
                       if (ctx.needs_input_grad(2)) {
                         const Tensor prod = g[0] * (f - r);
                         d_alpha = (nd > 1 ? sum(prod, sample_dims(nd)) : prod).reshape(al.shape());
                       }
                       return Grads{d_real, d_fake, d_alpha};
                     },
                     {real, fake, alpha});
  }
  return out;
}

Tensor gradient_penalty(const Tensor& grad, float lambda) {
  const char* op = "gradient_penalty";
  detail::check_operand(grad, op);
  GE_CHECK(grad.dim() >= 1 && grad.size(0) >= 1, op,
           ": expected grad [N, ...] with N >= 1 samples, got shape ", to_string(grad.shape()));
  GE_CHECK(std::isfinite(lambda), op, ": expected a finite lambda, got ", lambda);
  const int64_t n = grad.size(0), d = grad.numel() / n;
  const Tensor xc = detail::contiguous_operand(grad);
  const Tensor norms = detail::empty_raw({n}, grad.device());
  Tensor out = detail::empty_raw({}, grad.device());
  if (grad.device().is_cuda()) {
    const int64_t need = k::cuda::gradient_penalty_workspace(n, d);
    const Tensor workspace = detail::workspace_floats(need, grad.device());
    k::cuda::gradient_penalty_forward(xc.data_ptr(), norms.data_ptr(), out.data_ptr(), n, d, lambda,
                                      detail::data_or_null(workspace), need,
                                      detail::kernel_stream(grad.device()));
  } else {
    k::cpu::gradient_penalty_forward(xc.data_ptr(), norms.data_ptr(), out.data_ptr(), n, d, lambda);
  }
  if (autograd::needs_grad({grad})) {
    autograd::record(
        "GradientPenaltyBackward", {grad}, {out},
        [lambda](BackwardContext& ctx, const Grads& g) {
          return Grads{gradient_penalty_grad(ctx.saved(0), ctx.saved(1), g[0], lambda)};
        },
        {grad, norms});
  }
  return out;
}

Tensor wgan_gradient_penalty(const std::function<Tensor(const Tensor&)>& critic, const Tensor& real,
                             const Tensor& fake, float lambda, Generator* generator) {
  const char* op = "wgan_gradient_penalty";
  detail::check_operand(real, op);
  GE_CHECK(real.dim() >= 1 && real.size(0) >= 1, op,
           ": expected real [N, ...] with N >= 1 samples, got shape ", to_string(real.shape()));
  const Tensor alpha = rand({real.size(0)}, TensorOptions(real.device()), generator);
  return wgan_gradient_penalty(critic, real, fake, lambda, alpha);
}

Tensor wgan_gradient_penalty(const std::function<Tensor(const Tensor&)>& critic, const Tensor& real,
                             const Tensor& fake, float lambda, const Tensor& alpha) {
  const char* op = "wgan_gradient_penalty";
  GE_CHECK(static_cast<bool>(critic), op, ": expected a critic function, got an empty one");
  detail::check_operand(real, op);
  GE_CHECK(real.dim() >= 1 && real.size(0) >= 1, op,
           ": expected real [N, ...] with N >= 1 samples, got shape ", to_string(real.shape()));
  // The penalty needs the critic's gradient wrt x_hat, so a graph is built even when the
  // caller has grad mode off.
  EnableGradGuard enable_grad;
  Tensor x_hat = gradient_penalty_interpolate(real, fake, alpha);
  if (!x_hat.requires_grad()) x_hat.requires_grad_(true);  // a fresh leaf
  const Tensor out = critic(x_hat);
  GE_CHECK(out.defined(), op, ": the critic returned an undefined tensor");
  const Tensor g = ge::grad({sum(out)}, {x_hat}, {}, /*create_graph=*/true)[0];
  return gradient_penalty(g, lambda);
}

}  // namespace ge
