#include <gtest/gtest.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "test_support.h"

namespace {

using ge::emu_test::DeviceVector;

// C = alpha op(A) op(B) + beta C, column-major, written the slow obvious way.
void reference_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* A, int lda,
                    const float* B, int ldb, float beta, float* C, int ldc) {
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      double sum = 0.0;
      for (int p = 0; p < k; ++p) {
        const float a = ta ? A[p + i * lda] : A[i + p * lda];
        const float b = tb ? B[j + p * ldb] : B[p + j * ldb];
        sum += static_cast<double>(a) * b;
      }
      float& c = C[i + j * ldc];
      c = static_cast<float>(alpha * sum + (beta == 0.0f ? 0.0 : beta * c));
    }
  }
}

std::vector<float> random_matrix(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> values(size);
  for (float& v : values)
    v = dist(rng);
  return values;
}

class CublasTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cublasCreate(&handle_), CUBLAS_STATUS_SUCCESS); }
  void TearDown() override { EXPECT_EQ(cublasDestroy(handle_), CUBLAS_STATUS_SUCCESS); }
  cublasHandle_t handle_ = nullptr;
};

TEST_F(CublasTest, SgemmMatchesNaiveColumnMajorLoopWithTransposes) {
  const int m = 7, n = 5, k = 9;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
      const auto A = random_matrix(static_cast<size_t>(lda) * (ta ? m : k), 1);
      const auto B = random_matrix(static_cast<size_t>(ldb) * (tb ? k : n), 2);
      auto C = random_matrix(static_cast<size_t>(ldc) * n, 3);
      auto expected = C;
      const float alpha = 1.5f, beta = -0.5f;
      reference_gemm(ta, tb, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, expected.data(),
                     ldc);
      const DeviceVector<float> dA(A), dB(B), dC(C);
      ASSERT_EQ(cublasSgemm(handle_, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                            m, n, k, &alpha, dA.data(), lda, dB.data(), ldb, &beta, dC.data(), ldc),
                CUBLAS_STATUS_SUCCESS);
      ASSERT_EQ(cudaStreamSynchronize(nullptr), cudaSuccess);  // the handle's stream
      C = dC.get();
      for (size_t i = 0; i < C.size(); ++i)
        EXPECT_NEAR(C[i], expected[i], 1e-5f) << ta << tb << i;
    }
  }
}

TEST_F(CublasTest, BetaZeroIgnoresNanInC) {
  const int m = 4, n = 3, k = 2;
  const auto A = random_matrix(m * k, 4);
  const auto B = random_matrix(k * n, 5);
  std::vector<float> C(m * n, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> expected(m * n, 0.0f);
  const float alpha = 1.0f, beta = 0.0f;
  reference_gemm(false, false, m, n, k, alpha, A.data(), m, B.data(), k, beta, expected.data(), m);
  const DeviceVector<float> dA(A), dB(B), dC(C);
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, dA.data(), m, dB.data(),
                        k, &beta, dC.data(), m),
            CUBLAS_STATUS_SUCCESS);
  C = dC.get();
  for (int i = 0; i < m * n; ++i)
    EXPECT_NEAR(C[i], expected[i], 1e-5f) << i;
}

TEST_F(CublasTest, SgemmStridedBatchedMatchesPerBatchLoop) {
  const int m = 6, n = 4, k = 3, batches = 5;
  const long long sa = m * k + 2, sb = k * n + 1, sc = m * n + 4;
  const auto A = random_matrix(sa * batches, 6);
  const auto B = random_matrix(sb * batches, 7);
  auto C = random_matrix(sc * batches, 8);
  auto expected = C;
  const float alpha = 0.75f, beta = 2.0f;
  for (int b = 0; b < batches; ++b) {
    reference_gemm(true, false, m, n, k, alpha, A.data() + b * sa, k, B.data() + b * sb, k, beta,
                   expected.data() + b * sc, m);
  }
  const DeviceVector<float> dA(A), dB(B), dC(C);
  ASSERT_EQ(cublasSgemmStridedBatched(handle_, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, dA.data(),
                                      k, sa, dB.data(), k, sb, &beta, dC.data(), m, sc, batches),
            CUBLAS_STATUS_SUCCESS);
  C = dC.get();
  for (size_t i = 0; i < C.size(); ++i)
    EXPECT_NEAR(C[i], expected[i], 1e-5f) << i;
}

// Like a kernel, a cuBLAS call runs on the handle's stream: its result is there only after the host
// synchronises with that stream, and a sync with another stream does not bring it.
TEST_F(CublasTest, SgemmRunsWhenItsStreamIsSynchronised) {
  if (ge::emu_test::launch_blocking()) GTEST_SKIP() << "CUDA_LAUNCH_BLOCKING=1";
  cudaStream_t stream = nullptr, other = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cublasSetStream(handle_, stream), CUBLAS_STATUS_SUCCESS);
  const DeviceVector<float> A(4, 1.0f), B(4, 2.0f), C(4, -1.0f);
  const float alpha = 1.0f, beta = 0.0f;
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &alpha, A.data(), 2, B.data(),
                        2, &beta, C.data(), 2),
            CUBLAS_STATUS_SUCCESS);
  // Device memory is host memory here, so the host can look before it synchronises.
  EXPECT_EQ(C.data()[0], -1.0f);
  ASSERT_EQ(cudaStreamSynchronize(other), cudaSuccess);
  EXPECT_EQ(C.data()[0], -1.0f);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(C.data()[0], 4.0f);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(other), cudaSuccess);
}

// A host matrix makes the call's kernel fault on a GPU; the error surfaces at the synchronisation.
TEST_F(CublasTest, HostMatrixIsAnIllegalAddressAtTheNextSynchronisation) {
  if (ge::emu_test::launch_blocking()) GTEST_SKIP() << "CUDA_LAUNCH_BLOCKING=1";
  const DeviceVector<float> A(4, 1.0f), B(4, 2.0f);
  std::vector<float> C(4, -1.0f);
  const float alpha = 1.0f, beta = 0.0f;
  (void)cudaGetLastError();
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &alpha, A.data(), 2, B.data(),
                        2, &beta, C.data(), 2),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  EXPECT_NE(ge::emu::last_error_detail().find("cublasSgemm: matrix C"), std::string::npos)
      << ge::emu::last_error_detail();
  EXPECT_EQ(C, std::vector<float>(4, -1.0f));
  (void)cudaGetLastError();
}

TEST_F(CublasTest, ArgumentChecksMatchCublas) {
  std::vector<float> A(64), B(64), C(64);
  const float one = 1.0f;
  EXPECT_EQ(cublasSgemm(nullptr, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, A.data(), 4, B.data(), 4,
                        &one, C.data(), 4),
            CUBLAS_STATUS_NOT_INITIALIZED);
  EXPECT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, A.data(), 3, B.data(), 4,
                        &one, C.data(), 4),
            CUBLAS_STATUS_INVALID_VALUE);  // lda < m
  EXPECT_EQ(cublasSgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, 4, 4, 5, &one, A.data(), 4, B.data(), 5,
                        &one, C.data(), 4),
            CUBLAS_STATUS_INVALID_VALUE);  // lda < k for a transposed A
  EXPECT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_T, 4, 6, 4, &one, A.data(), 4, B.data(), 4,
                        &one, C.data(), 4),
            CUBLAS_STATUS_INVALID_VALUE);  // ldb < n for a transposed B
  EXPECT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, A.data(), 4, B.data(), 4,
                        &one, C.data(), 2),
            CUBLAS_STATUS_INVALID_VALUE);  // ldc < m
  EXPECT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, -1, 4, 4, &one, A.data(), 4, B.data(), 4,
                        &one, C.data(), 4),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSgemmStridedBatched(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, A.data(), 2,
                                      4, B.data(), 2, 4, &one, C.data(), 2, 4, -1),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 0, 0, 0, &one, A.data(), 1, B.data(), 1,
                        &one, C.data(), 1),
            CUBLAS_STATUS_SUCCESS);
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(0x1);
  EXPECT_EQ(cublasSetStream(handle_, nullptr), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasGetStream(handle_, &stream), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(stream, nullptr);
  EXPECT_EQ(cublasSetMathMode(handle_, CUBLAS_TF32_TENSOR_OP_MATH), CUBLAS_STATUS_SUCCESS);
  EXPECT_STREQ(cublasGetStatusName(CUBLAS_STATUS_INVALID_VALUE), "CUBLAS_STATUS_INVALID_VALUE");
}

}  // namespace
