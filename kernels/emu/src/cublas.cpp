// The cuBLAS calls the engine makes, with cuBLAS's column-major semantics and argument checks,
// computed by the CPU BLAS when the handle's stream reaches them; CUBLAS_TF32_TENSOR_OP_MATH
// rounds the operands to TF32 first.
#include <cublas_v2.h>
#include <cblas.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/emu/matrix.h"
#include "runtime_state.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
  cublasMath_t math_mode = CUBLAS_DEFAULT_MATH;
};

namespace ge::emu {
namespace {

bool valid_op(cublasOperation_t op) {
  return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C;
}

CBLAS_TRANSPOSE to_cblas(cublasOperation_t op) {
  return op == CUBLAS_OP_N ? CblasNoTrans : CblasTrans;
}

cublasStatus_t check_gemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                          int m, int n, int k, const float* alpha, const float* beta, int lda,
                          int ldb, int ldc) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!valid_op(transa) || !valid_op(transb) || m < 0 || n < 0 || k < 0) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (lda < std::max(1, transa == CUBLAS_OP_N ? m : k)) return CUBLAS_STATUS_INVALID_VALUE;
  if (ldb < std::max(1, transb == CUBLAS_OP_N ? k : n)) return CUBLAS_STATUS_INVALID_VALUE;
  if (ldc < std::max(1, m)) return CUBLAS_STATUS_INVALID_VALUE;
  if (!alpha || !beta) return CUBLAS_STATUS_INVALID_VALUE;
  return CUBLAS_STATUS_SUCCESS;
}

// A column-major operand (stored rows x cols, leading dimension ld) copied with its elements
// rounded to TF32, as CUBLAS_TF32_TENSOR_OP_MATH feeds them to the tensor cores; the copy keeps
// ld, and the rows between `rows` and ld (never read) stay zero.
void tf32_copy(const float* x, int ld, int rows, int cols, std::vector<float>& out) {
  out.assign(static_cast<size_t>(ld) * static_cast<size_t>(cols), 0.f);
  for (int j = 0; j < cols; ++j)
    for (int i = 0; i < rows; ++i) {
      const size_t at = static_cast<size_t>(j) * static_cast<size_t>(ld) + static_cast<size_t>(i);
      const std::uint32_t bits = tf32_round(x[at]);
      std::memcpy(&out[at], &bits, sizeof bits);
    }
}

// C = alpha * op(A) op(B) + beta * C; like cuBLAS, C is not read when beta is zero. With TF32
// math the operands are rounded to TF32 first (ties away from zero, as cvt.rna.tf32.f32).
void gemm(cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, float alpha,
          const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc,
          bool tf32 = false) {
  std::vector<float> a_tf32, b_tf32;
  if (tf32 && m > 0 && n > 0 && k > 0) {
    tf32_copy(A, lda, transa == CUBLAS_OP_N ? m : k, transa == CUBLAS_OP_N ? k : m, a_tf32);
    tf32_copy(B, ldb, transb == CUBLAS_OP_N ? k : n, transb == CUBLAS_OP_N ? n : k, b_tf32);
    A = a_tf32.data();
    B = b_tf32.data();
  }
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    for (int j = 0; j < n; ++j) {
      float* column = C + static_cast<std::ptrdiff_t>(j) * ldc;
      for (int i = 0; i < m; ++i)
        column[i] = beta == 0.0f ? 0.0f : beta * column[i];
    }
    return;
  }
  if (beta == 0.0f) {
    for (int j = 0; j < n; ++j)
      std::fill_n(C + static_cast<std::ptrdiff_t>(j) * ldc, m, 0.0f);
  }
  cblas_sgemm(CblasColMajor, to_cblas(transa), to_cblas(transb), m, n, k, alpha, A, lda, B, ldb,
              beta, C, ldc);
}

// The matrices live in memory the device can reach; a host pointer makes cuBLAS's kernel fault,
// which the runtime reports at the next synchronisation. Returns why, or an empty string.
std::string host_matrix(const char* call, int m, int n, int k, const float* A, const float* B,
                        const float* C) {
  if (m == 0 || n == 0) return {};
  const std::pair<const char*, const float*> matrices[] = {{"A", A}, {"B", B}, {"C", C}};
  for (const auto& [name, ptr] : matrices) {
    if (k == 0 && name[0] != 'C') continue;
    if (ptr != nullptr && detail::residence(ptr) != detail::Residence::host) continue;
    char address[32];
    std::snprintf(address, sizeof address, "%p", static_cast<const void*>(ptr));
    return std::string(call) + ": matrix " + name + " (" + address +
           ") is not in device memory (cudaMalloc) or pinned host memory (cudaMallocHost)";
  }
  return {};
}

// Queues a call on the handle's stream; the scalars are read now (host pointer mode), the
// matrices when the stream gets there.
template <typename Call>
cublasStatus_t queue(cublasHandle_t handle, std::string host_pointer, Call call) {
  const cudaError_t error =
      detail::enqueue(handle->stream, [call, host_pointer = std::move(host_pointer)] {
        if (!host_pointer.empty()) return detail::Fault{cudaErrorIllegalAddress, host_pointer};
        call();
        return detail::Fault{};
      });
  return error == cudaSuccess ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_EXECUTION_FAILED;
}

}  // namespace
}  // namespace ge::emu

extern "C" {

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasContext{};
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ge::emu::detail::is_valid_stream(streamId)) return CUBLAS_STATUS_INVALID_VALUE;
  handle->stream = streamId;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, cudaStream_t* streamId) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!streamId) return CUBLAS_STATUS_INVALID_VALUE;
  *streamId = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->math_mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa,
                              cublasOperation_t transb, int m, int n, int k, const float* alpha,
                              const float* A, int lda, const float* B, int ldb, const float* beta,
                              float* C, int ldc) {
  const cublasStatus_t status =
      ge::emu::check_gemm(handle, transa, transb, m, n, k, alpha, beta, lda, ldb, ldc);
  if (status != CUBLAS_STATUS_SUCCESS) return status;
  return ge::emu::queue(
      handle, ge::emu::host_matrix("cublasSgemm", m, n, k, A, B, C),
      [=, alpha = *alpha, beta = *beta, tf32 = handle->math_mode == CUBLAS_TF32_TENSOR_OP_MATH] {
        ge::emu::gemm(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, tf32);
      });
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const float* alpha, const float* A, int lda,
                                         long long int strideA, const float* B, int ldb,
                                         long long int strideB, const float* beta, float* C,
                                         int ldc, long long int strideC, int batchCount) {
  const cublasStatus_t status =
      ge::emu::check_gemm(handle, transa, transb, m, n, k, alpha, beta, lda, ldb, ldc);
  if (status != CUBLAS_STATUS_SUCCESS) return status;
  if (batchCount < 0) return CUBLAS_STATUS_INVALID_VALUE;
  const std::string host_pointer =
      batchCount == 0 ? std::string()
                      : ge::emu::host_matrix("cublasSgemmStridedBatched", m, n, k, A, B, C);
  const bool tf32 = handle->math_mode == CUBLAS_TF32_TENSOR_OP_MATH;
  return ge::emu::queue(handle, host_pointer, [=, alpha = *alpha, beta = *beta] {
    for (int batch = 0; batch < batchCount; ++batch) {
      ge::emu::gemm(transa, transb, m, n, k, alpha, A + batch * strideA, lda, B + batch * strideB,
                    ldb, beta, C + batch * strideC, ldc, tf32);
    }
  });
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "error detected trying to check the license";
  }
  return "unknown error";
}

}  // extern "C"
