#pragma once
// Thread-level parallelism for the CPU kernels. The team's size is OpenMP's (OMP_NUM_THREADS,
// omp_set_num_threads, set_thread_count); its regions run on the kernels' own pool
// (thread_pool.h). Without OpenMP (GE_OPENMP=OFF) every region runs serially. Bodies must not
// throw: validate before entering a parallel loop.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "cpu/thread_pool.h"
#include "cpu/threads.h"

namespace ge::kernels::cpu {

// Below this many elements of data movement (or multiply-adds), a parallel region costs more
// than it saves.
inline constexpr int64_t kParallelGrain = int64_t{1} << 15;

// Threads a parallel region started here would get (1 inside another region: nesting is off).
inline int max_threads() {
  return in_team() ? 1 : thread_count();
}

// f(thread, team_size) once on each of at most `threads` threads; the team may come out
// smaller than asked, so work is split by the team_size f receives.
template <typename F>
void parallel_team(int threads, F&& f) {
  threads = std::min(threads, max_threads());
  if (threads <= 1) {
    f(0, 1);
    return;
  }
  using Body = std::remove_reference_t<F>;
  run_team(
      threads, [](void* context, int t, int team) { (*static_cast<Body*>(context))(t, team); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// f(i) for every i in [0, n): contiguous ranges of i spread over the threads when `parallel`
// and there is more than one item, in order otherwise.
template <typename F>
void parallel_for(int64_t n, bool parallel, F&& f) {
  const int threads = parallel && n > 1 ? static_cast<int>(std::min<int64_t>(max_threads(), n)) : 1;
  if (threads <= 1) {
    for (int64_t i = 0; i < n; ++i)
      f(i);
    return;
  }
  parallel_team(threads, [&](int t, int team) {
    for (int64_t i = n * t / team; i < n * (t + 1) / team; ++i)
      f(i);
  });
}

}  // namespace ge::kernels::cpu
