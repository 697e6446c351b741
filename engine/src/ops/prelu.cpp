// prelu. Three differentiable ops chain the kernel's modes so that every order of derivative
// stays available under create_graph; the masks (x > 0) are piecewise constant, so no gradient
// ever flows back into x from a backward:
//   prelu(x, w)                 -> y          backward: prelu_backward for x, weight_terms summed
//                                              per channel for w
//   prelu_backward(g, x, w)     -> dx         backward: itself for g (linear in g), the negative
//                                              mask of gg * g summed per channel for w
//   weight_terms(g, x)          -> g * min(x, 0)  backward: itself for g, the negative mask of
//                                              gg * g for x
//   negative_mask(t, x)         -> t where x <= 0  backward: itself for t
#include "ganengine/prelu.h"

#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/prelu.h"
#include "ganengine/ops.h"
#include "prelu_grad.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;
using Mode = k::PreluMode;

// How the slopes broadcast over x, and the dims a slope gradient sums.
struct Geometry {
  int64_t channels = 1;
  int64_t inner = 1;
  std::vector<int64_t> reduce_dims;  // empty: every dim
  Shape weight_shape;
};

Geometry geometry_of(const Shape& x, const Tensor& weight) {
  Geometry geo;
  geo.weight_shape = weight.shape();
  if (weight.numel() == 1 || x.size() < 2) return geo;
  geo.channels = x[1];
  for (size_t d = 2; d < x.size(); ++d)
    geo.inner *= x[d];
  for (size_t d = 0; d < x.size(); ++d)
    if (d != 1) geo.reduce_dims.push_back(static_cast<int64_t>(d));
  return geo;
}

// One kernel call on contiguous copies of the operands; the result has no history.
Tensor launch(Mode mode, const Tensor& x, const Tensor& g, const Tensor& w, const Geometry& geo) {
  const Tensor xc = detail::contiguous_operand(x);
  const Tensor gc = g.defined() ? detail::contiguous_operand(g) : Tensor();
  const Tensor wc = w.defined() ? detail::contiguous_operand(w) : Tensor();
  Tensor out = detail::empty_raw(x.shape(), x.device());
  k::PreluArgs a;
  a.x = xc.data_ptr();
  a.g = gc.defined() ? gc.data_ptr() : nullptr;
  a.weight = wc.defined() ? wc.data_ptr() : nullptr;
  a.out = out.data_ptr();
  a.n = out.numel();
  a.channels = geo.channels;
  a.inner = geo.inner;
  if (a.n > 0) detail::run_kernel(x.device(), k::cpu::prelu, k::cuda::prelu, mode, a);
  return out;
}

// The per-channel (or total) sum of t, shaped as the weight.
Tensor sum_per_slope(const Tensor& t, const Geometry& geo) {
  return (geo.reduce_dims.empty() ? sum(t) : sum(t, geo.reduce_dims)).reshape(geo.weight_shape);
}

Tensor negative_mask(const Tensor& t, const Tensor& x, const Geometry& geo) {
  Tensor out = launch(Mode::NegativeMask, x, t, Tensor(), geo);
  if (autograd::needs_grad({t})) {
    autograd::record("PreluNegativeMaskBackward", {t}, {out},
                     [geo](BackwardContext& ctx, const Grads& g) {
                       return Grads{negative_mask(g[0], ctx.saved(0), geo)};
                     },
                     {x});
  }
  return out;
}

Tensor weight_terms(const Tensor& g, const Tensor& x, const Geometry& geo) {
  Tensor out = launch(Mode::WeightTerms, x, g, Tensor(), geo);
  if (autograd::needs_grad({g, x})) {
    autograd::record("PreluWeightTermsBackward", {g, x}, {out},
                     [geo](BackwardContext& ctx, const Grads& gg) {
                       const Tensor& g_saved = ctx.saved(0);
                       const Tensor& x_saved = ctx.saved(1);
                       Tensor d_g, d_x;
                       if (ctx.needs_input_grad(0)) d_g = weight_terms(gg[0], x_saved, geo);
                       if (ctx.needs_input_grad(1))
                         d_x = negative_mask(gg[0] * g_saved, x_saved, geo);
                       return Grads{d_g, d_x};
                     },
                     {g, x});
  }
  return out;
}

Tensor prelu_backward(const Tensor& g, const Tensor& x, const Tensor& w, const Geometry& geo) {
  Tensor out = launch(Mode::Backward, x, g, w, geo);
  if (autograd::needs_grad({g, w})) {
    autograd::record("PreluBackwardBackward", {g, w}, {out},
                     [geo](BackwardContext& ctx, const Grads& gg) {
                       const Tensor& g_saved = ctx.saved(0);
                       const Tensor& w_saved = ctx.saved(1);
                       const Tensor& x_saved = ctx.saved(2);
                       Tensor d_g, d_w;
                       if (ctx.needs_input_grad(0))
                         d_g = prelu_backward(gg[0], x_saved, w_saved, geo);
                       if (ctx.needs_input_grad(1))
                         d_w = sum_per_slope(negative_mask(gg[0] * g_saved, x_saved, geo), geo);
                       return Grads{d_g, d_w};
                     },
                     {g, w, x});
  }
  return out;
}

}  // namespace

void detail::check_prelu_weight(const Shape& x, const Tensor& weight, const char* op) {
  GE_CHECK(!x.empty(), op, ": expected an input of rank >= 1, got shape ", to_string(x));
  GE_CHECK(weight.dim() <= 1, op, ": expected a 0-D or 1-D weight, got shape ",
           to_string(weight.shape()));
  const int64_t channels = x.size() >= 2 ? x[1] : 1;
  GE_CHECK(weight.numel() == 1 || weight.numel() == channels, op, ": expected a weight of 1 or ",
           channels, " (the input's channels) elements, got ", weight.numel(), " (input shape ",
           to_string(x), ")");
}

void detail::record_prelu(const Tensor& x, const Tensor& weight, const Tensor& y) {
  if (!autograd::needs_grad({x, weight})) return;
  autograd::record("PreluBackward", {x, weight}, {y},
                   [geo = geometry_of(x.shape(), weight)](BackwardContext& ctx, const Grads& g) {
                     const Tensor& x_saved = ctx.saved(0);
                     const Tensor& w_saved = ctx.saved(1);
                     Tensor dx, dw;
                     if (ctx.needs_input_grad(0)) dx = prelu_backward(g[0], x_saved, w_saved, geo);
                     if (ctx.needs_input_grad(1))
                       dw = sum_per_slope(weight_terms(g[0], x_saved, geo), geo);
                     return Grads{dx, dw};
                   },
                   {x, weight});
}

Tensor prelu(const Tensor& x, const Tensor& weight) {
  detail::check_operands({x, weight}, "prelu");
  detail::check_prelu_weight(x.shape(), weight, "prelu");
  Tensor y = launch(Mode::Forward, x, Tensor(), weight, geometry_of(x.shape(), weight));
  detail::record_prelu(x, weight, y);
  return y;
}

}  // namespace ge
