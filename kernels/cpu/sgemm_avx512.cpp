// The AVX-512 SGEMM micro-kernel: an 8 x 48 tile of C in 24 zmm accumulators. Per step of the
// depth it loads three vectors of B, broadcasts eight values of A and issues 24 FMAs, so the two
// FMA ports stay busy while the loads (11 per step) use less than the two load ports give. Tiles
// cut by the edge of C run a smaller instance with only the rows and vectors they store.
//
// A is read in place, never packed: its eight values of a step are either adjacent (a packed or
// transposed A: one pointer that moves by a_step) or one per row (a row-major A: eight row
// pointers that move by one). Each value feeds 48 columns, so reading it from L1 or L2 where it
// lies costs less than the copy packing would make, which for the short products of a conv
// chunk is a fifth of the time.
#include <immintrin.h>

#include "cpu/sgemm_kernels.h"

#define GE_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))

namespace ge::kernels::cpu {
namespace {

constexpr int kMr = 8, kNr = 48, kVecs = kNr / 16;

// The tile's first R rows and V vectors of columns: edge tiles run only the FMAs they store, and
// each element's sum is the same sequence of FMAs whatever the tile's size. kAdjacent: A(r, p) =
// a[p * a_step + r], else a[r * a_row + p].
template <int R, int V, bool kAdjacent>
GE_TARGET_AVX512 void tile(int64_t kc, const float* a, int64_t a_row, int64_t a_step,
                           const float* b, float* c, int64_t ldc, float alpha, float beta, int rows,
                           int cols) {
  __m512 acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v)
      acc[r][v] = _mm512_setzero_ps();
  const float* row_a[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    row_a[r] = a + r * a_row;
  for (int64_t p = 0; p < kc; ++p) {
    __m512 bv[V];
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v)
      bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 ar = _mm512_set1_ps(kAdjacent ? a[r] : row_a[r][p]);
#pragma GCC unroll 3
      for (int v = 0; v < V; ++v)
        acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
    }
    if constexpr (kAdjacent) a += a_step;
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

template <int R, bool kAdjacent>
constexpr GemmTile kRow[kVecs] = {tile<R, 1, kAdjacent>, tile<R, 2, kAdjacent>,
                                  tile<R, 3, kAdjacent>};
template <bool kAdjacent>
constexpr const GemmTile* kTiles[kMr] = {kRow<1, kAdjacent>, kRow<2, kAdjacent>, kRow<3, kAdjacent>,
                                         kRow<4, kAdjacent>, kRow<5, kAdjacent>, kRow<6, kAdjacent>,
                                         kRow<7, kAdjacent>, kRow<8, kAdjacent>};

void tile_avx512(int64_t kc, const float* a, int64_t a_row, int64_t a_step, const float* b,
                 float* c, int64_t ldc, float alpha, float beta, int rows, int cols) {
  const GemmTile* const tiles = a_row == 1 ? kTiles<true>[rows - 1] : kTiles<false>[rows - 1];
  tiles[(cols + 15) / 16 - 1](kc, a, a_row, a_step, b, c, ldc, alpha, beta, rows, cols);
}

// A transposed B holds each column of op(B) in a row of b: a step of a panel gathers 16 values
// from 16 rows, one gather per vector instead of 16 scalar copies 48 floats apart.
GE_TARGET_AVX512 void pack_bt_avx512(const float* b, int64_t ldb, int64_t j0, int64_t nc,
                                     int64_t p0, int64_t kc, float* out) {
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  for (int64_t jr = 0; jr < nc; jr += kNr, out += kc * kNr) {
    __mmask16 mask[kVecs];
    const float* col[kVecs];
    for (int v = 0; v < kVecs; ++v) {
      const int64_t left = nc - jr - 16 * v;
      mask[v] = left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? 0 : __mmask16((1u << left) - 1);
      col[v] = b + (j0 + jr + 16 * v) * ldb + p0;
    }
    // Offsets in floats from a vector's first row; within int while 16 rows fit 2^31 floats,
    // which the GEMM's callers keep (their sizes fit int), else the portable loop runs.
    const __m512i offsets = _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int>(ldb)));
    for (int64_t p = 0; p < kc; ++p) {
#pragma GCC unroll 3
      for (int v = 0; v < kVecs; ++v) {
        const __m512 x =
            _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask[v], offsets, col[v] + p, 4);
        _mm512_store_ps(out + p * kNr + 16 * v, x);
      }
    }
  }
}

}  // namespace

const GemmKernel kGemmAvx512{kMr, kNr, 256, 192, 3072, true, tile_avx512, pack_bt_avx512};

}  // namespace ge::kernels::cpu
