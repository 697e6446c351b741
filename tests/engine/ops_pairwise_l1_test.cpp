// pairwise_l1, pairwise_l1_adjoint and pairwise_l1_tangent on every device against double loops
// written here: N = 1, sizes off the CUDA tiles, non-contiguous operands, the adjoint and the
// tangent as each other's transpose, the backward as the adjoint; gradcheck and gradgradcheck
// (and a third order) on rows spread so that no pair comes within 1e-2 of a tie; errors for
// ranks, shapes, devices and dtypes.
#include "ganengine/pairwise_l1.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class PairwiseL1Test : public DeviceTest {};

struct Dims {
  int64_t n, b, c;
};

std::string describe(const Dims& k) {
  return "N " + std::to_string(k.n) + " B " + std::to_string(k.b) + " C " + std::to_string(k.c);
}

double sign_of(double v) {
  return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
}

size_t row_at(const Dims& k, int64_t i, int64_t b, int64_t c) {
  return static_cast<size_t>((i * k.b + b) * k.c + c);
}
size_t pair_at(const Dims& k, int64_t i, int64_t j, int64_t b) {
  return static_cast<size_t>((i * k.n + j) * k.b + b);
}

// d[i, j, b] = sum_c |m[i, b, c] - m[j, b, c]|.
std::vector<float> distances_ref(const std::vector<float>& m, const Dims& k) {
  std::vector<float> d(static_cast<size_t>(k.n * k.n * k.b));
  for (int64_t i = 0; i < k.n; ++i)
    for (int64_t j = 0; j < k.n; ++j)
      for (int64_t b = 0; b < k.b; ++b) {
        double acc = 0;
        for (int64_t c = 0; c < k.c; ++c)
          acc += std::fabs(static_cast<double>(m[row_at(k, i, b, c)]) - m[row_at(k, j, b, c)]);
        d[pair_at(k, i, j, b)] = static_cast<float>(acc);
      }
  return d;
}

// out[i, b, c] = sum_j (g[i, j, b] + g[j, i, b]) * sign(m[i, b, c] - m[j, b, c]).
std::vector<float> adjoint_ref(const std::vector<float>& m, const std::vector<float>& g,
                               const Dims& k) {
  std::vector<float> out(static_cast<size_t>(k.n * k.b * k.c));
  for (int64_t i = 0; i < k.n; ++i)
    for (int64_t b = 0; b < k.b; ++b)
      for (int64_t c = 0; c < k.c; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < k.n; ++j)
          acc += (static_cast<double>(g[pair_at(k, i, j, b)]) + g[pair_at(k, j, i, b)]) *
                 sign_of(static_cast<double>(m[row_at(k, i, b, c)]) - m[row_at(k, j, b, c)]);
        out[row_at(k, i, b, c)] = static_cast<float>(acc);
      }
  return out;
}

// out[i, j, b] = sum_c (h[i, b, c] - h[j, b, c]) * sign(m[i, b, c] - m[j, b, c]).
std::vector<float> tangent_ref(const std::vector<float>& m, const std::vector<float>& h,
                               const Dims& k) {
  std::vector<float> out(static_cast<size_t>(k.n * k.n * k.b));
  for (int64_t i = 0; i < k.n; ++i)
    for (int64_t j = 0; j < k.n; ++j)
      for (int64_t b = 0; b < k.b; ++b) {
        double acc = 0;
        for (int64_t c = 0; c < k.c; ++c)
          acc += (static_cast<double>(h[row_at(k, i, b, c)]) - h[row_at(k, j, b, c)]) *
                 sign_of(static_cast<double>(m[row_at(k, i, b, c)]) - m[row_at(k, j, b, c)]);
        out[pair_at(k, i, j, b)] = static_cast<float>(acc);
      }
  return out;
}

// Rows whose values differ by at least 0.08 at every (b, c): row i sits at 0.1 * ((7 i + 3 b + c)
// mod N) (a permutation of the rows for N coprime with 7) plus noise in [0, 0.02).
std::vector<float> spread_rows(const Dims& k, uint32_t seed) {
  std::vector<float> m = lcg_values(k.n * k.b * k.c, seed, 0.f, 0.02f);
  for (int64_t i = 0; i < k.n; ++i)
    for (int64_t b = 0; b < k.b; ++b)
      for (int64_t c = 0; c < k.c; ++c)
        m[row_at(k, i, b, c)] += 0.1f * static_cast<float>((7 * i + 3 * b + c) % k.n);
  return m;
}

const Dims kCases[] = {
    {1, 3, 2},   // N = 1: the diagonal only
    {4, 3, 2},   // small
    {9, 33, 5},  // partial row tiles and a partial chunk of b
    {6, 5, 10},  // C over one chunk of 8
};

TEST_P(PairwiseL1Test, ForwardMatchesReference) {
  for (const Dims& k : kCases) {
    SCOPED_TRACE(describe(k));
    const std::vector<float> m = lcg_values(k.n * k.b * k.c, 1, -2.f, 2.f);
    const Tensor d = pairwise_l1(make(m, {k.n, k.b, k.c}, device()));
    EXPECT_EQ(d.shape(), (Shape{k.n, k.n, k.b}));
    EXPECT_TRUE(all_close(d, distances_ref(m, k), 1e-5, 1e-5));
  }
}

TEST_P(PairwiseL1Test, AdjointAndTangentMatchReference) {
  for (const Dims& k : kCases) {
    SCOPED_TRACE(describe(k));
    const std::vector<float> m = lcg_values(k.n * k.b * k.c, 2, -2.f, 2.f);
    const std::vector<float> g = lcg_values(k.n * k.n * k.b, 3, -1.f, 1.f);
    const std::vector<float> h = lcg_values(k.n * k.b * k.c, 4, -1.f, 1.f);
    const Tensor mt = make(m, {k.n, k.b, k.c}, device());
    const Tensor gt = make(g, {k.n, k.n, k.b}, device()), ht = make(h, {k.n, k.b, k.c}, device());
    const Tensor adj = pairwise_l1_adjoint(mt, gt), tan = pairwise_l1_tangent(mt, ht);
    EXPECT_EQ(adj.shape(), (Shape{k.n, k.b, k.c}));
    EXPECT_EQ(tan.shape(), (Shape{k.n, k.n, k.b}));
    EXPECT_TRUE(all_close(adj, adjoint_ref(m, g, k), 1e-4, 1e-5));
    EXPECT_TRUE(all_close(tan, tangent_ref(m, h, k), 1e-5, 1e-5));
    // <tangent(h), g> = <h, adjoint(g)>.
    const std::vector<float> tv = tan.to_vector(), av = adj.to_vector();
    double lhs = 0, rhs = 0;
    for (size_t p = 0; p < tv.size(); ++p)
      lhs += static_cast<double>(tv[p]) * g[p];
    for (size_t r = 0; r < av.size(); ++r)
      rhs += static_cast<double>(av[r]) * h[r];
    EXPECT_NEAR(lhs, rhs, 1e-4 * (1.0 + std::fabs(lhs)));
  }
}

// Views with other strides are read as their values, like contiguous copies.
TEST_P(PairwiseL1Test, NonContiguousOperands) {
  const Dims k{5, 3, 4};
  const std::vector<float> base = lcg_values(5 * 4 * 3, 5, -1.f, 1.f);
  const Tensor m = make(base, {5, 4, 3}, device()).permute({0, 2, 1});  // [5, 3, 4]
  ASSERT_FALSE(m.is_contiguous());
  const std::vector<float> mv = permuted(base, {5, 4, 3}, {0, 2, 1});
  EXPECT_TRUE(all_close(pairwise_l1(m), distances_ref(mv, k), 1e-5, 1e-5));
  const std::vector<float> gbase = lcg_values(5 * 5 * 3, 6, -1.f, 1.f);
  const Tensor g = make(gbase, {5, 5, 3}, device()).transpose(0, 1);
  ASSERT_FALSE(g.is_contiguous());
  EXPECT_TRUE(all_close(pairwise_l1_adjoint(m, g),
                        adjoint_ref(mv, permuted(gbase, {5, 5, 3}, {1, 0, 2}), k), 1e-4, 1e-5));
  const std::vector<float> hbase = lcg_values(5 * 4 * 3, 7, -1.f, 1.f);
  const Tensor h = make(hbase, {5, 4, 3}, device()).permute({0, 2, 1});
  EXPECT_TRUE(all_close(pairwise_l1_tangent(m, h),
                        tangent_ref(mv, permuted(hbase, {5, 4, 3}, {0, 2, 1}), k), 1e-5, 1e-5));
}

// The backward of sum(d * g) is the adjoint; exact ties (here: equal rows) get sign 0.
TEST_P(PairwiseL1Test, BackwardIsTheAdjoint) {
  const Dims k{6, 4, 3};
  std::vector<float> m = lcg_values(6 * 4 * 3, 8, -1.f, 1.f);
  for (int64_t e = 0; e < k.b * k.c; ++e)
    m[static_cast<size_t>(3 * k.b * k.c + e)] = m[static_cast<size_t>(e)];  // row 3 = row 0
  const std::vector<float> g = lcg_values(6 * 6 * 4, 9, -1.f, 1.f);
  const Tensor mt = make(m, {6, 4, 3}, device(), true);
  const Tensor d = pairwise_l1(mt);
  const std::vector<Tensor> dm = grad({d}, {mt}, {make(g, {6, 6, 4}, device())});
  EXPECT_TRUE(all_close(dm[0], adjoint_ref(m, g, k), 1e-4, 1e-5));
}

TEST_P(PairwiseL1Test, Gradients) {
  for (const Dims& k : {Dims{3, 2, 2}, Dims{4, 3, 2}, Dims{5, 2, 3}}) {
    SCOPED_TRACE(describe(k));
    const auto fn = [](const std::vector<Tensor>& in) { return pairwise_l1(in[0]); };
    const std::vector<Tensor> in = {make(spread_rows(k, 10), {k.n, k.b, k.c}, device(), true)};
    EXPECT_TRUE(grad_ok(fn, in));
    EXPECT_TRUE(gradgrad_ok(fn, in));
  }
}

// The derivative's maps are ops of their own: linear in the second argument (their gradient
// there is the other map), and with zero gradient for m away from ties.
TEST_P(PairwiseL1Test, AdjointAndTangentGradients) {
  const Dims k{4, 3, 2};
  const Tensor m = make(spread_rows(k, 11), {4, 3, 2}, device(), true);
  const Tensor g = make(lcg_values(4 * 4 * 3, 12, -1.f, 1.f), {4, 4, 3}, device(), true);
  const Tensor h = make(lcg_values(4 * 3 * 2, 13, -1.f, 1.f), {4, 3, 2}, device(), true);
  const auto adjoint = [](const std::vector<Tensor>& in) {
    return pairwise_l1_adjoint(in[0], in[1]);
  };
  const auto tangent = [](const std::vector<Tensor>& in) {
    return pairwise_l1_tangent(in[0], in[1]);
  };
  EXPECT_TRUE(grad_ok(adjoint, {m, g}));
  EXPECT_TRUE(gradgrad_ok(adjoint, {m, g}));
  EXPECT_TRUE(grad_ok(tangent, {m, h}));
  EXPECT_TRUE(gradgrad_ok(tangent, {m, h}));
}

// A first derivative built under create_graph differentiates twice more.
TEST_P(PairwiseL1Test, ThirdOrderThroughCreateGraph) {
  const Dims k{4, 2, 3};
  const Tensor v = make(lcg_values(4 * 4 * 2, 14), {4, 4, 2}, device());
  const auto first = [v](const std::vector<Tensor>& in) {
    EnableGradGuard enable;
    const Tensor m = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_(true);
    return grad({sum(square(pairwise_l1(m)) * v)}, {m}, {}, /*create_graph=*/true)[0];
  };
  EXPECT_TRUE(gradgrad_ok(first, {make(spread_rows(k, 15), {4, 2, 3}, device(), true)}));
}

TEST_P(PairwiseL1Test, Errors) {
  const Device dev = device();
  const Tensor m = zeros({4, 3, 2}, dev);
  EXPECT_TRUE(throws_with(
      [&] {
        pairwise_l1(zeros({4, 6}, dev));
      },
      {"pairwise_l1: expected m of shape [N, B, C], got shape [4, 6]"}));
  EXPECT_TRUE(throws_with([&] { pairwise_l1(Tensor()); }, {"pairwise_l1", "undefined"}));
  EXPECT_TRUE(throws_with(
      [&] {
        pairwise_l1(empty({4, 3, 2}, TensorOptions(dev).dtype(Dtype::Float16)));
      },
      {"pairwise_l1: expected dtype float32, got float16"}));
  EXPECT_TRUE(throws_with(
      [&] {
        pairwise_l1_adjoint(m, zeros({4, 3, 2}, dev));
      },
      {"pairwise_l1_adjoint: expected g of shape [4, 4, 3] for m of shape "
       "[4, 3, 2], got shape [4, 3, 2]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        pairwise_l1_tangent(m, zeros({4, 3, 3}, dev));
      },
      {"pairwise_l1_tangent: expected h of shape [4, 3, 2] for m of shape "
       "[4, 3, 2], got shape [4, 3, 3]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        pairwise_l1_tangent(m, empty({4, 3, 2}, TensorOptions(dev).dtype(Dtype::BFloat16)));
      },
      {"pairwise_l1_tangent: expected dtype float32, got bfloat16"}));
  EXPECT_TRUE(throws_with(
      [&] {
        pairwise_l1_adjoint(zeros({2, 2, 2, 2}, dev), zeros({2}, dev));
      },
      {"pairwise_l1_adjoint: expected m of shape [N, B, C]", "[2, 2, 2, 2]"}));
  if (cuda_is_available()) {
    const Device other = other_device(dev);
    EXPECT_TRUE(throws_with(
        [&] {
          pairwise_l1_adjoint(m, zeros({4, 4, 3}, other));
        },
        {"pairwise_l1_adjoint: expected g on m's device " + dev.str() + ", got " + other.str()}));
    EXPECT_TRUE(throws_with(
        [&] {
          pairwise_l1_tangent(m, zeros({4, 3, 2}, other));
        },
        {"pairwise_l1_tangent: expected h on m's device " + dev.str() + ", got " + other.str()}));
  }
}

GE_INSTANTIATE_DEVICE_TEST(PairwiseL1Test);

}  // namespace
}  // namespace ge::optest
