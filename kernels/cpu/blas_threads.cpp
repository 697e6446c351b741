// OpenBLAS stays single-threaded in OpenMP builds.
//
// The CPU kernels multiply with their own GEMM (cpu/sgemm.h) over their OpenMP team; OpenBLAS
// serves the CUDA emulator's cuBLAS. In OpenMP builds it is made single-threaded for the whole
// process, once, when the library loads: two thread pools on one set of cores spin-wait for cores
// the other holds, which slowed training several-fold. Without OpenMP, OpenBLAS keeps its own
// threading. Nothing to call: the initializer below does it.
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
