#pragma once
// The CPU kernels' one door to OpenBLAS.
//
// In OpenMP builds the kernels' OpenMP team is the only thread pool: OpenBLAS is made
// single-threaded for the whole process, once, and the kernels split their GEMMs over the team
// themselves (cpu::gemm). Two pools on one set of cores spin-wait for cores the other holds,
// which slowed training several-fold. Without OpenMP, OpenBLAS keeps its own threading.
#include <cstdint>

namespace ge::kernels::cpu {

// Row-major C[m x n] = alpha * op(A) op(B) + beta * C as one OpenBLAS call; in OpenMP builds it
// runs on the calling thread. Sizes must fit int and the arguments be valid (check_gemm_args):
// this is called inside parallel regions and must not throw.
void blas_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                int64_t ldc);

}  // namespace ge::kernels::cpu
