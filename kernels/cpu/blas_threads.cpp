#include "cpu/blas_threads.h"

#include <cblas.h>

namespace ge::kernels::cpu {
namespace {

#if defined(_OPENMP)
bool make_blas_serial() {
  openblas_set_num_threads(1);
  return true;
}

[[maybe_unused]] const bool blas_serial_at_load = make_blas_serial();
#endif

}  // namespace
}  // namespace ge::kernels::cpu
