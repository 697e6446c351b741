#pragma once
// Elementwise unary and broadcasting binary ops, float32.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

// Unary ops on a contiguous buffer. Params a/b: Pow exponent (a); Clamp lo/hi (a, b);
// AddScalar/MulScalar/RsubScalar/RdivScalar/GtScalar... the scalar (a); LeakyStep slope (a).
enum class UnaryOp : int {
  Neg,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Abs,
  Tanh,
  Sigmoid,
  Softplus,
  Relu,
  Sign,        // -1, 0, 1
  Step,        // 1 where x > 0 else 0 (relu's derivative)
  ClampMask,   // 1 where a <= x <= b else 0 (clamp's derivative)
  Pow,         // x^a
  Clamp,       // min(max(x, a), b)
  AddScalar,   // x + a
  MulScalar,   // x * a
  RdivScalar,  // a / x
  Fill,        // a (ignores x; x may be null)
  Square,      // x * x
  Reciprocal,  // 1 / x
};

struct UnaryParams {
  float a = 0.f;
  float b = 0.f;
};

enum class BinaryOp : int {
  Add,
  Sub,
  Mul,
  Div,
  Pow,  // a^b
  Maximum,
  Minimum,
  Eq,  // 1.f / 0.f results; not differentiable
  Gt,
  Ge,
  Lt,
  Le,
};

const char* name(UnaryOp op);
const char* name(BinaryOp op);

namespace cpu {
void unary(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n);
// out is contiguous with `shape`; a and b are read through their (broadcast) strides.
void binary(BinaryOp op, const float* a, const Strides& a_strides, const float* b,
            const Strides& b_strides, float* out, const StridedShape& shape);
}  // namespace cpu

namespace cuda {
GE_CUDA_LAUNCHER void unary(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n,
                            Stream stream);
GE_CUDA_LAUNCHER void binary(BinaryOp op, const float* a, const Strides& a_strides, const float* b,
                             const Strides& b_strides, float* out, const StridedShape& shape,
                             Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
