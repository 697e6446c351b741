// CPU GEMM: OpenBLAS row-major sgemm, one call per batch matrix.
#include <cblas.h>

#include "common/gemm.h"
#include "ganengine/kernels/matmul.h"

namespace ge::kernels::cpu {

void gemm(const GemmArgs& g) {
  if (check_gemm_args(g)) return;
  for (int64_t b = 0; b < g.batch; ++b) {
    float* c = g.c + b * g.stride_c;
    if (g.k == 0) {
      // C = beta * C, without trusting every BLAS to handle k == 0; beta == 0 overwrites NaN.
      for (int64_t i = 0; i < g.m; ++i) {
        for (int64_t j = 0; j < g.n; ++j) {
          float& v = c[i * g.ldc + j];
          v = g.beta == 0.f ? 0.f : g.beta * v;
        }
      }
      continue;
    }
    cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans,
                g.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(g.m), static_cast<int>(g.n),
                static_cast<int>(g.k), g.alpha, g.a + b * g.stride_a, static_cast<int>(g.lda),
                g.b + b * g.stride_b, static_cast<int>(g.ldb), g.beta, c, static_cast<int>(g.ldc));
  }
}

}  // namespace ge::kernels::cpu
