#pragma once
// ganengine's own single-threaded SGEMM: operands packed into cache-sized blocks, then a
// register-blocked micro-kernel per instruction set (cpu_isa.h). Callers spread large products
// over threads themselves (cpu::gemm).
#include <cstdint>

#include "cpu/cpu_isa.h"

namespace ge::kernels::cpu {

// Row-major C[m x n] = alpha * op(A) op(B) + beta * C on the calling thread, with the kernels of
// `isa`, which this CPU must support. beta == 0 overwrites C, NaN included; k == 0 scales C by
// beta. The summation order of every element depends on k and `isa` only, never on where the
// element lies in C. The arguments must be valid (check_gemm_args): this runs inside parallel
// regions and does not throw.
void sgemm(CpuIsa isa, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc);

// A B operand that packs itself: pack(source, j0, nc, p0, kc, out) writes op(B)[p0 .. p0+kc,
// j0 .. j0+nc] as ceil(nc / nr) panels of kc steps of nr values (nr = sgemm_panel_width),
// zero-padded to whole panels, at `out` (64-byte aligned). The convolutions pack their columns
// straight from the image this way, without an im2col buffer.
struct GemmPackB {
  void (*pack)(const void* source, int64_t j0, int64_t nc, int64_t p0, int64_t kc, float* out);
  const void* source;
};

// The width nr of `isa`'s packed panels of B.
int sgemm_panel_width(CpuIsa isa);

// sgemm with B packed by `b`: the same products, in the same order, as with B in memory.
void sgemm(CpuIsa isa, bool trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const GemmPackB& b, float beta, float* c, int64_t ldc);

}  // namespace ge::kernels::cpu
