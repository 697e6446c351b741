#pragma once
// Validation of row-major GemmArgs, shared by the CPU (cblas) and CUDA (cuBLAS) launchers.
#include <climits>
#include <cstdint>

#include "ganengine/error.h"
#include "ganengine/kernels/matmul.h"

namespace ge::kernels {

// True when the call does nothing (an empty C).
inline bool check_gemm_args(const GemmArgs& g) {
  GE_CHECK(g.m >= 0 && g.n >= 0 && g.k >= 0, "gemm: expected non-negative m, n, k, got m = ", g.m,
           ", n = ", g.n, ", k = ", g.k);
  GE_CHECK(g.batch >= 0, "gemm: expected batch >= 0, got ", g.batch);
  GE_CHECK(g.stride_a >= 0 && g.stride_b >= 0 && g.stride_c >= 0,
           "gemm: expected non-negative batch strides, got stride_a = ", g.stride_a,
           ", stride_b = ", g.stride_b, ", stride_c = ", g.stride_c);
  if (g.m == 0 || g.n == 0 || g.batch == 0) return true;
  // Row-major: the leading dimension is at least the stored number of columns.
  const int64_t a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_cols = g.trans_b ? g.k : g.n;
  auto min_ld = [](int64_t cols) { return cols > 1 ? cols : int64_t{1}; };
  GE_CHECK(g.lda >= min_ld(a_cols), "gemm: expected lda >= ", min_ld(a_cols), " (A is ",
           g.trans_a ? g.k : g.m, "x", a_cols, g.trans_a ? ", transposed" : "", "), got ", g.lda);
  GE_CHECK(g.ldb >= min_ld(b_cols), "gemm: expected ldb >= ", min_ld(b_cols), " (B is ",
           g.trans_b ? g.n : g.k, "x", b_cols, g.trans_b ? ", transposed" : "", "), got ", g.ldb);
  GE_CHECK(g.ldc >= min_ld(g.n), "gemm: expected ldc >= ", min_ld(g.n), " (C is ", g.m, "x", g.n,
           "), got ", g.ldc);
  GE_CHECK(g.c != nullptr, "gemm: expected a non-null C for m = ", g.m, ", n = ", g.n);
  GE_CHECK(g.k == 0 || (g.a != nullptr && g.b != nullptr),
           "gemm: expected non-null A and B for k = ", g.k);
  const int64_t c_extent = (g.m - 1) * g.ldc + g.n;
  GE_CHECK(g.batch == 1 || g.stride_c >= c_extent, "gemm: expected stride_c >= ", c_extent,
           " so that the ", g.batch, " C matrices do not overlap, got ", g.stride_c);
  // BLAS and cuBLAS take 32-bit sizes.
  for (int64_t v : {g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.batch}) {
    GE_CHECK(v <= INT_MAX, "gemm: expected sizes and leading dimensions <= ", INT_MAX, ", got ", v);
  }
  return false;
}

}  // namespace ge::kernels
