// pixel_norm. Two differentiable ops on the fused kernels:
//   pixel_norm(x)                -> y                 backward: pixel_norm_backward(dy, x)
//   pixel_norm_backward(dy, x)   -> rs (dy - y <dy y>)
//       backward, with <.> the mean along dim, A the incoming gradient, rs and y rebuilt from x
//       with differentiable ops:
//         d dy = pixel_norm_backward(A, x)                      (the map dy -> dx is symmetric)
//         d x  = rs^2 (y (3 <dy y><A y> - <A dy>) - dy <A y> - A <dy y>)
// so every order of derivative exists (R1 and path-length penalties through a mapping network).
#include "ganengine/pixel_norm.h"

#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/pixel_norm.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

k::PixelNormShape shape_of(const Tensor& x, int64_t dim) {
  k::PixelNormShape s;
  s.outer = 1;
  for (int64_t d = 0; d < dim; ++d)
    s.outer *= x.size(d);
  s.r = x.size(dim);
  for (int64_t d = dim + 1; d < x.dim(); ++d)
    s.inner *= x.size(d);
  return s;
}

// One kernel call on contiguous operands (dy undefined: forward); no history.
Tensor launch(const Tensor& x, const Tensor& dy, int64_t dim, float eps) {
  const Tensor xc = detail::contiguous_operand(x), dyc = detail::contiguous_operand(dy);
  Tensor out = detail::empty_raw(x.shape(), x.device());
  const k::PixelNormShape s = shape_of(x, dim);
  if (s.numel() == 0) return out;
  if (dy.defined()) {
    detail::run_kernel(x.device(), k::cpu::pixel_norm_backward, k::cuda::pixel_norm_backward,
                       dyc.data_ptr(), xc.data_ptr(), out.data_ptr(), s, eps);
  } else {
    detail::run_kernel(x.device(), k::cpu::pixel_norm_forward, k::cuda::pixel_norm_forward,
                       xc.data_ptr(), out.data_ptr(), s, eps);
  }
  return out;
}

Tensor pixel_norm_backward(const Tensor& dy, const Tensor& x, int64_t dim, float eps) {
  Tensor dx = launch(x, dy, dim, eps);
  if (autograd::needs_grad({dy, x})) {
    autograd::record("PixelNormBackwardBackward", {dy, x}, {dx},
                     [dim, eps](BackwardContext& ctx, const Grads& g) {
                       const Tensor& dy_saved = ctx.saved(0);
                       const Tensor& x_saved = ctx.saved(1);
                       const Tensor& a = g[0];
                       Tensor d_dy, d_x;
                       if (ctx.needs_input_grad(0))
                         d_dy = pixel_norm_backward(a, x_saved, dim, eps);
                       if (ctx.needs_input_grad(1)) {
                         const std::vector<int64_t> dims = {dim};
                         const Tensor rs = rsqrt(mean(square(x_saved), dims, true) + eps);
                         const Tensor y = x_saved * rs;
                         const Tensor dy_y = mean(dy_saved * y, dims, true);
                         const Tensor a_y = mean(a * y, dims, true);
                         const Tensor a_dy = mean(a * dy_saved, dims, true);
                         d_x = square(rs) *
                               (y * (3.f * dy_y * a_y - a_dy) - dy_saved * a_y - a * dy_y);
                       }
                       return Grads{d_dy, d_x};
                     },
                     {dy, x});
  }
  return dx;
}

}  // namespace

Tensor pixel_norm(const Tensor& x, int64_t dim, float eps) {
  const char* op = "pixel_norm";
  detail::check_operand(x, op);
  GE_CHECK(x.dim() >= 1, op, ": expected a tensor with at least 1 dim, got shape ",
           to_string(x.shape()));
  const int64_t d = wrap_dim(dim, x.dim(), op);
  GE_CHECK(eps >= 0.f, op, ": expected eps >= 0, got ", eps);
  Tensor y = launch(x, Tensor(), d, eps);
  if (autograd::needs_grad({x})) {
    autograd::record("PixelNormBackward", {x}, {y},
                     [d, eps](BackwardContext& ctx, const Grads& g) {
                       return Grads{pixel_norm_backward(g[0], ctx.saved(0), d, eps)};
                     },
                     {x});
  }
  return y;
}

}  // namespace ge
