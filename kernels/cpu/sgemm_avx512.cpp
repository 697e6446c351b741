// The AVX-512 SGEMM micro-kernel: an 8 x 48 tile of C in 24 zmm accumulators. Per step of the
// depth it loads three vectors of B, broadcasts eight values of A and issues 24 FMAs, so the two
// FMA ports stay busy while the loads (11 per step) use less than the two load ports give. Tiles
// cut by the edge of C run a smaller instance with only the rows and vectors they store.
#include <immintrin.h>

#include "cpu/sgemm_kernels.h"

#define GE_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))

namespace ge::kernels::cpu {
namespace {

constexpr int kMr = 8, kNr = 48, kVecs = kNr / 16;

// The tile's first R rows and V vectors of columns: edge tiles run only the FMAs they store, and
// each element's sum is the same sequence of FMAs whatever the tile's size.
template <int R, int V>
GE_TARGET_AVX512 void tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                           float alpha, float beta, int rows, int cols) {
  __m512 acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v)
      acc[r][v] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    __m512 bv[V];
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v)
      bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
#pragma GCC unroll 3
      for (int v = 0; v < V; ++v)
        acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
    }
    a += kMr;
    b += kNr;
  }
  __mmask16 mask[V];
  for (int v = 0; v < V; ++v) {
    const int left = cols - 16 * v;
    mask[v] = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (r == rows) break;
    float* const row = c + r * ldc;
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v) {
      __m512 out = _mm512_mul_ps(acc[r][v], va);
      if (beta != 0.f) {
        const __m512 old = _mm512_maskz_loadu_ps(mask[v], row + 16 * v);
        out = _mm512_fmadd_ps(acc[r][v], va, _mm512_mul_ps(vb, old));
      }
      _mm512_mask_storeu_ps(row + 16 * v, mask[v], out);
    }
  }
}

template <int R>
constexpr GemmTile kRow[kVecs] = {tile<R, 1>, tile<R, 2>, tile<R, 3>};
constexpr const GemmTile* kTiles[kMr] = {kRow<1>, kRow<2>, kRow<3>, kRow<4>,
                                         kRow<5>, kRow<6>, kRow<7>, kRow<8>};

void tile_avx512(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha,
                 float beta, int rows, int cols) {
  kTiles[rows - 1][(cols + 15) / 16 - 1](kc, a, b, c, ldc, alpha, beta, rows, cols);
}

}  // namespace

const GemmKernel kGemmAvx512{kMr, kNr, 256, 192, 3072, tile_avx512};

}  // namespace ge::kernels::cpu
