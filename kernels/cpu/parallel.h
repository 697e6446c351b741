#pragma once
// Thread-level parallelism for the CPU kernels. Every OpenMP construct lives here, behind
// _OPENMP, so the kernels build warning-free with and without OpenMP (GE_OPENMP=OFF: serial).
// Bodies must not throw: validate before entering a parallel loop.
#include <cstdint>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace ge::kernels::cpu {

// Below this many elements of data movement (or multiply-adds), a parallel region costs more
// than it saves.
inline constexpr int64_t kParallelGrain = int64_t{1} << 15;

// Threads a parallel region started here would get (1 inside another region: nesting is off).
inline int max_threads() {
#if defined(_OPENMP)
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

// f(i) for every i in [0, n): spread statically over the threads when `parallel` and there is
// more than one item, in order otherwise.
template <typename F>
void parallel_for(int64_t n, bool parallel, F&& f) {
#if defined(_OPENMP)
  if (parallel && n > 1 && max_threads() > 1) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i)
      f(i);
    return;
  }
#else
  (void)parallel;
#endif
  for (int64_t i = 0; i < n; ++i)
    f(i);
}

// f(thread, team_size) once on each of at most `threads` threads; the team may come out
// smaller than asked, so work is split by the team_size f receives.
template <typename F>
void parallel_team(int threads, F&& f) {
#if defined(_OPENMP)
  if (threads > 1 && max_threads() > 1) {
#pragma omp parallel num_threads(threads)
    f(omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#else
  (void)threads;
#endif
  f(0, 1);
}

}  // namespace ge::kernels::cpu
