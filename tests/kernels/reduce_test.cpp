// Reduce launcher on cpu and cuda against double-precision references.
#include "ganengine/kernels/reduce.h"

#include <cmath>
#include <limits>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

std::vector<double> reduce_ref(ReduceOp op, const std::vector<float>& x, int64_t outer, int64_t r,
                               int64_t inner) {
  std::vector<double> y(static_cast<size_t>(outer * inner));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      double acc = op == ReduceOp::Max ? -INFINITY : op == ReduceOp::Min ? INFINITY : 0.0;
      bool nan = false;
      for (int64_t j = 0; j < r; ++j) {
        const double v = x[(o * r + j) * inner + i];
        nan = nan || std::isnan(v);
        acc = op == ReduceOp::Max   ? std::max(acc, v)
              : op == ReduceOp::Min ? std::min(acc, v)
                                    : acc + v;
      }
      if (op == ReduceOp::Mean) acc /= static_cast<double>(r);
      if (nan) acc = std::numeric_limits<double>::quiet_NaN();
      y[o * inner + i] = acc;
    }
  }
  return y;
}

class ReduceTest : public KernelTest {
 protected:
  void run(ReduceOp op, const float* x, float* y, int64_t outer, int64_t r, int64_t inner) {
    if (cuda()) {
      cuda::reduce(op, x, y, outer, r, inner, nullptr);
    } else {
      cpu::reduce(op, x, y, outer, r, inner);
    }
  }
};

constexpr ReduceOp kOps[] = {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min};

TEST_P(ReduceTest, ShapesAndOpsMatchReference) {
  struct Case {
    int64_t outer, r, inner;
  };
  const Case cases[] = {
      {1, 100003, 1},                // one long row: block per row, float4 body with a tail
      {37, 1000, 1},                 // rows starting misaligned (r % 4 == 0 but input at base + 1)
      {1000, 7, 1},                  // many short rows: warp per row
      {5, 257, 1},                   // just above the warp-per-row limit
      {3, 1, 5},                     // r == 1
      {1, 1, 1},      {2, 333, 17},  // inner > 1, partial column tile
      {1, 4096, 64},                 // few columns, long r
      {5, 3, 1000},   {300, 50, 2}, {70000, 2, 1},  // more rows than one grid pass of warps
  };
  for (const Case& c : cases) {
    const int64_t n = c.outer * c.r * c.inner;
    const std::vector<float> x = lcg(n, 7, -1.f, 2.f);
    for (int64_t shift : {0, 1}) {
      Buffer xb(GetParam(), x, shift), yb(GetParam(), c.outer * c.inner);
      for (ReduceOp op : kOps) {
        run(op, xb.data(shift), yb.data(), c.outer, c.r, c.inner);
        // Float accumulation over r terms of magnitude <= 2.
        const double atol = op == ReduceOp::Sum ? 1e-6 * static_cast<double>(c.r) + 1e-5 : 2e-5;
        EXPECT_TRUE(close(yb.download(), reduce_ref(op, x, c.outer, c.r, c.inner), atol, 1e-5))
            << name(op) << " [" << c.outer << ", " << c.r << ", " << c.inner << "] +" << shift;
      }
    }
  }
}

TEST_P(ReduceTest, MaxAndMinPropagateNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t inner : {1, 3}) {
    for (int64_t r : {5, 600}) {
      std::vector<float> x = lcg(2 * r * inner, 9);
      x[(r / 2) * inner] = nan;                  // row 0, column 0
      x[(r + r - 1) * inner + inner - 1] = nan;  // row 1, last column, last element
      Buffer xb(GetParam(), x), yb(GetParam(), 2 * inner);
      for (ReduceOp op : kOps) {
        run(op, xb.data(), yb.data(), 2, r, inner);
        EXPECT_TRUE(close(yb.download(), reduce_ref(op, x, 2, r, inner), 1e-4, 1e-5))
            << name(op) << " r " << r << " inner " << inner;
      }
    }
  }
}

TEST_P(ReduceTest, EmptyShapes) {
  Buffer yb(GetParam(), 4);
  run(ReduceOp::Sum, nullptr, nullptr, 0, 5, 3);  // no output: no-op
  run(ReduceOp::Sum, nullptr, yb.data(), 2, 0, 2);
  EXPECT_EQ(yb.download(4), std::vector<float>(4, 0.f));
  run(ReduceOp::Mean, nullptr, yb.data(), 1, 0, 1);
  EXPECT_TRUE(std::isnan(yb.download(1)[0]));
  EXPECT_THAT(error_of([&] { run(ReduceOp::Max, nullptr, yb.data(), 1, 0, 1); }),
              HasSubstr("reduce(max): expected r > 0"));
}

TEST_P(ReduceTest, ValidatesArguments) {
  float v = 0.f;
  EXPECT_THAT(error_of([&] { run(ReduceOp::Sum, &v, &v, 1, -3, 1); }),
              HasSubstr("reduce(sum): expected non-negative outer, r, inner, got [1, -3, 1]"));
  EXPECT_THAT(error_of([&] { run(ReduceOp::Min, nullptr, &v, 1, 2, 1); }),
              HasSubstr("reduce(min): expected a non-null input"));
  EXPECT_THAT(error_of([&] { run(ReduceOp::Mean, &v, nullptr, 1, 1, 1); }),
              HasSubstr("reduce(mean): expected a non-null output"));
}

GE_INSTANTIATE_KERNEL_TEST(ReduceTest);

}  // namespace
}  // namespace ge::kernels::testing
