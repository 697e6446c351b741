// Reductions (sum, mean, max, sum_to) on every device: values against a host loop in double,
// output shapes for every dims/keepdim combination, gradients (gradcheck, gradgradcheck, and
// hand-computed gradients for tied maxima).
#include <string>
#include <vector>

#include "engine/op_test_util.h"

namespace ge::optest {
namespace {

class ReduceTest : public DeviceTest {};

// Sums of up to ~1000 float32 terms of size <= 1: accumulated rounding stays far below 1e-4.
constexpr double kAtol = 1e-4;
constexpr double kRtol = 1e-5;

Tensor apply(Reduce kind, const Tensor& x) {
  switch (kind) {
    case Reduce::Sum:
      return sum(x);
    case Reduce::Mean:
      return mean(x);
    case Reduce::Max:
      return max(x);
  }
  return Tensor();
}

Tensor apply(Reduce kind, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  switch (kind) {
    case Reduce::Sum:
      return sum(x, dims, keepdim);
    case Reduce::Mean:
      return mean(x, dims, keepdim);
    case Reduce::Max:
      return max(x, dims, keepdim);
  }
  return Tensor();
}

const char* name(Reduce kind) {
  return kind == Reduce::Sum ? "sum" : kind == Reduce::Mean ? "mean" : "max";
}

std::string dims_str(const std::vector<int64_t>& dims) {
  std::string s = "{";
  for (int64_t d : dims)
    s += std::to_string(d) + ",";
  return s + "}";
}

void check_all(Device device, Reduce kind) {
  SCOPED_TRACE(name(kind));
  for (const Shape& shape : {Shape{3, 4, 5}, Shape{33}, Shape{1}, Shape{}, Shape{5, 1031}}) {
    SCOPED_TRACE("shape " + to_string(shape));
    const auto v = lcg_values(count(shape), 1);
    const Tensor y = apply(kind, make(v, shape, device));
    EXPECT_EQ(y.dim(), 0);
    EXPECT_EQ(y.device(), device);
    EXPECT_TRUE(all_close(y, reduce_ref(v, shape, {}, false, kind).values, kAtol, kRtol));
  }
  {
    SCOPED_TRACE("permuted view");
    const auto v = lcg_values(60, 2);
    const Tensor x = make(v, {3, 4, 5}, device).permute({2, 0, 1});
    EXPECT_TRUE(
        all_close(apply(kind, x), reduce_ref(v, {3, 4, 5}, {}, false, kind).values, kAtol, kRtol));
  }
}

void check_dims(Device device, Reduce kind) {
  SCOPED_TRACE(name(kind));
  struct Case {
    Shape shape;
    std::vector<int64_t> dims;      // as passed to the op
    std::vector<int64_t> resolved;  // the same dims, non-negative, for the reference
  };
  const std::vector<Case> cases = {
      {{3, 4, 5}, {1}, {1}},
      {{3, 4, 5}, {0, 2}, {0, 2}},  // non-adjacent
      {{3, 4, 5}, {2, 0}, {0, 2}},  // order does not matter
      {{3, 4, 5}, {-1}, {2}},
      {{3, 4, 5}, {-3, -1}, {0, 2}},
      {{3, 4, 5}, {0, 1, 2}, {0, 1, 2}},
      {{3, 4, 5}, {}, {0, 1, 2}},  // empty list reduces over all
      {{2, 3, 4, 5}, {1, 3}, {1, 3}},
      {{7, 1, 3}, {1}, {1}},  // a size-1 dim
      {{33}, {0}, {0}},
      {{5, 257}, {1}, {1}},  // rows longer than a typical block
      {{257, 5}, {0}, {0}},  // strided (column) reduction
  };
  for (const Case& c : cases) {
    for (bool keepdim : {false, true}) {
      SCOPED_TRACE(to_string(c.shape) + " dims " + dims_str(c.dims) + (keepdim ? " keepdim" : ""));
      const auto v = lcg_values(count(c.shape), 3);
      const auto ref = reduce_ref(v, c.shape, c.resolved, keepdim, kind);
      const Tensor y = apply(kind, make(v, c.shape, device), c.dims, keepdim);
      EXPECT_EQ(y.shape(), ref.shape);
      EXPECT_TRUE(all_close(y, ref.values, kAtol, kRtol));
    }
  }
  {
    SCOPED_TRACE("non-contiguous: transposed [5, 4, 3] view, dims {0, 2}");
    const auto v = lcg_values(60, 4);
    const Tensor x = make(v, {5, 4, 3}, device).transpose(0, 2);  // [3, 4, 5]
    const auto ref = reduce_ref(permuted(v, {5, 4, 3}, {2, 1, 0}), {3, 4, 5}, {0, 2}, true, kind);
    const Tensor y = apply(kind, x, {0, 2}, true);
    EXPECT_EQ(y.shape(), Shape({1, 4, 1}));
    EXPECT_TRUE(all_close(y, ref.values, kAtol, kRtol));
  }
}

TEST_P(ReduceTest, SumAll) {
  check_all(device(), Reduce::Sum);
}
TEST_P(ReduceTest, MeanAll) {
  check_all(device(), Reduce::Mean);
}
TEST_P(ReduceTest, MaxAll) {
  check_all(device(), Reduce::Max);
}
TEST_P(ReduceTest, SumDims) {
  check_dims(device(), Reduce::Sum);
}
TEST_P(ReduceTest, MeanDims) {
  check_dims(device(), Reduce::Mean);
}
TEST_P(ReduceTest, MaxDims) {
  check_dims(device(), Reduce::Max);
}

TEST_P(ReduceTest, MaxOfNegativeValues) {
  // A max that starts its running value at 0 instead of -inf would return 0 here.
  const std::vector<float> v = {-5.f, -2.f, -7.f, -3.f, -9.f, -4.f};
  EXPECT_TRUE(all_close(max(make(v, {6}, device())), std::vector<float>{-2.f}, 0, 0));
  EXPECT_TRUE(all_close(max(make(v, {2, 3}, device()), {1}), std::vector<float>{-2.f, -3.f}, 0, 0));
}

TEST_P(ReduceTest, LongReductions) {
  // 100003 values in [0, 1): the sum is ~5e4. A float32 tree or blocked sum is accurate to
  // ~1e-6 relative; 1e-4 relative (~5 absolute) still fails a lost block or a dropped tail,
  // each of which moves the sum by at least one element's worth per missing element (~0.5).
  const auto v = lcg_values(100003, 10, 0.f, 1.f);
  const auto ref_sum = reduce_ref(v, {100003}, {}, false, Reduce::Sum).values;
  const Tensor x = make(v, {100003}, device());
  EXPECT_TRUE(all_close(sum(x), ref_sum, 0, 1e-4));
  EXPECT_TRUE(all_close(mean(x), reduce_ref(v, {100003}, {}, false, Reduce::Mean).values, 0, 1e-4));
  EXPECT_TRUE(all_close(max(x), reduce_ref(v, {100003}, {}, false, Reduce::Max).values, 0, 0));
  // The maximum placed in the very last element: a reduction that drops the tail misses it.
  std::vector<float> w = v;
  w.back() = 2.f;
  EXPECT_TRUE(all_close(max(make(w, {100003}, device())), std::vector<float>{2.f}, 0, 0));
  const auto m = lcg_values(3 * 4099, 11);
  EXPECT_TRUE(all_close(sum(make(m, {3, 4099}, device()), {1}),
                        reduce_ref(m, {3, 4099}, {1}, false, Reduce::Sum).values, 1e-3, 1e-4));
  EXPECT_TRUE(all_close(max(make(m, {4099, 3}, device()), {0}),
                        reduce_ref(m, {4099, 3}, {0}, false, Reduce::Max).values, 0, 0));
}

TEST_P(ReduceTest, MemberSugarMatchesFreeFunctions) {
  const auto v = lcg_values(24, 5);
  const Tensor x = make(v, {2, 3, 4}, device());
  EXPECT_TRUE(
      all_close(x.sum(), reduce_ref(v, {2, 3, 4}, {}, false, Reduce::Sum).values, kAtol, kRtol));
  EXPECT_TRUE(all_close(x.mean({-1}, true),
                        reduce_ref(v, {2, 3, 4}, {2}, true, Reduce::Mean).values, kAtol, kRtol));
  EXPECT_EQ(x.mean({-1}, true).shape(), Shape({2, 3, 1}));
  EXPECT_TRUE(all_close(x.max({0}), reduce_ref(v, {2, 3, 4}, {0}, false, Reduce::Max).values, kAtol,
                        kRtol));
  EXPECT_EQ(x.max().dim(), 0);
}

TEST_P(ReduceTest, SumAndMeanGradients) {
  const Tensor x = make(lcg_values(24, 6), {2, 3, 4}, device(), true);
  const std::vector<std::pair<std::vector<int64_t>, bool>> variants = {
      {{}, false}, {{1}, false}, {{0, 2}, true}, {{-1}, false}, {{-3, -1}, false}};
  for (const auto& [dims, keepdim] : variants) {
    SCOPED_TRACE("dims " + dims_str(dims) + (keepdim ? " keepdim" : ""));
    const auto fs = [&](const std::vector<Tensor>& in) { return sum(in[0], dims, keepdim); };
    const auto fm = [&](const std::vector<Tensor>& in) { return mean(in[0], dims, keepdim); };
    EXPECT_TRUE(grad_ok(fs, {x}));
    EXPECT_TRUE(grad_ok(fm, {x}));
    // Linear ops: this checks that their backward (an expand) is itself differentiable.
    EXPECT_TRUE(gradgrad_ok(fs, {x}));
    EXPECT_TRUE(gradgrad_ok(fm, {x}));
  }
  const auto fs = [](const std::vector<Tensor>& in) { return sum(in[0]); };
  const auto fm = [](const std::vector<Tensor>& in) { return mean(in[0]); };
  EXPECT_TRUE(grad_ok(fs, {x}));
  EXPECT_TRUE(grad_ok(fm, {x}));
  EXPECT_TRUE(gradgrad_ok(fs, {x}));
  EXPECT_TRUE(gradgrad_ok(fm, {x}));
  // A reduction of a nonlinear function: second derivatives flow through the reduction.
  const auto fsq = [](const std::vector<Tensor>& in) { return mean(square(in[0]), {0, 2}); };
  EXPECT_TRUE(gradgrad_ok(fsq, {x}));
}

TEST_P(ReduceTest, SumAndMeanGradientValues) {
  // d sum / dx = 1 and d mean / dx = 1/n, scaled by the incoming gradient per output.
  const Tensor x = make(lcg_values(6, 7), {2, 3}, device(), true);
  sum(x, {1}).backward(make({2.f, -1.f}, {2}, device()));
  EXPECT_TRUE(all_close(x.grad(), std::vector<float>{2, 2, 2, -1, -1, -1}));
  x.zero_grad();
  mean(x).backward();
  EXPECT_TRUE(all_close(x.grad(), std::vector<float>(6, 1.f / 6.f)));
  x.zero_grad();
  mean(x, {0}, true).backward(make({3.f, 6.f, 9.f}, {1, 3}, device()));
  EXPECT_TRUE(all_close(x.grad(), std::vector<float>{1.5, 3, 4.5, 1.5, 3, 4.5}));
}

TEST_P(ReduceTest, MaxGradientWithoutTies) {
  // Distinct values 0.1 apart: eps = 1e-3 perturbations cannot change the argmax.
  const Tensor x = make(distinct_values(24), {2, 3, 4}, device(), true);
  for (const auto& dims : std::vector<std::vector<int64_t>>{{}, {1}, {0, 2}, {-1}}) {
    SCOPED_TRACE("dims " + dims_str(dims));
    EXPECT_TRUE(grad_ok([&](const std::vector<Tensor>& in) { return max(in[0], dims); }, {x}));
    EXPECT_TRUE(
        grad_ok([&](const std::vector<Tensor>& in) { return max(in[0], dims, true); }, {x}));
  }
  EXPECT_TRUE(grad_ok([](const std::vector<Tensor>& in) { return max(in[0]); }, {x}));
}

TEST_P(ReduceTest, MaxGradientSplitsAmongTies) {
  // From the definition in ops.h: each tied maximum receives grad / (number of ties).
  {
    SCOPED_TRACE("over all, three-way tie");
    const Tensor x = make({1.f, 3.f, 3.f, 2.f, 3.f, 0.f}, {2, 3}, device(), true);
    const Tensor y = max(x);
    EXPECT_TRUE(all_close(y, std::vector<float>{3.f}, 0, 0));
    y.backward();
    const float t = 1.f / 3.f;
    EXPECT_TRUE(all_close(x.grad(), std::vector<float>{0, t, t, 0, t, 0}, 1e-6, 1e-6));
  }
  {
    SCOPED_TRACE("dim 1, ties in both rows, non-unit grad_output");
    const Tensor x = make({1.f, 3.f, 3.f, 2.f, 2.f, 0.f}, {2, 3}, device(), true);
    const Tensor y = max(x, {1});
    EXPECT_TRUE(all_close(y, std::vector<float>{3.f, 2.f}, 0, 0));
    y.backward(make({2.f, 4.f}, {2}, device()));
    EXPECT_TRUE(all_close(x.grad(), std::vector<float>{0, 1, 1, 2, 2, 0}, 1e-6, 1e-6));
  }
  {
    SCOPED_TRACE("dim 0 keepdim, a tie in one column only");
    const Tensor x = make({1.f, 3.f, 1.f, 2.f}, {2, 2}, device(), true);
    const Tensor y = max(x, {0}, true);
    EXPECT_EQ(y.shape(), Shape({1, 2}));
    y.backward(make({1.f, 1.f}, {1, 2}, device()));
    EXPECT_TRUE(all_close(x.grad(), std::vector<float>{0.5f, 1, 0.5f, 0}, 1e-6, 1e-6));
  }
  {
    SCOPED_TRACE("all equal, non-adjacent dims {0, 2} of [2, 2, 2]");
    const Tensor x = make(std::vector<float>(8, 5.f), {2, 2, 2}, device(), true);
    max(x, {0, 2}).backward(make({4.f, 8.f}, {2}, device()));
    // Each output gathers 4 tied elements: 4/4 = 1 for dim1 = 0 and 8/4 = 2 for dim1 = 1.
    EXPECT_TRUE(all_close(x.grad(), std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2}, 1e-6, 1e-6));
  }
}

TEST_P(ReduceTest, SumTo) {
  struct Case {
    Shape from, to;
    std::vector<int64_t> dims;  // dims of `from` summed (keepdim), then leading dims dropped
  };
  const std::vector<Case> cases = {
      {{2, 3, 4}, {3, 1}, {0, 2}}, {{2, 3, 4}, {1}, {0, 1, 2}}, {{2, 3, 4}, {4}, {0, 1}},
      {{2, 3, 4}, {2, 1, 4}, {1}}, {{2, 3, 4}, {2, 3, 4}, {}},  {{4, 5, 3}, {5, 1}, {0, 2}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(to_string(c.from) + " -> " + to_string(c.to));
    const auto v = lcg_values(count(c.from), 8);
    std::vector<float> expected = v;
    if (!c.dims.empty()) expected = reduce_ref(v, c.from, c.dims, true, Reduce::Sum).values;
    const Tensor y = sum_to(make(v, c.from, device()), c.to);
    EXPECT_EQ(y.shape(), c.to);
    EXPECT_TRUE(all_close(y, expected, kAtol, kRtol));
  }
  const Tensor x = make(lcg_values(24, 9), {2, 3, 4}, device(), true);
  const auto fn = [](const std::vector<Tensor>& in) { return sum_to(in[0], {3, 1}); };
  EXPECT_TRUE(grad_ok(fn, {x}));
  EXPECT_TRUE(gradgrad_ok(fn, {x}));
}

GE_INSTANTIATE_DEVICE_TEST(ReduceTest);

}  // namespace
}  // namespace ge::optest
