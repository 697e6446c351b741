#pragma once
// Row-major batched GEMM: for each b < batch,
//   C_b[m x n] = alpha * op(A_b) * op(B_b) + beta * C_b,
// op(X) = X or X^T. lda/ldb/ldc are row-major leading dimensions (elements between rows);
// stride_* are elements between consecutive batch matrices (0 broadcasts one matrix).
// CPU: the kernels' own packed SGEMM, its micro-kernel chosen by the CPU's instruction set
// (kernels/cpu/sgemm.h). CUDA: cublasSgemmStridedBatched (column-major, operands swapped), in
// FP32 or, with GemmMath::Tf32, on the TF32 tensor cores (CUBLAS_TF32_TENSOR_OP_MATH: inputs
// taken to TF32, products summed in FP32).
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

struct GemmArgs {
  bool trans_a = false;
  bool trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.f;
  const float* a = nullptr;
  int64_t lda = 0;
  int64_t stride_a = 0;
  const float* b = nullptr;
  int64_t ldb = 0;
  int64_t stride_b = 0;
  float beta = 0.f;
  float* c = nullptr;
  int64_t ldc = 0;
  int64_t stride_c = 0;
  int64_t batch = 1;
};

// Arguments for `batch` densely packed row-major matrices per operand: A_b is [m, k] ([k, m]
// when trans_a), B_b is [k, n] ([n, k] when trans_b), C_b is [m, n], each batch right after
// the previous one. Leading dimensions and batch strides follow from the shapes.
inline GemmArgs packed_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                            const float* a, const float* b, float* c, int64_t batch = 1,
                            float beta = 0.f) {
  GemmArgs g;
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a;
  g.lda = trans_a ? m : k;
  g.stride_a = m * k;
  g.b = b;
  g.ldb = trans_b ? k : n;
  g.stride_b = k * n;
  g.beta = beta;
  g.c = c;
  g.ldc = n;
  g.stride_c = m * n;
  g.batch = batch;
  return g;
}

namespace cpu {
void gemm(const GemmArgs& args);
}
namespace cuda {
enum class GemmMath { Fp32, Tf32 };
GE_CUDA_LAUNCHER void gemm(const GemmArgs& args, Stream stream, GemmMath math = GemmMath::Fp32);
}  // namespace cuda

}  // namespace ge::kernels
