// log_softmax, softmax and cross_entropy on every device: values against references in double
// along every dim and for every reduction, gradients against the closed form softmax - one_hot,
// logits near 1e4 (no overflow, no lost digits), gradcheck and gradgradcheck, and the argument
// errors.
#include <cmath>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"
#include "ganengine/loss.h"

namespace ge::optest {
namespace {

class CrossEntropyTest : public DeviceTest {};

constexpr Reduction kReductions[] = {Reduction::None, Reduction::Mean, Reduction::Sum};

const char* reduction_name(Reduction r) {
  return r == Reduction::None ? "none" : (r == Reduction::Mean ? "mean" : "sum");
}

// log_softmax of a row-major tensor along `dim` (non-negative), in double: each line along the
// dim is shifted by its own maximum before exponentiating.
std::vector<double> log_softmax_ref(const std::vector<float>& x, const Shape& shape, size_t dim) {
  int64_t inner = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d)
    inner *= shape[d];
  const int64_t len = shape[dim], outer = count(shape) / (len * inner);
  std::vector<double> out(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t j) { return static_cast<size_t>((o * len + j) * inner + in); };
      double m = -INFINITY;
      for (int64_t j = 0; j < len; ++j)
        m = std::max(m, static_cast<double>(x[at(j)]));
      double s = 0.0;
      for (int64_t j = 0; j < len; ++j)
        s += std::exp(x[at(j)] - m);
      for (int64_t j = 0; j < len; ++j)
        out[at(j)] = x[at(j)] - m - std::log(s);
    }
  return out;
}

std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

// Per-sample cross-entropy of row-major logits [n, k].
std::vector<double> cross_entropy_ref(const std::vector<float>& logits, int64_t n, int64_t k,
                                      const std::vector<int64_t>& targets) {
  const std::vector<double> ls = log_softmax_ref(logits, {n, k}, 1);
  std::vector<double> out;
  for (int64_t i = 0; i < n; ++i)
    out.push_back(-ls[static_cast<size_t>(i * k + targets[static_cast<size_t>(i)])]);
  return out;
}

std::vector<float> reduce(const std::vector<double>& v, Reduction r) {
  if (r == Reduction::None) return to_float(v);
  double s = 0.0;
  for (double x : v)
    s += x;
  return {static_cast<float>(r == Reduction::Mean ? s / static_cast<double>(v.size()) : s)};
}

TEST_P(CrossEntropyTest, LogSoftmaxAndSoftmaxMatchReferenceAlongEveryDim) {
  const Shape shape = {2, 3, 4};
  const std::vector<float> x = lcg_values(24, 1, -4.f, 4.f);
  for (int64_t dim : {0, 1, 2, -1, -3}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const size_t d = static_cast<size_t>(dim < 0 ? dim + 3 : dim);
    const std::vector<double> want = log_softmax_ref(x, shape, d);
    const Tensor ls = log_softmax(make(x, shape, device()), dim);
    EXPECT_EQ(ls.shape(), shape);
    EXPECT_EQ(ls.device(), device());
    EXPECT_TRUE(all_close(ls, to_float(want), 1e-6, 1e-5));
    std::vector<float> p;
    for (double v : want)
      p.push_back(static_cast<float>(std::exp(v)));
    EXPECT_TRUE(all_close(softmax(make(x, shape, device()), dim), p, 1e-7, 1e-5));
  }
}

TEST_P(CrossEntropyTest, MatchesReferenceForEveryReduction) {
  const int64_t n = 5, k = 4;
  const std::vector<float> x = lcg_values(n * k, 2, -3.f, 3.f);
  const std::vector<int64_t> targets = {0, 3, 1, 1, 2};
  const std::vector<double> want = cross_entropy_ref(x, n, k, targets);
  for (Reduction r : kReductions) {
    SCOPED_TRACE(reduction_name(r));
    const Tensor out = cross_entropy(make(x, {n, k}, device()), targets, r);
    EXPECT_EQ(out.shape(), r == Reduction::None ? Shape{n} : Shape{});
    EXPECT_EQ(out.device(), device());
    EXPECT_TRUE(all_close(out, reduce(want, r), 1e-6, 1e-5));
  }
}

// d loss_i / d logits_ij = g_i (softmax_ij - [j == t_i]).
TEST_P(CrossEntropyTest, GradientIsSoftmaxMinusOneHot) {
  const int64_t n = 3, k = 4;
  const std::vector<float> x = lcg_values(n * k, 3, -2.f, 2.f);
  const std::vector<int64_t> targets = {2, 0, 3};
  const std::vector<double> ls = log_softmax_ref(x, {n, k}, 1);
  const std::vector<float> g = {0.5f, -1.5f, 2.f};
  for (Reduction r : kReductions) {
    SCOPED_TRACE(reduction_name(r));
    const Tensor xt = make(x, {n, k}, device(), true);
    const Tensor out = cross_entropy(xt, targets, r);
    if (r == Reduction::None) {
      out.backward(make(g, {n}, device()));
    } else {
      out.backward();
    }
    std::vector<float> want;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j) {
        const double gi = r == Reduction::None ? g[static_cast<size_t>(i)]
                                               : (r == Reduction::Mean ? 1.0 / n : 1.0);
        const double onehot = j == targets[static_cast<size_t>(i)] ? 1.0 : 0.0;
        want.push_back(
            static_cast<float>(gi * (std::exp(ls[static_cast<size_t>(i * k + j)]) - onehot)));
      }
    EXPECT_TRUE(all_close(xt.grad(), want, 1e-6, 1e-5));
  }
}

// Logits of size 1e4 overflow a naive exp(); the shifted form keeps every digit of the small
// differences (the inputs differ by integers, so x - max is exact in float32).
TEST_P(CrossEntropyTest, StableForLargeLogits) {
  const int64_t n = 3, k = 4;
  const std::vector<float> x = {1e4f,  1e4f - 1.f, 1e4f - 3.f, -1e4f,  //
                                -1e4f, -1e4f,      -1e4f + 2,  -1e4f,  //
                                0.f,   1e4f,       -1e4f,      5e3f};
  const std::vector<int64_t> targets = {1, 2, 0};
  const std::vector<double> want = cross_entropy_ref(x, n, k, targets);
  // Sample 2 puts its target 1e4 below the winner: the loss is 1e4, not inf.
  EXPECT_NEAR(want[2], 1e4, 1e-6);
  const Tensor xt = make(x, {n, k}, device(), true);
  const Tensor out = cross_entropy(xt, targets, Reduction::None);
  EXPECT_TRUE(all_close(out, to_float(want), 1e-6, 1e-6));
  sum(out).backward();
  const std::vector<double> ls = log_softmax_ref(x, {n, k}, 1);
  std::vector<float> grad_want;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j)
      grad_want.push_back(static_cast<float>(std::exp(ls[static_cast<size_t>(i * k + j)]) -
                                             (j == targets[static_cast<size_t>(i)] ? 1.0 : 0.0)));
  EXPECT_TRUE(all_close(xt.grad(), grad_want, 1e-6, 1e-5));
  const Tensor p = softmax(make(x, {n, k}, device()), 1);
  std::vector<float> p_want;
  for (double v : ls)
    p_want.push_back(static_cast<float>(std::exp(v)));
  EXPECT_TRUE(all_close(p, p_want, 1e-7, 1e-5));
}

TEST_P(CrossEntropyTest, FirstAndSecondOrderGradients) {
  const Shape shape = {3, 4};
  const std::vector<float> x = lcg_values(12, 4, -2.f, 2.f);
  const std::vector<int64_t> targets = {3, 0, 2};
  for (Reduction r : kReductions) {
    SCOPED_TRACE(reduction_name(r));
    const auto ce = [r, targets](const std::vector<Tensor>& in) {
      return cross_entropy(in[0], targets, r);
    };
    EXPECT_TRUE(grad_ok(ce, {make(x, shape, device(), true)}));
    EXPECT_TRUE(gradgrad_ok(ce, {make(x, shape, device(), true)}));
  }
  for (int64_t dim : {0, 1}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const auto ls = [dim](const std::vector<Tensor>& in) { return log_softmax(in[0], dim); };
    const auto sm = [dim](const std::vector<Tensor>& in) { return softmax(in[0], dim); };
    EXPECT_TRUE(grad_ok(ls, {make(x, shape, device(), true)}));
    EXPECT_TRUE(gradgrad_ok(ls, {make(x, shape, device(), true)}));
    EXPECT_TRUE(grad_ok(sm, {make(x, shape, device(), true)}));
    EXPECT_TRUE(gradgrad_ok(sm, {make(x, shape, device(), true)}));
  }
}

TEST_P(CrossEntropyTest, ArgumentErrors) {
  const Tensor x = make(lcg_values(6, 5), {2, 3}, device());
  const char* op = "cross_entropy";
  EXPECT_TRUE(throws_with([&] { cross_entropy(x, {0, 3}); }, {op, "target 3", "[0, 3)"}));
  EXPECT_TRUE(throws_with([&] { cross_entropy(x, {-1, 0}); }, {op, "target -1", "sample 0"}));
  EXPECT_TRUE(throws_with([&] { cross_entropy(x, {0}); }, {op, "expected 2 targets", "got 1"}));
  EXPECT_TRUE(throws_with([&] { cross_entropy(x, {0, 1, 2}); }, {op, "got 3"}));
  EXPECT_TRUE(throws_with(
      [&] {
        cross_entropy(make({1.f, 2.f}, {2}, device()), {0, 1});
      },
      {op, "[N, K]", "[2]"}));
  EXPECT_TRUE(throws_with([&] { cross_entropy(Tensor(), {0}); }, {op, "defined"}));
  EXPECT_TRUE(throws_with(
      [&] {
        cross_entropy(x, {0, 1}, static_cast<Reduction>(9));
      },
      {op, "got 9"}));
  EXPECT_TRUE(throws_with([&] { log_softmax(x, 2); }, {"log_softmax"}));
  EXPECT_TRUE(throws_with([&] { softmax(x, -3); }, {"softmax"}));
  EXPECT_TRUE(throws_with([&] { log_softmax(Tensor(), 0); }, {"log_softmax", "defined"}));
}

GE_INSTANTIATE_DEVICE_TEST(CrossEntropyTest);

}  // namespace
}  // namespace ge::optest
