// The AVX2 SGEMM micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators, 2 loads of B and 6
// broadcasts of A per 12 FMAs, within the 16 ymm registers; edge tiles run a smaller instance.
#include <immintrin.h>

#include "cpu/sgemm_kernels.h"

#define GE_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace ge::kernels::cpu {
namespace {

constexpr int kMr = 6, kNr = 16, kVecs = kNr / 8;

// The tile's first R rows and V vectors of columns (as in sgemm_avx512.cpp).
template <int R, int V>
GE_TARGET_AVX2 void tile(int64_t kc, const float* a, int64_t a_row, int64_t a_step, const float* b,
                         float* c, int64_t ldc, float alpha, float beta, int rows, int cols) {
  __m256 acc[R][V];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v)
      acc[r][v] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    __m256 bv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v)
      bv[v] = _mm256_load_ps(b + 8 * v);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r * a_row);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v)
        acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
    }
    a += a_step;
    b += kNr;
  }
  __m256i mask[V];
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int v = 0; v < V; ++v)
    mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8 * v), lane);
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    if (r == rows) break;
    float* const row = c + r * ldc;
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      __m256 out = _mm256_mul_ps(acc[r][v], va);
      if (beta != 0.f) {
        const __m256 old = _mm256_maskload_ps(row + 8 * v, mask[v]);
        out = _mm256_fmadd_ps(acc[r][v], va, _mm256_mul_ps(vb, old));
      }
      _mm256_maskstore_ps(row + 8 * v, mask[v], out);
    }
  }
}

template <int R>
constexpr GemmTile kRow[kVecs] = {tile<R, 1>, tile<R, 2>};
constexpr const GemmTile* kTiles[kMr] = {kRow<1>, kRow<2>, kRow<3>, kRow<4>, kRow<5>, kRow<6>};

void tile_avx2(int64_t kc, const float* a, int64_t a_row, int64_t a_step, const float* b, float* c,
               int64_t ldc, float alpha, float beta, int rows, int cols) {
  kTiles[rows - 1][(cols + 7) / 8 - 1](kc, a, a_row, a_step, b, c, ldc, alpha, beta, rows, cols);
}

}  // namespace

const GemmKernel kGemmAvx2{kMr, kNr, 256, 144, 3072, false, tile_avx2, nullptr};

}  // namespace ge::kernels::cpu
