// CPU unary and broadcasting binary ops: flat loops the compiler vectorizes for the contiguous
// cases, and an odometer over the outer dims with a strided innermost loop otherwise.
#include "common/elementwise.h"

#include "common/strided.h"
#include "ganengine/kernels/elementwise.h"

namespace ge::kernels {

const char* name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg:
      return "neg";
    case UnaryOp::Exp:
      return "exp";
    case UnaryOp::Log:
      return "log";
    case UnaryOp::Sqrt:
      return "sqrt";
    case UnaryOp::Rsqrt:
      return "rsqrt";
    case UnaryOp::Abs:
      return "abs";
    case UnaryOp::Tanh:
      return "tanh";
    case UnaryOp::Sigmoid:
      return "sigmoid";
    case UnaryOp::Softplus:
      return "softplus";
    case UnaryOp::Relu:
      return "relu";
    case UnaryOp::Sign:
      return "sign";
    case UnaryOp::Step:
      return "step";
    case UnaryOp::ClampMask:
      return "clamp_mask";
    case UnaryOp::Pow:
      return "pow";
    case UnaryOp::Clamp:
      return "clamp";
    case UnaryOp::AddScalar:
      return "add_scalar";
    case UnaryOp::MulScalar:
      return "mul_scalar";
    case UnaryOp::RdivScalar:
      return "rdiv_scalar";
    case UnaryOp::Fill:
      return "fill";
    case UnaryOp::Square:
      return "square";
    case UnaryOp::Reciprocal:
      return "reciprocal";
  }
  return "unknown_unary_op";
}

const char* name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add:
      return "add";
    case BinaryOp::Sub:
      return "sub";
    case BinaryOp::Mul:
      return "mul";
    case BinaryOp::Div:
      return "div";
    case BinaryOp::Pow:
      return "pow";
    case BinaryOp::Maximum:
      return "maximum";
    case BinaryOp::Minimum:
      return "minimum";
    case BinaryOp::Eq:
      return "eq";
    case BinaryOp::Gt:
      return "gt";
    case BinaryOp::Ge:
      return "ge";
    case BinaryOp::Lt:
      return "lt";
    case BinaryOp::Le:
      return "le";
  }
  return "unknown_binary_op";
}

namespace cpu {
namespace {

template <BinaryOp Op>
void binary_strided(const float* a, const Strides& as, const float* b, const Strides& bs,
                    float* out, const StridedShape& shape) {
  const int last = shape.ndim - 1;
  const int64_t inner = shape.shape[last];
  const int64_t sa = as.v[last], sb = bs.v[last];
  int64_t idx[kMaxDims] = {};
  int64_t a_off = 0, b_off = 0;
  for (int64_t o = 0, rows = shape.numel() / inner; o < rows; ++o) {
    float* row = out + o * inner;
    const float* ar = a + a_off;
    const float* br = b + b_off;
    // Separate loops for the common stride patterns so each one vectorizes.
    if (sa == 1 && sb == 0) {
      const float bv = *br;
      for (int64_t j = 0; j < inner; ++j)
        row[j] = binary_apply<Op>(ar[j], bv);
    } else if (sa == 0 && sb == 1) {
      const float av = *ar;
      for (int64_t j = 0; j < inner; ++j)
        row[j] = binary_apply<Op>(av, br[j]);
    } else {
      for (int64_t j = 0; j < inner; ++j)
        row[j] = binary_apply<Op>(ar[j * sa], br[j * sb]);
    }
    for (int d = last - 1; d >= 0; --d) {
      a_off += as.v[d];
      b_off += bs.v[d];
      if (++idx[d] < shape.shape[d]) break;
      a_off -= as.v[d] * shape.shape[d];
      b_off -= bs.v[d] * shape.shape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

void unary(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n) {
  GE_CHECK(n >= 0, "unary(", name(op), "): expected n >= 0, got ", n);
  if (n == 0) return;
  GE_CHECK(y != nullptr, "unary(", name(op), "): expected a non-null output for n = ", n);
  GE_CHECK(x != nullptr || op == UnaryOp::Fill, "unary(", name(op),
           "): expected a non-null input for n = ", n);
  dispatch_unary(op, [&]<UnaryOp Op>() {
    for (int64_t i = 0; i < n; ++i)
      y[i] = unary_apply<Op>(Op == UnaryOp::Fill ? 0.f : x[i], p);
  });
}

void binary(BinaryOp op, const float* a, const Strides& a_strides, const float* b,
            const Strides& b_strides, float* out, const StridedShape& shape) {
  check_shape(name(op), shape);
  if (shape.numel() == 0) return;
  GE_CHECK(a != nullptr && b != nullptr && out != nullptr, "binary(", name(op),
           "): expected non-null a, b and out for ", shape.numel(), " elements");
  StridedShape s = shape;
  Strides st[3] = {a_strides, b_strides, contiguous_strides(shape)};
  coalesce(s, st);
  if (s.ndim == 0) {  // a single element
    dispatch_binary(op, [&]<BinaryOp Op>() { *out = binary_apply<Op>(*a, *b); });
    return;
  }
  dispatch_binary(op, [&]<BinaryOp Op>() {
    if (s.ndim == 1 && st[0].v[0] == 1 && st[1].v[0] == 1) {
      const int64_t n = s.shape[0];
      for (int64_t i = 0; i < n; ++i)
        out[i] = binary_apply<Op>(a[i], b[i]);
    } else {
      binary_strided<Op>(a, st[0], b, st[1], out, s);
    }
  });
}

}  // namespace cpu
}  // namespace ge::kernels
