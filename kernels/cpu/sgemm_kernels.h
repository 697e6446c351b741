#pragma once
// The SGEMM micro-kernels, one per instruction set, and the cache blocking each is tuned for.
#include <cstdint>

namespace ge::kernels::cpu {

// The first `rows` x `cols` of a register tile: C[i][j] (rows ldc apart) = alpha * acc[i][j] +
// beta * C[i][j], acc[i][j] = sum over p = 0..kc-1, in order, of a[p * mr + i] * b[p * nr + j]
// (one fused multiply-add per term where the set has them). beta == 0 overwrites C. `a` and `b`
// are packed panels, zero-padded to whole tiles; `b` is 64-byte aligned.
using GemmTile = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                          float alpha, float beta, int rows, int cols);

struct GemmKernel {
  int mr, nr;  // the register tile
  int64_t kc;  // depth of a packed block: a kc x nr panel of B stays in L1
  int64_t mc;  // rows of a packed block of A (a multiple of mr): it stays in L2
  int64_t nc;  // columns of a packed block of B (a multiple of nr)
  GemmTile tile;
};

extern const GemmKernel kGemmScalar;
extern const GemmKernel kGemmAvx2;
extern const GemmKernel kGemmAvx512;

}  // namespace ge::kernels::cpu
