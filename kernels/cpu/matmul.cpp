// CPU GEMM: single-threaded OpenBLAS calls spread over the kernels' OpenMP team.
//
// In OpenMP builds OpenBLAS never threads (blas_threads.h), so the parallelism is this file's:
// a batch of at least as many matrices as threads splits over the batch, one whole sgemm per
// matrix; a single large product splits C into one block of rows per thread (of columns when C
// is wider than tall), each block one sgemm that reads all of the other operand. Every element
// of C comes from exactly one call, so results are deterministic for a given thread count.
// Another thread count can change the last bits: OpenBLAS picks its kernel (small-matrix,
// direct or blocked) by the size of each call.
#include <algorithm>
#include <cstdint>

#include "common/gemm.h"
#include "cpu/blas_threads.h"
#include "cpu/parallel.h"
#include "ganengine/kernels/matmul.h"

namespace ge::kernels::cpu {
namespace {

// Below this many multiply-adds (some 20 us on one core) one product runs on the calling thread:
// waking the team and joining it would cost about what the other cores give back.
constexpr double kGemmGrain = double{1 << 20};
// Block edges fall on multiples of 16 rows or columns: a column block then starts on its own
// 64-byte line of C when C's rows are aligned (no false sharing between the threads), and every
// block but the last is whole micro-tiles of OpenBLAS's kernels (16 x 4 on AVX-512).
constexpr int64_t kBlockAlign = 16;

// Product `bi` of the batch, on at most `threads` threads.
void gemm_one(const GemmArgs& g, int64_t bi, int threads) {
  const float* a = g.a + bi * g.stride_a;
  const float* b = g.b + bi * g.stride_b;
  float* c = g.c + bi * g.stride_c;
  if (g.k == 0) {
    // C = beta * C, without trusting every BLAS to handle k == 0; beta == 0 overwrites NaN.
    for (int64_t i = 0; i < g.m; ++i) {
      for (int64_t j = 0; j < g.n; ++j) {
        float& v = c[i * g.ldc + j];
        v = g.beta == 0.f ? 0.f : g.beta * v;
      }
    }
    return;
  }
  // Each block repacks the whole other operand, so the longer side is the one to cut.
  const bool by_rows = g.m >= g.n;
  const int64_t len = by_rows ? g.m : g.n;
  const int64_t units = (len + kBlockAlign - 1) / kBlockAlign;
  parallel_team(static_cast<int>(std::min<int64_t>(threads, units)), [&](int t, int team) {
    const int64_t begin = std::min(len, units * t / team * kBlockAlign);
    const int64_t end = std::min(len, units * (t + 1) / team * kBlockAlign);
    if (begin == end) return;
    if (by_rows) {
      blas_sgemm(g.trans_a, g.trans_b, end - begin, g.n, g.k, g.alpha,
                 a + (g.trans_a ? begin : begin * g.lda), g.lda, b, g.ldb, g.beta,
                 c + begin * g.ldc, g.ldc);
    } else {
      blas_sgemm(g.trans_a, g.trans_b, g.m, end - begin, g.k, g.alpha, a, g.lda,
                 b + (g.trans_b ? begin * g.ldb : begin), g.ldb, g.beta, c + begin, g.ldc);
    }
  });
}

}  // namespace

void gemm(const GemmArgs& g) {
  if (check_gemm_args(g)) return;
  const int threads = max_threads();
  // In double: three int-sized factors overflow int64.
  const double macs =
      static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  if (threads > 1 && g.batch >= threads) {
    parallel_for(g.batch, macs * static_cast<double>(g.batch) >= kGemmGrain,
                 [&](int64_t bi) { gemm_one(g, bi, 1); });
    return;
  }
  const int per_product = macs >= kGemmGrain ? threads : 1;
  for (int64_t bi = 0; bi < g.batch; ++bi)
    gemm_one(g, bi, per_product);
}

}  // namespace ge::kernels::cpu
