#include "cpu/blas_threads.h"

#include <cblas.h>

namespace ge::kernels::cpu {
namespace {

#if defined(_OPENMP)
bool make_blas_serial() {
  openblas_set_num_threads(1);
  return true;
}

// Once per process, when the library loads: the CUDA emulator's cuBLAS, which also runs on
// OpenBLAS, is covered from its first call as well.
[[maybe_unused]] const bool blas_serial_at_load = make_blas_serial();
#endif

}  // namespace

void blas_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                int64_t ldc) {
#if defined(_OPENMP)
  // Static initializers run in no fixed order across translation units: one that multiplies
  // matrices may come before blas_serial_at_load.
  [[maybe_unused]] static const bool serial = make_blas_serial();
#endif
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

}  // namespace ge::kernels::cpu
