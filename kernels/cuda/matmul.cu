// CUDA GEMM through cuBLAS. cuBLAS is column-major; a row-major C (m x n, ldc) is the
// column-major C^T (n x m, ldc), and C^T = op(B)^T op(A)^T, so the operands swap places and
// each keeps its own transpose flag.
#include <cublas_v2.h>

#include <cstdint>
#include <vector>

#include "common/gemm.h"
#include "common/grid.h"
#include "cuda/launch.cuh"
#include "ganengine/kernels/matmul.h"

namespace ge::kernels::cuda {
namespace {

// One handle per device for each host thread (cuBLAS handles are not thread-safe to share),
// created on first use.
class Handles {
 public:
  ~Handles() {
    // The driver may already be shut down at process exit; nothing useful to do on failure.
    for (cublasHandle_t h : handles_) {
      if (h != nullptr) cublasDestroy(h);
    }
  }
  cublasHandle_t get() {
    int device = 0;
    GE_CUDA_CHECK(cudaGetDevice(&device));
    if (static_cast<size_t>(device) >= handles_.size()) handles_.resize(device + 1, nullptr);
    if (handles_[device] == nullptr) {
      const cublasStatus_t s = cublasCreate(&handles_[device]);
      GE_CHECK(s == CUBLAS_STATUS_SUCCESS, "gemm: cublasCreate failed on device ", device,
               " with status ", static_cast<int>(s));
    }
    return handles_[device];
  }

 private:
  std::vector<cublasHandle_t> handles_;
};

cublasHandle_t handle() {
  thread_local Handles handles;
  return handles.get();
}

// C = beta * C for k == 0, which cuBLAS implementations need not handle.
__global__ void scale_kernel(float* c, int64_t m, int64_t n, int64_t ldc, int64_t stride_c,
                             int64_t batch, float beta) {
  const int64_t total = batch * m * n;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += stride) {
    const int64_t b = t / (m * n), i = t / n % m, j = t % n;
    float& v = c[b * stride_c + i * ldc + j];
    v = beta == 0.f ? 0.f : beta * v;
  }
}

}  // namespace

void gemm(const GemmArgs& g, Stream stream, GemmMath math) {
  if (check_gemm_args(g)) return;
  if (g.k == 0) {
    GE_LAUNCH(scale_kernel, grid_for(g.batch * g.m * g.n), kBlock, 0, stream, g.c, g.m, g.n, g.ldc,
              g.stride_c, g.batch, g.beta);
    return;
  }
  cublasHandle_t h = handle();
  cublasStatus_t s = cublasSetStream(h, stream);
  GE_CHECK(s == CUBLAS_STATUS_SUCCESS, "gemm: cublasSetStream failed with status ",
           static_cast<int>(s));
  s = cublasSetMathMode(h,
                        math == GemmMath::Tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
  GE_CHECK(s == CUBLAS_STATUS_SUCCESS, "gemm: cublasSetMathMode failed with status ",
           static_cast<int>(s));
  s = cublasSgemmStridedBatched(
      h, g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      static_cast<int>(g.n), static_cast<int>(g.m), static_cast<int>(g.k), &g.alpha, g.b,
      static_cast<int>(g.ldb), g.stride_b, g.a, static_cast<int>(g.lda), g.stride_a, &g.beta, g.c,
      static_cast<int>(g.ldc), g.stride_c, static_cast<int>(g.batch));
  GE_CHECK(s == CUBLAS_STATUS_SUCCESS, "gemm: cublasSgemmStridedBatched(m = ", g.m, ", n = ", g.n,
           ", k = ", g.k, ", batch = ", g.batch, ") failed with status ", static_cast<int>(s));
}

}  // namespace ge::kernels::cuda
