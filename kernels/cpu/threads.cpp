#include "cpu/threads.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace ge::kernels::cpu {

bool openmp_enabled() {
#if defined(_OPENMP)
  return true;
#else
  return false;
#endif
}

int thread_count() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void set_thread_count(int threads) {
#if defined(_OPENMP)
  omp_set_num_threads(threads < 1 ? 1 : threads);
#else
  (void)threads;
#endif
}

}  // namespace ge::kernels::cpu
