// CPU unary and broadcasting binary ops: flat loops the compiler vectorizes for the contiguous
// cases (elementwise_rows.h, with AVX-512 where the CPU has it), and an odometer over the outer
// dims with a strided innermost loop otherwise; large ops spread blocks over the team.
#include "common/elementwise.h"

#include <algorithm>

#include "common/strided.h"
#include "cpu/cpu_isa.h"
#include "cpu/elementwise_rows.h"
#include "cpu/parallel.h"
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

// Below this many elements an op runs on the calling thread; above, blocks of kBlock elements
// spread over the team.
constexpr int64_t kElementwiseGrain = int64_t{1} << 16;
constexpr int64_t kBlock = int64_t{1} << 13;

void binary_row_baseline(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb,
                         float* out, int64_t n) {
  dispatch_binary(op, [&]<BinaryOp Op>() { binary_row<Op>(a, sa, b, sb, out, n); });
}

void unary_run_baseline(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n) {
  dispatch_unary(op, [&]<UnaryOp Op>() { unary_run<Op>(x, y, n, p); });
}

}  // namespace

void unary(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n) {
  GE_CHECK(n >= 0, "unary(", name(op), "): expected n >= 0, got ", n);
  if (n == 0) return;
  GE_CHECK(y != nullptr, "unary(", name(op), "): expected a non-null output for n = ", n);
  GE_CHECK(x != nullptr || op == UnaryOp::Fill, "unary(", name(op),
           "): expected a non-null input for n = ", n);
  const auto run = active_isa() == CpuIsa::avx512 ? unary_run_avx512 : unary_run_baseline;
  parallel_for((n + kBlock - 1) / kBlock, n >= kElementwiseGrain, [&](int64_t block) {
    const int64_t i = block * kBlock;
    run(op, p, x == nullptr ? nullptr : x + i, y + i, std::min(kBlock, n - i));
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
  const auto row = active_isa() == CpuIsa::avx512 ? binary_row_avx512 : binary_row_baseline;
  if (s.ndim == 0) {  // a single element
    row(op, a, 0, b, 0, out, 1);
    return;
  }
  const int64_t numel = s.numel();
  const bool parallel = numel >= kElementwiseGrain;
  const int last = s.ndim - 1;
  const int64_t inner = s.shape[last], sa = st[0].v[last], sb = st[1].v[last];
  if (s.ndim == 1) {  // one row, cut into blocks
    parallel_for((inner + kBlock - 1) / kBlock, parallel, [&](int64_t block) {
      const int64_t j = block * kBlock;
      row(op, a + j * sa, sa, b + j * sb, sb, out + j, std::min(kBlock, inner - j));
    });
    return;
  }
  // Rows over an odometer of the outer dims; each block of rows starts it from its first row.
  const int64_t rows = numel / inner, rows_per_block = std::max<int64_t>(1, kBlock / inner);
  parallel_for((rows + rows_per_block - 1) / rows_per_block, parallel, [&](int64_t block) {
    const int64_t first = block * rows_per_block;
    const int64_t end = std::min(rows, first + rows_per_block);
    int64_t idx[kMaxDims] = {};
    int64_t a_off = 0, b_off = 0;
    for (int64_t d = last - 1, rest = first; d >= 0; --d) {
      idx[d] = rest % s.shape[d];
      rest /= s.shape[d];
      a_off += idx[d] * st[0].v[d];
      b_off += idx[d] * st[1].v[d];
    }
    for (int64_t o = first; o < end; ++o) {
      row(op, a + a_off, sa, b + b_off, sb, out + o * inner, inner);
      for (int d = last - 1; d >= 0; --d) {
        a_off += st[0].v[d];
        b_off += st[1].v[d];
        if (++idx[d] < s.shape[d]) break;
        a_off -= st[0].v[d] * s.shape[d];
        b_off -= st[1].v[d] * s.shape[d];
        idx[d] = 0;
      }
    }
  });
}

}  // namespace cpu
}  // namespace ge::kernels
