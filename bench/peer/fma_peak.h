#pragma once
// The machine's measured floating-point ceiling: independent chains of fused multiply-adds, as
// many as hide the FMA latency, on every thread of an OpenMP team at once. This is the peak the
// peer table's "% of peak" column divides by.

namespace ge::bench {

struct FmaPeak {
  double avx512_gflops = 0;  // 0 where the CPU lacks AVX-512
  double avx2_gflops = 0;    // 0 where the CPU lacks AVX2 + FMA
};

// The best of `reps` runs of about 0.1 s each, on `threads` threads.
FmaPeak measure_fma_peak(int threads, int reps = 5);

}  // namespace ge::bench
