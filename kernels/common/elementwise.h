#pragma once
// The math of every unary and binary op, written once and used by the CPU loops and the CUDA
// kernels so that both devices agree bit for bit under the emulator.
#include <cmath>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/elementwise.h"

namespace ge::kernels {

template <UnaryOp Op>
GE_HOST_DEVICE float unary_apply(float x, UnaryParams p) {
  if constexpr (Op == UnaryOp::Neg) {
    return -x;
  } else if constexpr (Op == UnaryOp::Exp) {
    return expf(x);
  } else if constexpr (Op == UnaryOp::Log) {
    return logf(x);
  } else if constexpr (Op == UnaryOp::Sqrt) {
    return sqrtf(x);
  } else if constexpr (Op == UnaryOp::Rsqrt) {
    // Not rsqrtf: the host has none, and the devices must agree to the ulp.
    return 1.f / sqrtf(x);
  } else if constexpr (Op == UnaryOp::Abs) {
    return fabsf(x);
  } else if constexpr (Op == UnaryOp::Tanh) {
    return tanhf(x);
  } else if constexpr (Op == UnaryOp::Sigmoid) {
    return 1.f / (1.f + expf(-x));
  } else if constexpr (Op == UnaryOp::Softplus) {
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|.
    return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x)));
  } else if constexpr (Op == UnaryOp::Relu) {
    return x < 0.f ? 0.f : x;  // NaN passes through, as in PyTorch
  } else if constexpr (Op == UnaryOp::Sign) {
    return x > 0.f ? 1.f : (x < 0.f ? -1.f : (x == 0.f ? 0.f : x));
  } else if constexpr (Op == UnaryOp::Step) {
    return x > 0.f ? 1.f : 0.f;
  } else if constexpr (Op == UnaryOp::ClampMask) {
    return (p.a <= x && x <= p.b) ? 1.f : 0.f;
  } else if constexpr (Op == UnaryOp::Pow) {
    return powf(x, p.a);
  } else if constexpr (Op == UnaryOp::Clamp) {
    // Comparisons rather than fminf/fmaxf so that NaN propagates; lo > hi gives hi, as in
    // PyTorch's min(max(x, lo), hi).
    const float t = x < p.a ? p.a : x;
    return t > p.b ? p.b : t;
  } else if constexpr (Op == UnaryOp::AddScalar) {
    return x + p.a;
  } else if constexpr (Op == UnaryOp::MulScalar) {
    return x * p.a;
  } else if constexpr (Op == UnaryOp::RdivScalar) {
    return p.a / x;
  } else if constexpr (Op == UnaryOp::Fill) {
    return p.a;
  } else if constexpr (Op == UnaryOp::Square) {
    return x * x;
  } else {
    static_assert(Op == UnaryOp::Reciprocal, "unhandled UnaryOp");
    return 1.f / x;
  }
}

// Maximum/minimum propagate NaN from either side, as torch.maximum does.
template <BinaryOp Op>
GE_HOST_DEVICE float binary_apply(float a, float b) {
  if constexpr (Op == BinaryOp::Add) {
    return a + b;
  } else if constexpr (Op == BinaryOp::Sub) {
    return a - b;
  } else if constexpr (Op == BinaryOp::Mul) {
    return a * b;
  } else if constexpr (Op == BinaryOp::Div) {
    return a / b;
  } else if constexpr (Op == BinaryOp::Pow) {
    return powf(a, b);
  } else if constexpr (Op == BinaryOp::Maximum) {
    return (a > b || a != a) ? a : b;
  } else if constexpr (Op == BinaryOp::Minimum) {
    return (a < b || a != a) ? a : b;
  } else if constexpr (Op == BinaryOp::Eq) {
    return a == b ? 1.f : 0.f;
  } else if constexpr (Op == BinaryOp::Gt) {
    return a > b ? 1.f : 0.f;
  } else if constexpr (Op == BinaryOp::Ge) {
    return a >= b ? 1.f : 0.f;
  } else if constexpr (Op == BinaryOp::Lt) {
    return a < b ? 1.f : 0.f;
  } else {
    static_assert(Op == BinaryOp::Le, "unhandled BinaryOp");
    return a <= b ? 1.f : 0.f;
  }
}

// Calls f.template operator()<Op>() for the runtime op: the one switch from enum to template.
template <typename F>
void dispatch_unary(UnaryOp op, F&& f) {
  switch (op) {
#define GE_UNARY_CASE(name)                 \
  case UnaryOp::name:                       \
    f.template operator()<UnaryOp::name>(); \
    return;
    GE_UNARY_CASE(Neg)
    GE_UNARY_CASE(Exp)
    GE_UNARY_CASE(Log)
    GE_UNARY_CASE(Sqrt)
    GE_UNARY_CASE(Rsqrt)
    GE_UNARY_CASE(Abs)
    GE_UNARY_CASE(Tanh)
    GE_UNARY_CASE(Sigmoid)
    GE_UNARY_CASE(Softplus)
    GE_UNARY_CASE(Relu)
    GE_UNARY_CASE(Sign)
    GE_UNARY_CASE(Step)
    GE_UNARY_CASE(ClampMask)
    GE_UNARY_CASE(Pow)
    GE_UNARY_CASE(Clamp)
    GE_UNARY_CASE(AddScalar)
    GE_UNARY_CASE(MulScalar)
    GE_UNARY_CASE(RdivScalar)
    GE_UNARY_CASE(Fill)
    GE_UNARY_CASE(Square)
    GE_UNARY_CASE(Reciprocal)
#undef GE_UNARY_CASE
  }
  ::ge::fail("unary: unknown UnaryOp value ", static_cast<int>(op));
}

template <typename F>
void dispatch_binary(BinaryOp op, F&& f) {
  switch (op) {
#define GE_BINARY_CASE(name)                 \
  case BinaryOp::name:                       \
    f.template operator()<BinaryOp::name>(); \
    return;
    GE_BINARY_CASE(Add)
    GE_BINARY_CASE(Sub)
    GE_BINARY_CASE(Mul)
    GE_BINARY_CASE(Div)
    GE_BINARY_CASE(Pow)
    GE_BINARY_CASE(Maximum)
    GE_BINARY_CASE(Minimum)
    GE_BINARY_CASE(Eq)
    GE_BINARY_CASE(Gt)
    GE_BINARY_CASE(Ge)
    GE_BINARY_CASE(Lt)
    GE_BINARY_CASE(Le)
#undef GE_BINARY_CASE
  }
  ::ge::fail("binary: unknown BinaryOp value ", static_cast<int>(op));
}

}  // namespace ge::kernels
