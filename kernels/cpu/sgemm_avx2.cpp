// The AVX2 SGEMM micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators, 2 loads of B and 6
// broadcasts of A per 12 FMAs, within the 16 ymm registers.
#include <immintrin.h>

#include "cpu/sgemm_kernels.h"

#define GE_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace ge::kernels::cpu {
namespace {

constexpr int kMr = 6, kNr = 16, kVecs = kNr / 8;

GE_TARGET_AVX2 void tile_avx2(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                              float alpha, float beta, int rows, int cols) {
  __m256 acc[kMr][kVecs];
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < kVecs; ++v)
      acc[r][v] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int r = 0; r < kMr; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
    }
    a += kMr;
    b += kNr;
  }
  __m256i mask[kVecs];
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int v = 0; v < kVecs; ++v)
    mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8 * v), lane);
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) {
    if (r == rows) break;
    float* const row = c + r * ldc;
#pragma GCC unroll 2
    for (int v = 0; v < kVecs; ++v) {
      __m256 out = _mm256_mul_ps(acc[r][v], va);
      if (beta != 0.f) {
        const __m256 old = _mm256_maskload_ps(row + 8 * v, mask[v]);
        out = _mm256_fmadd_ps(acc[r][v], va, _mm256_mul_ps(vb, old));
      }
      _mm256_maskstore_ps(row + 8 * v, mask[v], out);
    }
  }
}

}  // namespace

const GemmKernel kGemmAvx2{kMr, kNr, 256, 144, 3072, tile_avx2};

}  // namespace ge::kernels::cpu
