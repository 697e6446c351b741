// Elementwise ops and their gradients. Gradient formulas use the differentiable ops themselves,
// so under create_graph they record history and can be differentiated again.
#include "dispatch.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

using autograd::BackwardContext;
using Grads = std::vector<Tensor>;
using kernels::BinaryOp;
using kernels::UnaryOp;
using kernels::UnaryParams;

UnaryParams params(float a, float b = 0.f) {
  UnaryParams p;
  p.a = a;
  p.b = b;
  return p;
}

Tensor unary(const char* name, UnaryOp op, const Tensor& x, UnaryParams p = {}) {
  detail::check_operand(x, name);
  return detail::unary_kernel(op, x, p);
}

// A mask or other derived value that must not carry history.
Tensor no_history(UnaryOp op, const Tensor& x, UnaryParams p = {}) {
  return detail::unary_kernel(op, x, p);
}

Tensor add_scalar(const Tensor& x, float s) {
  Tensor out = unary("add", UnaryOp::AddScalar, x, params(s));
  if (autograd::needs_grad({x})) {
    autograd::record("AddScalarBackward", {x}, {out},
                     [](BackwardContext&, const Grads& g) { return Grads{g[0]}; });
  }
  return out;
}

Tensor mul_scalar(const Tensor& x, float s) {
  Tensor out = unary("mul", UnaryOp::MulScalar, x, params(s));
  if (autograd::needs_grad({x})) {
    autograd::record("MulScalarBackward", {x}, {out},
                     [s](BackwardContext&, const Grads& g) { return Grads{g[0] * s}; });
  }
  return out;
}

Tensor rdiv_scalar(float s, const Tensor& x) {
  Tensor out = unary("div", UnaryOp::RdivScalar, x, params(s));
  if (autograd::needs_grad({x})) {
    autograd::record("RdivScalarBackward", {x}, {out},
                     [](BackwardContext& ctx, const Grads& g) {
                       // d(s/x)/dx = -s/x^2 = -y/x
                       return Grads{-(g[0] * ctx.saved(1) / ctx.saved(0))};
                     },
                     {x}, {0});
  }
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_kernel(BinaryOp::Add, a, b, "add");
  if (autograd::needs_grad({a, b})) {
    autograd::record("AddBackward", {a, b}, {out},
                     [sa = a.shape(), sb = b.shape()](BackwardContext& ctx, const Grads& g) {
                       return Grads{ctx.needs_input_grad(0) ? sum_to(g[0], sa) : Tensor(),
                                    ctx.needs_input_grad(1) ? sum_to(g[0], sb) : Tensor()};
                     });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_kernel(BinaryOp::Sub, a, b, "sub");
  if (autograd::needs_grad({a, b})) {
    autograd::record("SubBackward", {a, b}, {out},
                     [sa = a.shape(), sb = b.shape()](BackwardContext& ctx, const Grads& g) {
                       return Grads{ctx.needs_input_grad(0) ? sum_to(g[0], sa) : Tensor(),
                                    ctx.needs_input_grad(1) ? sum_to(-g[0], sb) : Tensor()};
                     });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_kernel(BinaryOp::Mul, a, b, "mul");
  if (autograd::needs_grad({a, b})) {
    autograd::record("MulBackward", {a, b}, {out},
                     [](BackwardContext& ctx, const Grads& g) {
                       const Tensor& x = ctx.saved(0);
                       const Tensor& y = ctx.saved(1);
                       return Grads{
                           ctx.needs_input_grad(0) ? sum_to(g[0] * y, x.shape()) : Tensor(),
                           ctx.needs_input_grad(1) ? sum_to(g[0] * x, y.shape()) : Tensor()};
                     },
                     {a, b});
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_kernel(BinaryOp::Div, a, b, "div");
  if (autograd::needs_grad({a, b})) {
    autograd::record(
        "DivBackward", {a, b}, {out},
        [](BackwardContext& ctx, const Grads& g) {
          const Tensor& x = ctx.saved(0);
          const Tensor& y = ctx.saved(1);
          return Grads{
              ctx.needs_input_grad(0) ? sum_to(g[0] / y, x.shape()) : Tensor(),
              ctx.needs_input_grad(1) ? sum_to(-(g[0] * x) / (y * y), y.shape()) : Tensor()};
        },
        {a, b});
  }
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_kernel(BinaryOp::Pow, a, b, "pow");
  if (autograd::needs_grad({a, b})) {
    autograd::record("PowBackward", {a, b}, {out},
                     [](BackwardContext& ctx, const Grads& g) {
                       const Tensor& x = ctx.saved(0);
                       const Tensor& e = ctx.saved(1);
                       Tensor ga, gb;
                       if (ctx.needs_input_grad(0))
                         ga = sum_to(g[0] * e * pow(x, e - 1.f), x.shape());
                       if (ctx.needs_input_grad(1))
                         gb = sum_to(g[0] * pow(x, e) * log(x), e.shape());
                       return Grads{ga, gb};
                     },
                     {a, b});
  }
  return out;
}

Tensor pow(const Tensor& a, float exponent) {
  Tensor out = unary("pow", UnaryOp::Pow, a, params(exponent));
  if (autograd::needs_grad({a})) {
    autograd::record("PowScalarBackward", {a}, {out},
                     [exponent](BackwardContext& ctx, const Grads& g) {
                       if (exponent == 0.f) return Grads{zeros_like(g[0])};
                       if (exponent == 1.f) return Grads{g[0]};
                       return Grads{g[0] * (exponent * pow(ctx.saved(0), exponent - 1.f))};
                     },
                     {a});
  }
  return out;
}

namespace {

// maximum/minimum: the gradient goes to the selected operand; ties split it in half.
Tensor extremum(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor out = detail::binary_kernel(op, a, b, name);
  if (autograd::needs_grad({a, b})) {
    const bool is_max = op == BinaryOp::Maximum;
    autograd::record(is_max ? "MaximumBackward" : "MinimumBackward", {a, b}, {out},
                     [is_max](BackwardContext& ctx, const Grads& g) {
                       const Tensor& x = ctx.saved(0);
                       const Tensor& y = ctx.saved(1);
                       const Tensor wins = is_max ? gt(x, y) : lt(x, y);
                       const Tensor mask_a = wins + eq(x, y) * 0.5f;
                       const Tensor mask_b = 1.f - mask_a;
                       return Grads{
                           ctx.needs_input_grad(0) ? sum_to(g[0] * mask_a, x.shape()) : Tensor(),
                           ctx.needs_input_grad(1) ? sum_to(g[0] * mask_b, y.shape()) : Tensor()};
                     },
                     {a, b});
  }
  return out;
}

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum("maximum", BinaryOp::Maximum, a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum("minimum", BinaryOp::Minimum, a, b);
}

Tensor neg(const Tensor& x) {
  Tensor out = unary("neg", UnaryOp::Neg, x);
  if (autograd::needs_grad({x})) {
    autograd::record("NegBackward", {x}, {out},
                     [](BackwardContext&, const Grads& g) { return Grads{-g[0]}; });
  }
  return out;
}

Tensor exp(const Tensor& x) {
  Tensor out = unary("exp", UnaryOp::Exp, x);
  if (autograd::needs_grad({x})) {
    autograd::record(
        "ExpBackward", {x}, {out},
        [](BackwardContext& ctx, const Grads& g) { return Grads{g[0] * ctx.saved(0)}; }, {}, {0});
  }
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = unary("log", UnaryOp::Log, x);
  if (autograd::needs_grad({x})) {
    autograd::record(
        "LogBackward", {x}, {out},
        [](BackwardContext& ctx, const Grads& g) { return Grads{g[0] / ctx.saved(0)}; }, {x});
  }
  return out;
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary("sqrt", UnaryOp::Sqrt, x);
  if (autograd::needs_grad({x})) {
    autograd::record(
        "SqrtBackward", {x}, {out},
        [](BackwardContext& ctx, const Grads& g) { return Grads{g[0] * 0.5f / ctx.saved(0)}; }, {},
        {0});
  }
  return out;
}

Tensor rsqrt(const Tensor& x) {
  Tensor out = unary("rsqrt", UnaryOp::Rsqrt, x);
  if (autograd::needs_grad({x})) {
    autograd::record("RsqrtBackward", {x}, {out},
                     [](BackwardContext& ctx, const Grads& g) {
                       // d(x^-1/2)/dx = -x^-3/2 / 2 = -y^3 / 2
                       const Tensor& y = ctx.saved(0);
                       return Grads{g[0] * (y * y * y) * -0.5f};
                     },
                     {}, {0});
  }
  return out;
}

Tensor abs(const Tensor& x) {
  Tensor out = unary("abs", UnaryOp::Abs, x);
  if (autograd::needs_grad({x})) {
    autograd::record(
        "AbsBackward", {x}, {out},
        [](BackwardContext& ctx, const Grads& g) { return Grads{g[0] * sign(ctx.saved(0))}; }, {x});
  }
  return out;
}

Tensor square(const Tensor& x) {
  Tensor out = unary("square", UnaryOp::Square, x);
  if (autograd::needs_grad({x})) {
    autograd::record(
        "SquareBackward", {x}, {out},
        [](BackwardContext& ctx, const Grads& g) { return Grads{g[0] * (ctx.saved(0) * 2.f)}; },
        {x});
  }
  return out;
}

Tensor tanh(const Tensor& x) {
  Tensor out = unary("tanh", UnaryOp::Tanh, x);
  if (autograd::needs_grad({x})) {
    autograd::record("TanhBackward", {x}, {out},
                     [](BackwardContext& ctx, const Grads& g) {
                       const Tensor& y = ctx.saved(0);
                       return Grads{g[0] * (1.f - y * y)};
                     },
                     {}, {0});
  }
  return out;
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = unary("sigmoid", UnaryOp::Sigmoid, x);
  if (autograd::needs_grad({x})) {
    autograd::record("SigmoidBackward", {x}, {out},
                     [](BackwardContext& ctx, const Grads& g) {
                       const Tensor& y = ctx.saved(0);
                       return Grads{g[0] * (y * (1.f - y))};
                     },
                     {}, {0});
  }
  return out;
}

Tensor softplus(const Tensor& x) {
  Tensor out = unary("softplus", UnaryOp::Softplus, x);
  if (autograd::needs_grad({x})) {
    autograd::record(
        "SoftplusBackward", {x}, {out},
        [](BackwardContext& ctx, const Grads& g) { return Grads{g[0] * sigmoid(ctx.saved(0))}; },
        {x});
  }
  return out;
}

Tensor relu(const Tensor& x) {
  Tensor out = unary("relu", UnaryOp::Relu, x);
  if (autograd::needs_grad({x})) {
    autograd::record("ReluBackward", {x}, {out},
                     [](BackwardContext& ctx, const Grads& g) {
                       // The step mask is piecewise constant: it has no history, so relu's second
                       // derivative is zero, as it should be.
                       return Grads{g[0] * no_history(UnaryOp::Step, ctx.saved(0))};
                     },
                     {}, {0});
  }
  return out;
}

Tensor clamp(const Tensor& x, float lo, float hi) {
  GE_CHECK(lo <= hi, "clamp: expected lo <= hi, got lo ", lo, " and hi ", hi);
  Tensor out = unary("clamp", UnaryOp::Clamp, x, params(lo, hi));
  if (autograd::needs_grad({x})) {
    autograd::record(
        "ClampBackward", {x}, {out},
        [lo, hi](BackwardContext& ctx, const Grads& g) {
          return Grads{g[0] * no_history(UnaryOp::ClampMask, ctx.saved(0), params(lo, hi))};
        },
        {x});
  }
  return out;
}

Tensor eq(const Tensor& a, const Tensor& b) {
  return detail::binary_kernel(BinaryOp::Eq, a, b, "eq");
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return detail::binary_kernel(BinaryOp::Gt, a, b, "gt");
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return detail::binary_kernel(BinaryOp::Ge, a, b, "ge");
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return detail::binary_kernel(BinaryOp::Lt, a, b, "lt");
}
Tensor le(const Tensor& a, const Tensor& b) {
  return detail::binary_kernel(BinaryOp::Le, a, b, "le");
}
Tensor sign(const Tensor& x) {
  return unary("sign", UnaryOp::Sign, x);
}

Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator+(const Tensor& a, float b) {
  return add_scalar(a, b);
}
Tensor operator-(const Tensor& a, float b) {
  return add_scalar(a, -b);
}
Tensor operator*(const Tensor& a, float b) {
  return mul_scalar(a, b);
}
Tensor operator/(const Tensor& a, float b) {
  return mul_scalar(a, 1.f / b);
}
Tensor operator+(float a, const Tensor& b) {
  return add_scalar(b, a);
}
Tensor operator-(float a, const Tensor& b) {
  return add_scalar(neg(b), a);
}
Tensor operator*(float a, const Tensor& b) {
  return mul_scalar(b, a);
}
Tensor operator/(float a, const Tensor& b) {
  return rdiv_scalar(a, b);
}
Tensor operator-(const Tensor& a) {
  return neg(a);
}

}  // namespace ge
