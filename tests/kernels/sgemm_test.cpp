// The CPU SGEMM on each instruction set this machine runs (scalar, AVX2, AVX-512), against a
// double-precision triple loop: every transpose, edges of the register tile and of the cache
// blocks, leading dimensions with padding, alpha and beta (beta == 0 overwriting NaN), k == 0;
// and the summation order of an element, which must not depend on its place in C.
#include "cpu/sgemm.h"

#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "cpu/cpu_isa.h"
#include "ganengine/error.h"
#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using cpu::CpuIsa;
using ::testing::HasSubstr;

struct Case {
  bool ta, tb;
  int64_t m, n, k;
  float alpha, beta;
  int64_t pad = 0;  // extra elements per row of every operand
};

std::string describe(const Case& c) {
  return std::string("ta ") + (c.ta ? "1" : "0") + " tb " + (c.tb ? "1" : "0") + " m " +
         std::to_string(c.m) + " n " + std::to_string(c.n) + " k " + std::to_string(c.k) +
         " alpha " + std::to_string(c.alpha) + " beta " + std::to_string(c.beta) + " pad " +
         std::to_string(c.pad);
}

class SgemmTest : public ::testing::TestWithParam<CpuIsa> {
 protected:
  void SetUp() override {
    if (!cpu::isa_supported(GetParam()))
      GTEST_SKIP() << "this CPU does not support " << cpu::isa_name(GetParam());
  }

  // Runs one product over operands with padded rows; checks C element by element against the
  // reference (padding of C untouched) with a bound from the sum of |terms|.
  void check(const Case& c) {
    SCOPED_TRACE(describe(c));
    const int64_t lda = (c.ta ? c.m : c.k) + c.pad, ldb = (c.tb ? c.k : c.n) + c.pad;
    const int64_t ldc = c.n + c.pad;
    const int64_t a_rows = c.ta ? c.k : c.m, b_rows = c.tb ? c.n : c.k;
    const std::vector<float> a = lcg(a_rows * lda, 11), b = lcg(b_rows * ldb, 12);
    std::vector<float> out = lcg(c.m * ldc, 13);
    if (c.beta == 0.f) {
      for (size_t i = 0; i < out.size(); i += 3)
        out[i] = std::numeric_limits<float>::quiet_NaN();
    }
    const std::vector<float> before = out;
    cpu::sgemm(GetParam(), c.ta, c.tb, c.m, c.n, c.k, c.alpha, a.data(), lda, b.data(), ldb, c.beta,
               out.data(), ldc);
    int64_t bad = 0;
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < ldc; ++j) {
        const size_t at = static_cast<size_t>(i * ldc + j);
        if (j >= c.n) {  // padding
          const bool same = std::isnan(before[at]) ? std::isnan(out[at]) : out[at] == before[at];
          if (!same && bad++ < 5) ADD_FAILURE() << "padding of C changed at " << i << ", " << j;
          continue;
        }
        double sum = 0, bound = 0;
        for (int64_t p = 0; p < c.k; ++p) {
          const double av = a[static_cast<size_t>(c.ta ? p * lda + i : i * lda + p)];
          const double bv = b[static_cast<size_t>(c.tb ? j * ldb + p : p * ldb + j)];
          sum += av * bv;
          bound += std::fabs(av * bv);
        }
        const double old = c.beta == 0.f ? 0.0 : static_cast<double>(before[at]);
        const double want = c.alpha * sum + c.beta * old;
        const double tol = 1e-6 * (std::fabs(c.alpha) * bound * (1 + static_cast<double>(c.k) / 8) +
                                   std::fabs(c.beta * old)) +
                           1e-30;
        if (!(std::fabs(out[at] - want) <= tol) && bad++ < 5) {
          ADD_FAILURE() << "C[" << i << "][" << j << "] = " << out[at] << ", expected " << want
                        << " (tolerance " << tol << ")";
        }
      }
    }
    EXPECT_EQ(bad, 0);
  }
};

TEST_P(SgemmTest, EveryTransposeAcrossTileEdges) {
  // 1, 5, 17 and 50 cut the register tiles of every set (4x8, 6x16, 8x48) short.
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t m : {1, 5, 17})
        for (int64_t n : {1, 17, 50})
          check({ta, tb, m, n, 9, 1.f, 0.f});
}

TEST_P(SgemmTest, DepthsAcrossCacheBlocks) {
  // 255 to 257 and 600 cross the 256-deep blocks of the sum.
  for (int64_t k : {1, 2, 255, 256, 257, 600})
    check({false, false, 13, 53, k, 1.f, 0.f});
  check({true, true, 13, 53, 600, 1.f, 0.f});
}

TEST_P(SgemmTest, RowsAndColumnsAcrossCacheBlocks) {
  // More rows than an mc block (at most 192) and more columns than an nc block (at most 3072).
  check({false, false, 397, 41, 31, 1.f, 0.f});
  check({true, false, 397, 41, 31, 1.f, 0.f});
  check({false, true, 9, 3100, 20, 1.f, 0.f});
}

TEST_P(SgemmTest, AlphaBetaAndPaddedRows) {
  for (float beta : {0.f, 1.f, -0.75f}) {
    check({false, false, 19, 37, 300, -1.5f, beta, 3});
    check({true, true, 19, 37, 300, 0.5f, beta, 5});
  }
}

TEST_P(SgemmTest, DepthZeroScalesC) {
  for (float beta : {0.f, 2.f})
    check({false, false, 7, 21, 0, 1.f, beta});
}

TEST_P(SgemmTest, AnElementsSumDoesNotDependOnItsPlaceInC) {
  // Row 21 of a 29-row product (inside a tile or on its edge, depending on the set) must equal
  // the same row computed alone, bit for bit; likewise column 50 of 67 against a one-column
  // product.
  const int64_t m = 29, n = 67, k = 300;
  const std::vector<float> a = lcg(m * k, 21), b = lcg(k * n, 22);
  std::vector<float> full(m * n), row(n), col(m);
  cpu::sgemm(GetParam(), false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, full.data(), n);
  cpu::sgemm(GetParam(), false, false, 1, n, k, 1.f, a.data() + 21 * k, k, b.data(), n, 0.f,
             row.data(), n);
  cpu::sgemm(GetParam(), false, false, m, 1, k, 1.f, a.data(), k, b.data() + 50, n, 0.f, col.data(),
             1);
  for (int64_t j = 0; j < n; ++j)
    EXPECT_EQ(row[j], full[21 * n + j]) << "column " << j;
  for (int64_t i = 0; i < m; ++i)
    EXPECT_EQ(col[i], full[i * n + 50]) << "row " << i;
}

// A GemmPackB over a row-major B in memory, packing as the set's panels expect.
struct MatrixB {
  const float* b;
  int64_t ldb, nr;
  static void pack(const void* source, int64_t j0, int64_t nc, int64_t p0, int64_t kc, float* out) {
    const MatrixB& m = *static_cast<const MatrixB*>(source);
    for (int64_t jr = 0; jr < nc; jr += m.nr, out += kc * m.nr)
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t j = 0; j < m.nr; ++j)
          out[p * m.nr + j] = jr + j < nc ? m.b[(p0 + p) * m.ldb + j0 + jr + j] : 0.f;
  }
};

TEST_P(SgemmTest, SelfPackingBGivesTheSameBits) {
  // Across the depth, row and column blocks: the packer's panels feed the same sums.
  for (const auto& [m, n, k] :
       {std::array<int64_t, 3>{13, 53, 600}, {397, 41, 31}, {9, 3100, 20}}) {
    for (bool ta : {false, true}) {
      SCOPED_TRACE("m " + std::to_string(m) + " n " + std::to_string(n) + " k " +
                   std::to_string(k) + " ta " + std::to_string(ta));
      const int64_t lda = ta ? m : k;
      const std::vector<float> a = lcg(m * k, 31), b = lcg(k * n, 32);
      std::vector<float> want = lcg(m * n, 33), got = want;
      cpu::sgemm(GetParam(), ta, false, m, n, k, 0.5f, a.data(), lda, b.data(), n, 1.f, want.data(),
                 n);
      const MatrixB source{b.data(), n, cpu::sgemm_panel_width(GetParam())};
      cpu::sgemm(GetParam(), ta, m, n, k, 0.5f, a.data(), lda, {MatrixB::pack, &source}, 1.f,
                 got.data(), n);
      EXPECT_EQ(got, want);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, SgemmTest,
                         ::testing::Values(CpuIsa::scalar, CpuIsa::avx2, CpuIsa::avx512),
                         [](const ::testing::TestParamInfo<CpuIsa>& info) {
                           return std::string(cpu::isa_name(info.param));
                         });

// The CPU's flags as the kernel reports them (/proc/cpuinfo), or "" where there is no such file.
std::string cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) == 0) return line + " ";
  }
  return {};
}

TEST(CpuIsa, SupportMatchesTheKernelsCpuFlags) {
  const std::string flags = cpu_flags();
  if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo";
  const auto has = [&](const char* f) {
    return flags.find(std::string(" ") + f + " ") != std::string::npos;
  };
  EXPECT_TRUE(cpu::isa_supported(CpuIsa::scalar));
  EXPECT_EQ(cpu::isa_supported(CpuIsa::avx2), has("avx2") && has("fma"));
  EXPECT_EQ(cpu::isa_supported(CpuIsa::avx512), has("avx512f") && has("avx2") && has("fma"));
  const CpuIsa widest = has("avx512f") ? CpuIsa::avx512
                        : has("avx2")  ? CpuIsa::avx2
                                       : CpuIsa::scalar;
  EXPECT_EQ(cpu::detected_isa(), widest);
}

TEST(CpuIsa, NamesParse) {
  for (CpuIsa isa : {CpuIsa::scalar, CpuIsa::avx2, CpuIsa::avx512})
    EXPECT_EQ(cpu::parse_isa(cpu::isa_name(isa), "test"), isa);
  try {
    cpu::parse_isa("avx3", "GE_CPU_ISA");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("GE_CPU_ISA: expected scalar, avx2 or avx512, got 'avx3'"));
  }
}

TEST(CpuIsa, SetCpuIsaSwitchesAndRestores) {
  const CpuIsa start = cpu::active_isa();
  EXPECT_EQ(cpu::set_cpu_isa(CpuIsa::scalar), start);
  EXPECT_EQ(cpu::active_isa(), CpuIsa::scalar);
  EXPECT_EQ(cpu::set_cpu_isa(start), CpuIsa::scalar);
  EXPECT_EQ(cpu::active_isa(), start);
}

}  // namespace
}  // namespace ge::kernels::testing
