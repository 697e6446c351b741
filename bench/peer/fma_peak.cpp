#include "fma_peak.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>

namespace ge::bench {
namespace {

// 16 accumulators: enough independent FMAs (2 ports x 4-cycle latency = 8) to fill both ports.
constexpr int kChains = 16;
constexpr long kIters = 4000000;  // per thread and run: 16 x 4M FMAs, about 0.1 s

__attribute__((target("avx512f"))) float chains_avx512(long iters) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kChains; ++i)
    sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) float chains_avx2(long iters) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i)
    sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, sum);
  return out[0];
}

// FLOP/s of `chains` (lanes floats per vector) on every thread of the team at once.
template <typename F>
double gflops(F chains, int lanes, int threads, int reps) {
  double best = 0;
  volatile float sink = 0;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    {
      const float v = chains(kIters);
#pragma omp critical
      sink = sink + v;
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * lanes * kChains * kIters * threads / s * 1e-9);
  }
  return best;
}

}  // namespace

FmaPeak measure_fma_peak(int threads, int reps) {
  FmaPeak p;
  if (__builtin_cpu_supports("avx512f")) p.avx512_gflops = gflops(chains_avx512, 16, threads, reps);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    p.avx2_gflops = gflops(chains_avx2, 8, threads, reps);
  return p;
}

}  // namespace ge::bench
