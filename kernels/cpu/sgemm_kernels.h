#pragma once
// The SGEMM micro-kernels, one per instruction set, and the cache blocking each is tuned for.
#include <cstdint>

namespace ge::kernels::cpu {

// The first `rows` x `cols` of a register tile: C[i][j] (rows ldc apart) = alpha * acc[i][j] +
// beta * C[i][j], acc[i][j] = sum over p = 0..kc-1, in order, of A(i, p) * b[p * nr + j] (one
// fused multiply-add per term where the set has them). beta == 0 overwrites C. A(i, p) =
// a[i * a_row + p * a_step]: a packed panel (a_row 1, a_step mr, zero-padded to whole tiles) or,
// for a kernel with direct_a, A in place (either stride 1; only the tile's `rows` rows are read).
// `b` is a packed panel, zero-padded to whole tiles and 64-byte aligned.
using GemmTile = void (*)(int64_t kc, const float* a, int64_t a_row, int64_t a_step, const float* b,
                          float* c, int64_t ldc, float alpha, float beta, int rows, int cols);

// Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] of a transposed B (op(B)(p, j) = b[j * ldb + p]) as
// nc / nr panels, each kc steps of nr values, zero-padded to whole panels.
using GemmPackTransposedB = void (*)(const float* b, int64_t ldb, int64_t j0, int64_t nc,
                                     int64_t p0, int64_t kc, float* out);

struct GemmKernel {
  int mr, nr;     // the register tile
  int64_t kc;     // depth of a packed block: a kc x nr panel of B stays in L1
  int64_t mc;     // rows of a packed block of A (a multiple of mr): it stays in L2
  int64_t nc;     // columns of a packed block of B (a multiple of nr)
  bool direct_a;  // the tile reads A in place, so the driver does not pack it
  GemmTile tile;
  GemmPackTransposedB pack_bt;  // nullptr: the driver's portable loop
};

extern const GemmKernel kGemmScalar;
extern const GemmKernel kGemmAvx2;
extern const GemmKernel kGemmAvx512;

}  // namespace ge::kernels::cpu
