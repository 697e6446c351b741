// pairwise_l1 launchers on cpu and cuda against double references written here: distances,
// adjoint and tangent for N = 1, sizes that are not multiples of the CUDA tiles (32 b, 8 rows,
// 8 c per chunk), C over one chunk, exact ties (sign 0) and C = 0; the adjoint and the tangent
// checked as each other's transpose; repeated calls bitwise equal; argument errors.
#include "ganengine/kernels/pairwise_l1.h"

#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

std::string describe(const PairwiseL1Shape& s) {
  return "N " + std::to_string(s.n) + " B " + std::to_string(s.b) + " C " + std::to_string(s.c);
}

double sign_of(double v) {
  return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
}

struct Outputs {
  std::vector<float> d, adjoint, tangent;
};

class PairwiseL1KernelTest : public KernelTest {
 protected:
  Outputs run(const PairwiseL1Shape& s, const std::vector<float>& m, const std::vector<float>& g,
              const std::vector<float>& h) {
    const int64_t rows = s.n * s.b * s.c, pairs = s.n * s.n * s.b;
    const Dev dev = GetParam();
    Buffer mb(dev, m), gb(dev, g), hb(dev, h), db(dev, pairs), ab(dev, rows), tb(dev, pairs);
    launch(
        [&] {
          cuda::pairwise_l1(mb.data(), db.data(), s, nullptr);
          cuda::pairwise_l1_adjoint(mb.data(), gb.data(), ab.data(), s, nullptr);
          cuda::pairwise_l1_tangent(mb.data(), hb.data(), tb.data(), s, nullptr);
        },
        [&] {
          cpu::pairwise_l1(mb.data(), db.data(), s);
          cpu::pairwise_l1_adjoint(mb.data(), gb.data(), ab.data(), s);
          cpu::pairwise_l1_tangent(mb.data(), hb.data(), tb.data(), s);
        });
    return {db.download(pairs), ab.download(rows), tb.download(pairs)};
  }

  // ties: m on a grid of 0.25 in [-1, 1], so many pairs tie exactly.
  void check(const PairwiseL1Shape& s, bool ties = false) {
    SCOPED_TRACE(describe(s) + (ties ? " with ties" : ""));
    const int64_t rows = s.n * s.b * s.c, pairs = s.n * s.n * s.b;
    std::vector<float> m = lcg(rows, 11, -2.f, 2.f);
    if (ties)
      for (float& v : m)
        v = std::round(v * 2.f) / 4.f;
    const std::vector<float> g = lcg(pairs, 12), h = lcg(rows, 13);
    auto mi = [&](int64_t i, int64_t b, int64_t c) {
      return static_cast<double>(m[static_cast<size_t>((i * s.b + b) * s.c + c)]);
    };
    auto at_row = [&](const std::vector<float>& v, int64_t i, int64_t b, int64_t c) {
      return static_cast<double>(v[static_cast<size_t>((i * s.b + b) * s.c + c)]);
    };
    auto at_pair = [&](int64_t i, int64_t j, int64_t b) {
      return static_cast<size_t>((i * s.n + j) * s.b + b);
    };
    std::vector<double> d(static_cast<size_t>(pairs)), tangent(static_cast<size_t>(pairs)),
        adjoint(static_cast<size_t>(rows), 0.0);
    for (int64_t i = 0; i < s.n; ++i)
      for (int64_t j = 0; j < s.n; ++j)
        for (int64_t b = 0; b < s.b; ++b) {
          double dist = 0, tan = 0;
          const double w = static_cast<double>(g[at_pair(i, j, b)]) + g[at_pair(j, i, b)];
          for (int64_t c = 0; c < s.c; ++c) {
            const double sg = sign_of(mi(i, b, c) - mi(j, b, c));
            dist += std::fabs(mi(i, b, c) - mi(j, b, c));
            tan += (at_row(h, i, b, c) - at_row(h, j, b, c)) * sg;
            adjoint[static_cast<size_t>((i * s.b + b) * s.c + c)] += w * sg;
          }
          d[at_pair(i, j, b)] = dist;
          tangent[at_pair(i, j, b)] = tan;
        }
    const Outputs out = run(s, m, g, h);
    EXPECT_TRUE(close(out.d, d, 1e-5, 1e-5)) << "distances";
    EXPECT_TRUE(close(out.adjoint, adjoint, 1e-4, 1e-5)) << "adjoint";
    EXPECT_TRUE(close(out.tangent, tangent, 1e-5, 1e-5)) << "tangent";

    // <tangent(h), g> = <h, adjoint(g)>, both from the kernels' outputs.
    double lhs = 0, rhs = 0, scale = 0;
    for (size_t p = 0; p < out.tangent.size(); ++p) {
      lhs += static_cast<double>(out.tangent[p]) * g[p];
      scale += std::fabs(static_cast<double>(out.tangent[p]) * g[p]);
    }
    for (size_t r = 0; r < out.adjoint.size(); ++r)
      rhs += static_cast<double>(out.adjoint[r]) * h[r];
    EXPECT_NEAR(lhs, rhs, 1e-5 * (1.0 + scale)) << "adjoint and tangent are not transposes";

    // A fixed summation order: a second call gives the same bits.
    const Outputs again = run(s, m, g, h);
    EXPECT_EQ(again.d, out.d);
    EXPECT_EQ(again.adjoint, out.adjoint);
    EXPECT_EQ(again.tangent, out.tangent);
  }
};

TEST_P(PairwiseL1KernelTest, MatchesReference) {
  const PairwiseL1Shape cases[] = {
      {1, 3, 2},     // N = 1: only the diagonal, all zeros
      {2, 1, 1},     // one b, one c
      {5, 7, 3},     // partial tiles of rows and b
      {9, 33, 5},    // a second tile of i and j rows, a second chunk of b with one lane
      {8, 32, 8},    // exactly one tile, one chunk of b, one chunk of c
      {10, 4, 11},   // C over one chunk: 8 + 3
      {17, 40, 17},  // three c chunks, three row tiles
  };
  for (const PairwiseL1Shape& s : cases)
    check(s);
}

TEST_P(PairwiseL1KernelTest, TiesHaveZeroSign) {
  check({6, 5, 4}, true);
  check({12, 3, 9}, true);
}

// With C = 0 the distances and the tangent are 0, and the inputs are not read.
TEST_P(PairwiseL1KernelTest, NoCoordinatesGiveZeros) {
  const PairwiseL1Shape s{3, 2, 0};
  Buffer d(GetParam(), std::vector<float>(18, 7.f)), t(GetParam(), std::vector<float>(18, 7.f));
  launch(
      [&] {
        cuda::pairwise_l1(nullptr, d.data(), s, nullptr);
        cuda::pairwise_l1_tangent(nullptr, nullptr, t.data(), s, nullptr);
        cuda::pairwise_l1_adjoint(nullptr, nullptr, nullptr, s, nullptr);
      },
      [&] {
        cpu::pairwise_l1(nullptr, d.data(), s);
        cpu::pairwise_l1_tangent(nullptr, nullptr, t.data(), s);
        cpu::pairwise_l1_adjoint(nullptr, nullptr, nullptr, s);
      });
  EXPECT_TRUE(close(d.download(18), std::vector<double>(18, 0.0), 0, 0));
  EXPECT_TRUE(close(t.download(18), std::vector<double>(18, 0.0), 0, 0));
}

TEST_P(PairwiseL1KernelTest, EmptyIsANoOp) {
  for (const PairwiseL1Shape& s : {PairwiseL1Shape{0, 3, 2}, PairwiseL1Shape{4, 0, 2}}) {
    SCOPED_TRACE(describe(s));
    EXPECT_NO_THROW(launch(
        [&] {
          cuda::pairwise_l1(nullptr, nullptr, s, nullptr);
          cuda::pairwise_l1_adjoint(nullptr, nullptr, nullptr, s, nullptr);
          cuda::pairwise_l1_tangent(nullptr, nullptr, nullptr, s, nullptr);
        },
        [&] {
          cpu::pairwise_l1(nullptr, nullptr, s);
          cpu::pairwise_l1_adjoint(nullptr, nullptr, nullptr, s);
          cpu::pairwise_l1_tangent(nullptr, nullptr, nullptr, s);
        }));
  }
}

TEST_P(PairwiseL1KernelTest, RejectsBadArguments) {
  Buffer m(GetParam(), 24), out(GetParam(), 32);
  auto distances = [&](const PairwiseL1Shape& s, const float* in) {
    if (cuda()) {
      cuda::pairwise_l1(in, out.data(), s, nullptr);
    } else {
      cpu::pairwise_l1(in, out.data(), s);
    }
  };
  auto adjoint = [&](const PairwiseL1Shape& s, const float* g) {
    if (cuda()) {
      cuda::pairwise_l1_adjoint(m.data(), g, out.data(), s, nullptr);
    } else {
      cpu::pairwise_l1_adjoint(m.data(), g, out.data(), s);
    }
  };
  EXPECT_THAT(error_of([&] {
                distances({2, -1, 3}, m.data());
              }),
              HasSubstr("pairwise_l1: expected non-negative sizes, got [2, -1, 3]"));
  EXPECT_THAT(error_of([&] {
                distances({2, 4, 3}, nullptr);
              }),
              HasSubstr("pairwise_l1: expected non-null buffers for shape [2, 4, 3]"));
  EXPECT_THAT(error_of([&] {
                adjoint({2, 4, 3}, nullptr);
              }),
              HasSubstr("pairwise_l1_adjoint: expected non-null buffers for shape [2, 4, 3]"));
}

GE_INSTANTIATE_KERNEL_TEST(PairwiseL1KernelTest);

}  // namespace
}  // namespace ge::kernels::testing
