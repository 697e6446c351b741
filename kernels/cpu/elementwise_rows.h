#pragma once
// The inner loops of the CPU elementwise ops, written once and compiled per instruction set:
// elementwise.cpp includes them for the baseline, elementwise_avx512.cpp under an AVX-512
// target pragma. Blocks of 16 fixed-width iterations over pointers that do not alias are what
// -O2 vectorizes; an op in place runs through one pointer. Internal linkage: no copy compiled
// for one set can stand in for another's at link time.
#include <cstdint>

#include "common/elementwise.h"

namespace ge::kernels::cpu {
namespace {

constexpr int64_t kRowBlock = 16;

template <BinaryOp Op>
void binary_vv(const float* __restrict x, const float* __restrict y, float* __restrict o,
               int64_t n) {
  int64_t i = 0;
  for (; i + kRowBlock <= n; i += kRowBlock)
    for (int64_t u = 0; u < kRowBlock; ++u)
      o[i + u] = binary_apply<Op>(x[i + u], y[i + u]);
  for (; i < n; ++i)
    o[i] = binary_apply<Op>(x[i], y[i]);
}

template <BinaryOp Op>
void binary_vs(const float* __restrict x, float y, float* __restrict o, int64_t n) {
  int64_t i = 0;
  for (; i + kRowBlock <= n; i += kRowBlock)
    for (int64_t u = 0; u < kRowBlock; ++u)
      o[i + u] = binary_apply<Op>(x[i + u], y);
  for (; i < n; ++i)
    o[i] = binary_apply<Op>(x[i], y);
}

template <BinaryOp Op>
void binary_sv(float x, const float* __restrict y, float* __restrict o, int64_t n) {
  int64_t i = 0;
  for (; i + kRowBlock <= n; i += kRowBlock)
    for (int64_t u = 0; u < kRowBlock; ++u)
      o[i + u] = binary_apply<Op>(x, y[i + u]);
  for (; i < n; ++i)
    o[i] = binary_apply<Op>(x, y[i]);
}

// o[i] = o[i] op y[i]: in place, y a separate array.
template <BinaryOp Op>
void binary_accumulate(float* __restrict o, const float* __restrict y, int64_t n) {
  int64_t i = 0;
  for (; i + kRowBlock <= n; i += kRowBlock)
    for (int64_t u = 0; u < kRowBlock; ++u)
      o[i + u] = binary_apply<Op>(o[i + u], y[i + u]);
  for (; i < n; ++i)
    o[i] = binary_apply<Op>(o[i], y[i]);
}

// o[i] = o[i] op y: in place, y a scalar.
template <BinaryOp Op>
void binary_accumulate_scalar(float* __restrict o, float y, int64_t n) {
  int64_t i = 0;
  for (; i + kRowBlock <= n; i += kRowBlock)
    for (int64_t u = 0; u < kRowBlock; ++u)
      o[i + u] = binary_apply<Op>(o[i + u], y);
  for (; i < n; ++i)
    o[i] = binary_apply<Op>(o[i], y);
}

// One row of a broadcasting binary op: out[j] = a[j * sa] op b[j * sb].
template <BinaryOp Op>
void binary_row(const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n) {
  const bool apart = out != a && out != b;
  if (apart && sa == 1 && sb == 1) {
    binary_vv<Op>(a, b, out, n);
  } else if (apart && sa == 1 && sb == 0) {
    binary_vs<Op>(a, *b, out, n);
  } else if (apart && sa == 0 && sb == 1) {
    binary_sv<Op>(*a, b, out, n);
  } else if (out == a && a != b && sa == 1 && sb == 1) {
    binary_accumulate<Op>(out, b, n);
  } else if (out == a && sa == 1 && sb == 0) {
    binary_accumulate_scalar<Op>(out, *b, n);
  } else {
    for (int64_t j = 0; j < n; ++j)
      out[j] = binary_apply<Op>(a[j * sa], b[j * sb]);
  }
}

// y[i] = op(x[i]) for i < n (x unused by Fill); y may be x.
template <UnaryOp Op>
void unary_run(const float* x, float* y, int64_t n, UnaryParams p) {
  int64_t i = 0;
  if (Op == UnaryOp::Fill || x == y) {
    float* __restrict o = y;
    for (; i + kRowBlock <= n; i += kRowBlock)
      for (int64_t u = 0; u < kRowBlock; ++u)
        o[i + u] = unary_apply<Op>(Op == UnaryOp::Fill ? 0.f : o[i + u], p);
    for (; i < n; ++i)
      o[i] = unary_apply<Op>(Op == UnaryOp::Fill ? 0.f : o[i], p);
    return;
  }
  const float* __restrict in = x;
  float* __restrict o = y;
  for (; i + kRowBlock <= n; i += kRowBlock)
    for (int64_t u = 0; u < kRowBlock; ++u)
      o[i + u] = unary_apply<Op>(in[i + u], p);
  for (; i < n; ++i)
    o[i] = unary_apply<Op>(in[i], p);
}

}  // namespace

// The AVX-512 instances (elementwise_avx512.cpp): one row of a binary op, one run of a unary op.
void binary_row_avx512(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb,
                       float* out, int64_t n);
void unary_run_avx512(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n);

}  // namespace ge::kernels::cpu
