// bias_act and leaky_relu. Three differentiable ops chain the kernel's modes so that every order
// of derivative stays available under create_graph while only y is kept from the forward:
//   bias_act(x, b)              -> y            backward: bias_act_grad, sum over dims != dim
//   bias_act_grad(dy, y)        -> dx           backward: bias_act_grad again (linear in dy) and
//                                                bias_act_second for y
//   bias_act_second(g, y, dy)   -> g dy h(y)    backward: itself for g and dy, elementwise ops
//                                                for y (h is linear in y for tanh and sigmoid)
// The gradient that reaches y flows on through y's own node to x and b, so no op needs x.
#include "ganengine/bias_act.h"

#include <cmath>
#include <vector>

#include "bias_act_grad.h"
#include "cuda/runtime.h"
#include "dispatch.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/bias_act.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

k::BiasActFn kernel_fn(Activation act) {
  switch (act) {
    case Activation::Linear:
      return k::BiasActFn::Linear;
    case Activation::Relu:
      return k::BiasActFn::Relu;
    case Activation::LeakyRelu:
      return k::BiasActFn::LeakyRelu;
    case Activation::Tanh:
      return k::BiasActFn::Tanh;
    case Activation::Sigmoid:
      return k::BiasActFn::Sigmoid;
  }
  fail("bias_act: unknown Activation value ", static_cast<int>(act));
}

// The activations whose derivative varies with y: the others have no second-order term.
bool has_curvature(k::BiasActFn act) {
  return act == k::BiasActFn::Tanh || act == k::BiasActFn::Sigmoid;
}

Tensor contiguous_or_undefined(const Tensor& t) {
  return !t.defined() || t.is_contiguous() ? t : detail::contiguous_kernel(t);
}

// One kernel call on contiguous copies of the operands; the result has no history.
Tensor launch(k::BiasActMode mode, const k::BiasActParams& p, const Tensor& v,
              const Tensor& bias = Tensor(), int64_t channels = 1, int64_t inner = 1,
              const Tensor& y = Tensor(), const Tensor& dy = Tensor()) {
  const Tensor vc = contiguous_or_undefined(v), bc = contiguous_or_undefined(bias);
  const Tensor yc = contiguous_or_undefined(y), dyc = contiguous_or_undefined(dy);
  Tensor out = detail::empty_raw(v.shape(), v.device());
  k::BiasActArgs a;
  a.x = vc.data_ptr();
  a.bias = bc.defined() ? bc.data_ptr() : nullptr;
  a.y = yc.defined() ? yc.data_ptr() : nullptr;
  a.dy = dyc.defined() ? dyc.data_ptr() : nullptr;
  a.out = out.data_ptr();
  a.n = out.numel();
  a.channels = channels;
  a.inner = inner;
  if (a.n == 0) return out;
  if (v.device().is_cuda()) {
    k::cuda::bias_act(mode, p, a, cuda_rt::stream(v.device()));
  } else {
    k::cpu::bias_act(mode, p, a);
  }
  return out;
}

Tensor bias_act_second(const Tensor& g, const Tensor& y, const Tensor& dy,
                       const k::BiasActParams& p);

}  // namespace

// dx = dy * (dy/dx), read from y.
Tensor detail::bias_act_grad(const Tensor& dy, const Tensor& y, const k::BiasActParams& p) {
  Tensor out = launch(k::BiasActMode::Backward, p, dy, Tensor(), 1, 1, y);
  if (autograd::needs_grad({dy, y})) {
    autograd::record("BiasActGradBackward", {dy, y}, {out},
                     [p](BackwardContext& ctx, const Grads& g) {
                       const Tensor& dy_saved = ctx.saved(0);
                       const Tensor& y_saved = ctx.saved(1);
                       Tensor d_dy, d_y;
                       if (ctx.needs_input_grad(0)) d_dy = bias_act_grad(g[0], y_saved, p);
                       if (ctx.needs_input_grad(1) && has_curvature(p.act))
                         d_y = bias_act_second(g[0], y_saved, dy_saved, p);
                       return Grads{d_dy, d_y};
                     },
                     {dy, y});
  }
  return out;
}

namespace {

using detail::bias_act_grad;

// g * dy * d(dx/dy)/dy, read from y.
Tensor bias_act_second(const Tensor& g, const Tensor& y, const Tensor& dy,
                       const k::BiasActParams& p) {
  Tensor out = launch(k::BiasActMode::SecondOrder, p, g, Tensor(), 1, 1, y, dy);
  if (autograd::needs_grad({g, y, dy})) {
    autograd::record("BiasActSecondOrderBackward", {g, y, dy}, {out},
                     [p](BackwardContext& ctx, const Grads& gg) {
                       const Tensor& g_saved = ctx.saved(0);
                       const Tensor& y_saved = ctx.saved(1);
                       const Tensor& dy_saved = ctx.saved(2);
                       Tensor d_g, d_y, d_dy;
                       if (ctx.needs_input_grad(0))
                         d_g = bias_act_second(gg[0], y_saved, dy_saved, p);
                       if (ctx.needs_input_grad(2))
                         d_dy = bias_act_second(gg[0], y_saved, g_saved, p);
                       if (ctx.needs_input_grad(1) && p.gain != 0.f) {
                         // h(y) is -2y/gain (tanh) or 1 - 2y/gain (sigmoid): both have slope
                         // -2/gain. The clamp mask is piecewise constant, so it enters without
                         // history.
                         k::BiasActParams mask = p;
                         mask.act = k::BiasActFn::Linear;
                         mask.gain = 1.f;
                         const Tensor unclamped =
                             launch(k::BiasActMode::Backward, mask, ones_like(y_saved), Tensor(), 1,
                                    1, y_saved);
                         d_y = gg[0] * g_saved * dy_saved * unclamped * (-2.f / p.gain);
                       }
                       return Grads{d_g, d_y, d_dy};
                     },
                     {g, y, dy});
  }
  return out;
}

void check_params(const char* op, const k::BiasActParams& p) {
  GE_CHECK(p.act != k::BiasActFn::LeakyRelu || p.alpha >= 0.f, op,
           ": expected alpha >= 0 for lrelu (the backward reads the sign of x from y), got ",
           p.alpha);
  GE_CHECK(std::isfinite(p.gain), op, ": expected a finite gain, got ", p.gain);
  GE_CHECK(!std::isnan(p.clamp), op, ": expected clamp >= 0, or < 0 for none, got NaN");
}

}  // namespace

k::BiasActParams detail::bias_act_params(const BiasActOptions& options, const char* op) {
  k::BiasActParams p;
  p.act = kernel_fn(options.act);
  p.alpha = options.alpha;
  p.gain = options.gain.value_or(default_gain(options.act));
  p.clamp = options.clamp;
  check_params(op, p);
  return p;
}

float default_gain(Activation act) {
  return act == Activation::Relu || act == Activation::LeakyRelu ? std::sqrt(2.f) : 1.f;
}

Tensor bias_act(const Tensor& x, const Tensor& bias, const BiasActOptions& options) {
  const char* op = "bias_act";
  detail::check_operand(x, op);
  const k::BiasActParams p = detail::bias_act_params(options, op);

  int64_t channels = 1, inner = 1, dim = 0;
  std::vector<int64_t> reduce_dims;
  if (bias.defined()) {
    detail::check_operand(bias, op);
    detail::check_same_device(x, bias, op);
    GE_CHECK(bias.dim() == 1, op, ": expected a 1-D bias, got shape ", to_string(bias.shape()));
    const int64_t nd = x.dim();
    GE_CHECK(nd >= 1 && options.dim >= -nd && options.dim < nd, op, ": expected dim in [", -nd,
             ", ", nd, ") for x of shape ", to_string(x.shape()), ", got ", options.dim);
    dim = options.dim < 0 ? options.dim + nd : options.dim;
    channels = x.shape()[static_cast<size_t>(dim)];
    GE_CHECK(bias.shape()[0] == channels, op, ": expected bias of size x.shape[", dim,
             "] = ", channels, ", got shape ", to_string(bias.shape()));
    for (int64_t d = dim + 1; d < nd; ++d)
      inner *= x.shape()[static_cast<size_t>(d)];
    for (int64_t d = 0; d < nd; ++d)
      if (d != dim) reduce_dims.push_back(d);
  }

  Tensor y = launch(k::BiasActMode::Forward, p, x, bias, channels, inner);
  const std::vector<Tensor> inputs = bias.defined() ? Grads{x, bias} : Grads{x};
  if (autograd::needs_grad(inputs)) {
    autograd::record(
        "BiasActBackward", inputs, {y},
        [p, reduce_dims, has_bias = bias.defined()](BackwardContext& ctx, const Grads& g) {
          const Tensor dx = bias_act_grad(g[0], ctx.saved(0), p);
          if (!has_bias) return Grads{dx};
          Tensor db;
          if (ctx.needs_input_grad(1)) db = reduce_dims.empty() ? dx : sum(dx, reduce_dims);
          return Grads{ctx.needs_input_grad(0) ? dx : Tensor(), db};
        },
        {}, {0});
  }
  return y;
}

Tensor leaky_relu(const Tensor& x, float negative_slope) {
  GE_CHECK(negative_slope >= 0.f, "leaky_relu: expected negative_slope >= 0 (the backward reads ",
           "the sign of x from the output), got ", negative_slope);
  BiasActOptions o;
  o.act = Activation::LeakyRelu;
  o.alpha = negative_slope;
  o.gain = 1.f;
  return bias_act(x, Tensor(), o);
}

}  // namespace ge
