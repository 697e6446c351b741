// The implicit-GEMM packers (cpu/conv_pack.h) against im2col written out from its definition:
// every panel value of blocks that start and end mid-panel and mid-depth, for strides, padding
// wider than the kernel's reach, groups and chunks that start past the first sample.
#include "cpu/conv_pack.h"

#include <algorithm>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "cpu/cpu_isa.h"
#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

constexpr int64_t kWidth = cpu::kConvPackWidth;
constexpr std::align_val_t kAlign{64};
struct AlignedFree {
  void operator()(float* p) const { ::operator delete[](p, kAlign); }
};

struct Chunk {
  ConvShape s;
  int64_t n0, count, g;
};

std::string describe(const Chunk& c) {
  const ConvShape& s = c.s;
  return "in " + std::to_string(s.in_c) + "x" + std::to_string(s.in_h) + "x" +
         std::to_string(s.in_w) + " out_c " + std::to_string(s.out_c) + " k " +
         std::to_string(s.kh) + "x" + std::to_string(s.kw) + " stride " +
         std::to_string(s.stride_h) + "x" + std::to_string(s.stride_w) + " pad " +
         std::to_string(s.pad_h) + "x" + std::to_string(s.pad_w) + " groups " +
         std::to_string(s.groups) + " samples " + std::to_string(c.n0) + "+" +
         std::to_string(c.count) + " group " + std::to_string(c.g);
}

// col[p][j] of the chunk: p = (c, ki, kj) within the group, j = sample * L + oy * out_w + ox.
float column(const Chunk& c, const std::vector<float>& x, int64_t p, int64_t j) {
  const ConvShape& s = c.s;
  const int64_t cin_g = s.in_c / s.groups, l_count = s.out_h * s.out_w;
  const int64_t ch = p / (s.kh * s.kw), ki = p / s.kw % s.kh, kj = p % s.kw;
  const int64_t n = c.n0 + j / l_count, oy = j % l_count / s.out_w, ox = j % s.out_w;
  const int64_t y = oy * s.stride_h - s.pad_h + ki, xx = ox * s.stride_w - s.pad_w + kj;
  if (y < 0 || y >= s.in_h || xx < 0 || xx >= s.in_w) return 0.f;
  return x[static_cast<size_t>(((n * s.in_c + c.g * cin_g + ch) * s.in_h + y) * s.in_w + xx)];
}

ConvShape shape(int64_t batch, int64_t in_c, int64_t hw, int64_t out_c, int64_t k, int64_t stride,
                int64_t pad, int64_t groups) {
  ConvShape s;
  s.batch = batch;
  s.in_c = in_c, s.in_h = hw, s.in_w = hw + 1;  // not square: rows and columns apart
  s.out_c = out_c;
  s.kh = k, s.kw = k;
  s.stride_h = stride, s.stride_w = stride;
  s.pad_h = pad, s.pad_w = pad;
  s.groups = groups;
  s.out_h = (s.in_h + 2 * pad - k) / stride + 1;
  s.out_w = (s.in_w + 2 * pad - k) / stride + 1;
  return s;
}

class ConvPackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu::isa_supported(cpu::CpuIsa::avx512)) GTEST_SKIP() << "this CPU lacks AVX-512";
  }

  // Packs blocks [j0, j0 + nc) x [p0, p0 + kc) of B (col, or col^T when `transposed`) and
  // compares every value of the panels, padding lanes included.
  void check(const Chunk& c, bool transposed) {
    SCOPED_TRACE(describe(c) + (transposed ? " transposed" : ""));
    const ConvShape& s = c.s;
    ASSERT_TRUE(cpu::conv_pack_fits(s, c.count));
    const std::vector<float> x = lcg(s.batch * s.in_c * s.in_h * s.in_w, 41);
    const int64_t taps = s.in_c / s.groups * s.kh * s.kw;
    const int64_t positions = c.count * s.out_h * s.out_w;
    const int64_t n = transposed ? taps : positions, k = transposed ? positions : taps;
    const cpu::ConvColumns columns{&s, x.data(), c.n0, c.count, c.g};
    const cpu::GemmPackB pack = transposed ? cpu::conv_pack_columns_transposed_avx512(columns)
                                           : cpu::conv_pack_columns_avx512(columns);
    int64_t bad = 0;
    for (const int64_t j0 : {int64_t{0}, n / 3}) {
      for (const int64_t p0 : {int64_t{0}, k / 2 + 1}) {
        const int64_t nc = n - j0, kc = std::min<int64_t>(k - p0, 37);
        if (nc <= 0 || kc <= 0) continue;
        const int64_t panels = (nc + kWidth - 1) / kWidth;
        // The GEMM's packing space is 64-byte aligned; -1 marks values never written.
        const size_t floats = static_cast<size_t>(panels * kc * kWidth);
        std::unique_ptr<float, AlignedFree> buffer(
            static_cast<float*>(::operator new[](floats * sizeof(float), kAlign)));
        float* const out = buffer.get();
        std::fill(out, out + floats, -1.f);
        pack.pack(pack.source, j0, nc, p0, kc, out);
        for (int64_t t = 0; t < panels; ++t)
          for (int64_t p = 0; p < kc; ++p)
            for (int64_t lane = 0; lane < kWidth; ++lane) {
              const int64_t j = j0 + t * kWidth + lane;
              float want = 0.f;
              if (j < j0 + nc)
                want = transposed ? column(c, x, j, p0 + p) : column(c, x, p0 + p, j);
              const float got = out[static_cast<size_t>((t * kc + p) * kWidth + lane)];
              if (got != want && bad++ < 5)
                ADD_FAILURE() << "block at j0 " << j0 << ", p0 " << p0 << ": B(" << p0 + p << ", "
                              << j << ") = " << got << ", expected " << want;
            }
      }
    }
    EXPECT_EQ(bad, 0);
  }
};

TEST_F(ConvPackTest, ColumnsMatchIm2col) {
  const Chunk chunks[] = {
      {shape(3, 4, 9, 8, 4, 2, 1, 1), 0, 3, 0},    // the DCGAN layers' 4x4 / 2 / 1
      {shape(5, 3, 7, 6, 3, 1, 1, 1), 2, 2, 0},    // 3x3 same padding, a chunk from sample 2
      {shape(2, 6, 8, 4, 5, 2, 2, 2), 1, 1, 1},    // groups: the second group's channels
      {shape(2, 2, 5, 2, 3, 3, 4, 1), 0, 2, 0},    // padding beyond the kernel's reach
      {shape(4, 1, 28, 64, 4, 2, 1, 1), 1, 3, 0},  // one channel, many positions
      {shape(2, 2, 6, 3, 1, 1, 0, 1), 0, 2, 0},    // 1x1
  };
  for (const Chunk& c : chunks) {
    check(c, false);
    check(c, true);
  }
}

TEST_F(ConvPackTest, OffsetsBeyondThirtyTwoBitsAreRefused) {
  const ConvShape s = shape(1, 40000, 200, 1, 3, 1, 1, 1);  // 1.6e9 floats a sample
  EXPECT_TRUE(cpu::conv_pack_fits(s, 1));
  EXPECT_FALSE(cpu::conv_pack_fits(s, 2));
}

TEST(ConvPhase, EveryPixelLiesInOnePhaseWithItsTaps) {
  // Pixel i of an axis sums the kernel positions k with i + pad - k a multiple of the stride;
  // its phase is (i + pad) mod stride.
  for (int64_t size : {1, 5, 14, 15})
    for (int64_t kernel : {1, 3, 4, 5})
      for (int64_t stride : {1, 2, 3})
        for (int64_t pad = 0; pad < kernel; ++pad) {
          SCOPED_TRACE("size " + std::to_string(size) + " kernel " + std::to_string(kernel) +
                       " stride " + std::to_string(stride) + " pad " + std::to_string(pad));
          std::vector<int> seen(static_cast<size_t>(size), 0);
          for (int64_t r = 0; r < stride; ++r) {
            const cpu::PhaseAxis a = cpu::phase_axis(size, kernel, stride, pad, r);
            for (int64_t m = a.m_lo; m < a.m_lo + a.count; ++m) {
              const int64_t i = r - pad + m * stride;
              ASSERT_TRUE(i >= 0 && i < size) << "phase " << r << " m " << m;
              ++seen[static_cast<size_t>(i)];
              // The kernel positions whose tap lands on i (before the output's bounds, which
              // the packer masks): k with i + pad - k a multiple of the stride.
              int64_t taps = 0;
              for (int64_t k = 0; k < kernel; ++k)
                taps += ((i + pad - k) % stride + stride) % stride == 0;
              EXPECT_EQ(a.taps, taps) << "phase " << r << ", pixel " << i;
              EXPECT_EQ((i + pad) % stride, r) << "pixel " << i;
            }
          }
          for (int64_t i = 0; i < size; ++i)
            EXPECT_EQ(seen[static_cast<size_t>(i)], 1) << "pixel " << i;
        }
}

}  // namespace
}  // namespace ge::kernels::testing
