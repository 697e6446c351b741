// Batched row-major GEMM on cpu and cuda against a double-precision triple loop; on cuda also
// with TF32 math, against the loop on TF32-rounded inputs.
#include "ganengine/kernels/matmul.h"

#include "kernel_test_util.h"
#include "support/tf32_reference.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

// C_b = alpha * op(A_b) op(B_b) + beta * C_b over the whole C buffer (elements outside the
// matrices keep their values).
std::vector<double> gemm_ref(const GemmArgs& g, const std::vector<float>& a,
                             const std::vector<float>& b, const std::vector<float>& c) {
  std::vector<double> out(c.begin(), c.end());
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    for (int64_t i = 0; i < g.m; ++i) {
      for (int64_t j = 0; j < g.n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < g.k; ++p) {
          const double av = a[bi * g.stride_a + (g.trans_a ? p * g.lda + i : i * g.lda + p)];
          const double bv = b[bi * g.stride_b + (g.trans_b ? j * g.ldb + p : p * g.ldb + j)];
          acc += av * bv;
        }
        double& o = out[bi * g.stride_c + i * g.ldc + j];
        o = g.alpha * acc + (g.beta == 0.f ? 0.0 : g.beta * o);
      }
    }
  }
  return out;
}

class GemmTest : public KernelTest {
 protected:
  void run(const GemmArgs& g) {
    if (cuda()) {
      cuda::gemm(g, nullptr);
    } else {
      cpu::gemm(g);
    }
  }

  // Fills A, B, C with stored sizes implied by g (ld padding and batch strides included),
  // runs, and compares the whole C buffer.
  void check(GemmArgs g) {
    const int64_t a_rows = g.trans_a ? g.k : g.m, b_rows = g.trans_b ? g.n : g.k;
    const int64_t a_len = (g.batch - 1) * g.stride_a + a_rows * g.lda;
    const int64_t b_len = (g.batch - 1) * g.stride_b + b_rows * g.ldb;
    const int64_t c_len = (g.batch - 1) * g.stride_c + g.m * g.ldc;
    const std::vector<float> a = lcg(a_len, 1), b = lcg(b_len, 2), c = lcg(c_len, 3);
    Buffer ab(GetParam(), a), bb(GetParam(), b), cb(GetParam(), c);
    g.a = ab.data();
    g.b = bb.data();
    g.c = cb.data();
    run(g);
    EXPECT_TRUE(close(cb.download(c_len), gemm_ref(g, a, b, c), 1e-5, 1e-5))
        << "trans_a " << g.trans_a << " trans_b " << g.trans_b << " m " << g.m << " n " << g.n
        << " k " << g.k << " batch " << g.batch;
  }
};

GemmArgs args(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad = 0) {
  GemmArgs g;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m, g.n = n, g.k = k;
  g.lda = (ta ? m : k) + pad;
  g.ldb = (tb ? k : n) + pad;
  g.ldc = n + pad;
  return g;
}

TEST_P(GemmTest, AllTransposeCombinations) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      check(args(ta, tb, 5, 7, 3));
      check(args(ta, tb, 33, 17, 65, 3));  // padded leading dims
    }
  }
}

TEST_P(GemmTest, AlphaBetaAndKZero) {
  GemmArgs g = args(false, true, 6, 4, 9);
  g.alpha = 1.5f;
  g.beta = 0.5f;
  check(g);
  g.k = 0;  // C = beta * C
  check(g);
  g.beta = 0.f;  // C = 0, whatever C held
  check(g);
}

TEST_P(GemmTest, BatchedAndBroadcastBatch) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      GemmArgs g = args(ta, tb, 4, 6, 5, 1);
      g.batch = 3;
      g.stride_a = (ta ? 5 : 4) * g.lda + 2;
      g.stride_b = (tb ? 6 : 5) * g.ldb + 1;
      g.stride_c = 4 * g.ldc + 3;
      g.beta = 1.f;
      check(g);
      g.stride_b = 0;  // one B for every batch, as in x @ W
      check(g);
      g.stride_a = 0;
      g.stride_b = (tb ? 6 : 5) * g.ldb;
      check(g);
    }
  }
}

// Above the threading grain one product is cut into blocks of rows (tall C) or of columns (wide
// C), as many as its size gives (not the thread count): every block edge, and the ragged last
// block, must land where it belongs.
TEST_P(GemmTest, LargeProductsSplitIntoBlocks) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      check(args(ta, tb, 300, 257, 129, 2));
      GemmArgs g = args(ta, tb, 37, 600, 129, 1);
      g.alpha = 0.5f;
      g.beta = 1.f;
      check(g);
    }
  }
}

// A batch of several products is spread over the batch instead, each product whole.
TEST_P(GemmTest, LargeBatchSplitsOverProducts) {
  for (bool tb : {false, true}) {
    GemmArgs g = args(false, tb, 64, 48, 96, 3);
    g.batch = 5;
    g.stride_a = 64 * g.lda;
    g.stride_b = 0;
    g.stride_c = 64 * g.ldc + 5;
    g.beta = 0.5f;
    check(g);
  }
}

// Each element of C comes from one call, never from partial sums that threads add in whatever
// order they finish: a split product repeats bit for bit.
TEST_P(GemmTest, SplitProductIsRepeatable) {
  const GemmArgs shape = args(false, false, 300, 257, 129);
  const std::vector<float> a = lcg(300 * 129, 4), b = lcg(129 * 257, 5);
  Buffer ab(GetParam(), a), bb(GetParam(), b);
  std::vector<std::vector<float>> results;
  for (int rep = 0; rep < 3; ++rep) {
    Buffer cb(GetParam(), int64_t{300 * 257});
    GemmArgs g = shape;
    g.a = ab.data();
    g.b = bb.data();
    g.c = cb.data();
    run(g);
    results.push_back(cb.download(300 * 257));
  }
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
}

TEST_P(GemmTest, EmptyIsNoOp) {
  run(args(false, false, 0, 4, 3));
  GemmArgs g = args(false, false, 3, 4, 5);
  g.batch = 0;
  run(g);
}

TEST_P(GemmTest, ValidatesLeadingDimensions) {
  float v = 0.f;
  GemmArgs g = args(false, false, 4, 6, 5);
  g.a = g.b = &v;
  g.c = &v;
  g.lda = 4;
  EXPECT_THAT(error_of([&] { run(g); }), HasSubstr("gemm: expected lda >= 5 (A is 4x5), got 4"));
  g = args(true, false, 4, 6, 5);
  g.a = g.b = &v;
  g.c = &v;
  g.lda = 3;
  EXPECT_THAT(error_of([&] { run(g); }),
              HasSubstr("gemm: expected lda >= 4 (A is 5x4, transposed), got 3"));
  g = args(false, true, 4, 6, 5);
  g.a = g.b = &v;
  g.c = &v;
  g.ldb = 2;
  EXPECT_THAT(error_of([&] { run(g); }),
              HasSubstr("gemm: expected ldb >= 5 (B is 6x5, transposed), got 2"));
  g = args(false, false, 4, 6, 5);
  g.a = g.b = &v;
  g.c = &v;
  g.ldc = 5;
  EXPECT_THAT(error_of([&] { run(g); }), HasSubstr("gemm: expected ldc >= 6 (C is 4x6), got 5"));
  g.ldc = 6;
  g.batch = 2;
  g.stride_c = 10;
  EXPECT_THAT(error_of([&] { run(g); }), HasSubstr("gemm: expected stride_c >= 24"));
  g.batch = 1;
  g.a = nullptr;
  EXPECT_THAT(error_of([&] { run(g); }), HasSubstr("gemm: expected non-null A and B for k = 5"));
  g.m = -1;
  EXPECT_THAT(error_of([&] { run(g); }), HasSubstr("gemm: expected non-negative m, n, k"));
}

GE_INSTANTIATE_KERNEL_TEST(GemmTest);

// GemmMath::Tf32: the products of TF32-rounded A and B summed in FP32 (C and the scalars stay
// FP32), every transpose combination with padded leading dimensions and a batch; the result also
// differs from the FP32 GEMM's, so the rounding is really applied. The emulator rounds to
// nearest, ties away (cvt.rna); the reference rounds the same way.
TEST(GemmTf32Test, MatchesTheProductOfRoundedInputs) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0)
    GTEST_SKIP() << "no CUDA device (nor the emulator) in this build";
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      GemmArgs g = args(ta, tb, 19, 11, 40, 2);
      g.batch = 2;
      g.stride_a = (ta ? g.k : g.m) * g.lda;
      g.stride_b = (tb ? g.n : g.k) * g.ldb;
      g.stride_c = g.m * g.ldc;
      g.alpha = 0.75f;
      g.beta = 0.5f;
      const int64_t a_len = g.batch * g.stride_a, b_len = g.batch * g.stride_b;
      const int64_t c_len = g.batch * g.stride_c;
      const std::vector<float> a = lcg(a_len, 11), b = lcg(b_len, 12), c = lcg(c_len, 13);
      Buffer ab(Dev::Cuda, a), bb(Dev::Cuda, b), c_tf32(Dev::Cuda, c), c_fp32(Dev::Cuda, c);
      g.a = ab.data();
      g.b = bb.data();
      g.c = c_tf32.data();
      cuda::gemm(g, nullptr, cuda::GemmMath::Tf32);
      g.c = c_fp32.data();
      cuda::gemm(g, nullptr, cuda::GemmMath::Fp32);
      GE_TEST_CUDA(cudaDeviceSynchronize());
      SCOPED_TRACE(::testing::Message() << "trans_a " << ta << " trans_b " << tb);
      const std::vector<float> got = c_tf32.download(c_len);
      EXPECT_TRUE(close(got,
                        gemm_ref(g, ge::testing::tf32_rounded(a), ge::testing::tf32_rounded(b), c),
                        1e-5, 1e-5));
      EXPECT_FALSE(close(got, gemm_ref(g, a, b, c), 1e-5, 1e-5)) << "TF32 changed nothing";
      EXPECT_TRUE(close(c_fp32.download(c_len), gemm_ref(g, a, b, c), 1e-5, 1e-5));
    }
  }
}

}  // namespace
}  // namespace ge::kernels::testing
