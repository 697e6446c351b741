// Unary and binary launchers on cpu and cuda against double-precision references.
#include "ganengine/kernels/elementwise.h"

#include <cmath>
#include <limits>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double unary_ref(UnaryOp op, double x, double a, double b) {
  switch (op) {
    case UnaryOp::Neg:
      return -x;
    case UnaryOp::Exp:
      return std::exp(x);
    case UnaryOp::Log:
      return std::log(x);
    case UnaryOp::Sqrt:
      return std::sqrt(x);
    case UnaryOp::Rsqrt:
      return 1.0 / std::sqrt(x);
    case UnaryOp::Abs:
      return std::fabs(x);
    case UnaryOp::Tanh:
      return std::tanh(x);
    case UnaryOp::Sigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case UnaryOp::Softplus:
      return std::log1p(std::exp(x));
    case UnaryOp::Relu:
      return std::isnan(x) ? x : (x > 0 ? x : 0.0);
    case UnaryOp::Sign:
      return std::isnan(x) ? x : (x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0));
    case UnaryOp::Step:
      return x > 0 ? 1.0 : 0.0;
    case UnaryOp::ClampMask:
      return (a <= x && x <= b) ? 1.0 : 0.0;
    case UnaryOp::Pow:
      return std::pow(x, a);
    case UnaryOp::Clamp:
      return std::isnan(x) ? x : std::min(std::max(x, a), b);
    case UnaryOp::AddScalar:
      return x + a;
    case UnaryOp::MulScalar:
      return x * a;
    case UnaryOp::RdivScalar:
      return a / x;
    case UnaryOp::Fill:
      return a;
    case UnaryOp::Square:
      return x * x;
    case UnaryOp::Reciprocal:
      return 1.0 / x;
  }
  return kNaN;
}

double binary_ref(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::Add:
      return a + b;
    case BinaryOp::Sub:
      return a - b;
    case BinaryOp::Mul:
      return a * b;
    case BinaryOp::Div:
      return a / b;
    case BinaryOp::Pow:
      return std::pow(a, b);
    case BinaryOp::Maximum:
      return std::isnan(a) || std::isnan(b) ? kNaN : std::max(a, b);
    case BinaryOp::Minimum:
      return std::isnan(a) || std::isnan(b) ? kNaN : std::min(a, b);
    case BinaryOp::Eq:
      return a == b;
    case BinaryOp::Gt:
      return a > b;
    case BinaryOp::Ge:
      return a >= b;
    case BinaryOp::Lt:
      return a < b;
    case BinaryOp::Le:
      return a <= b;
  }
  return kNaN;
}

constexpr UnaryOp kUnaryOps[] = {
    UnaryOp::Neg,       UnaryOp::Exp,       UnaryOp::Log,        UnaryOp::Sqrt,     UnaryOp::Rsqrt,
    UnaryOp::Abs,       UnaryOp::Tanh,      UnaryOp::Sigmoid,    UnaryOp::Softplus, UnaryOp::Relu,
    UnaryOp::Sign,      UnaryOp::Step,      UnaryOp::ClampMask,  UnaryOp::Pow,      UnaryOp::Clamp,
    UnaryOp::AddScalar, UnaryOp::MulScalar, UnaryOp::RdivScalar, UnaryOp::Fill,     UnaryOp::Square,
    UnaryOp::Reciprocal};

constexpr BinaryOp kBinaryOps[] = {BinaryOp::Add,     BinaryOp::Sub, BinaryOp::Mul,
                                   BinaryOp::Div,     BinaryOp::Pow, BinaryOp::Maximum,
                                   BinaryOp::Minimum, BinaryOp::Eq,  BinaryOp::Gt,
                                   BinaryOp::Ge,      BinaryOp::Lt,  BinaryOp::Le};

bool positive_domain(UnaryOp op) {
  return op == UnaryOp::Log || op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt || op == UnaryOp::Pow;
}

// Inputs in each op's domain, with exact zeros and clamp-boundary values mixed in.
std::vector<float> unary_inputs(UnaryOp op, int64_t n) {
  std::vector<float> x = positive_domain(op) ? lcg(n, 3, 0.05f, 4.f) : lcg(n, 3, -4.f, 4.f);
  if (op == UnaryOp::Reciprocal || op == UnaryOp::RdivScalar || positive_domain(op)) return x;
  for (int64_t i = 0; i < n; i += 7)
    x[i] = 0.f;
  for (int64_t i = 3; i < n; i += 11)
    x[i] = 0.5f;  // == clamp lo
  return x;
}

class UnaryTest : public KernelTest {
 protected:
  void run(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n) {
    if (cuda()) {
      cuda::unary(op, p, x, y, n, nullptr);
    } else {
      cpu::unary(op, p, x, y, n);
    }
  }
};

TEST_P(UnaryTest, EveryOpMatchesReferenceAlignedAndMisaligned) {
  const int64_t n = 1003;
  const UnaryParams p{0.5f, 2.5f};
  for (UnaryOp op : kUnaryOps) {
    const std::vector<float> x = unary_inputs(op, n);
    std::vector<double> want(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      want[i] = unary_ref(op, x[i], p.a, p.b);
    const double tol = (op == UnaryOp::Pow || op == UnaryOp::Tanh || op == UnaryOp::Softplus ||
                        op == UnaryOp::Exp || op == UnaryOp::Sigmoid)
                           ? 4e-6
                           : 1e-6;
    for (auto [xs, ys] : {std::pair{0, 0}, {1, 1}, {3, 3}, {0, 1}, {2, 0}}) {
      Buffer xb(GetParam(), x, xs);
      Buffer yb(GetParam(), n + 4);
      run(op, p, xb.data(xs), yb.data(ys), n);
      EXPECT_TRUE(close(yb.download(n, ys), want, tol, tol))
          << name(op) << " x+" << xs << " y+" << ys;
      // The slack after the output is untouched.
      EXPECT_EQ(yb.download(4 - ys, n + ys), std::vector<float>(4 - ys, 0.f)) << name(op);
    }
  }
}

TEST_P(UnaryTest, SmallSizesInPlaceAndNaN) {
  for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 9}) {
    std::vector<float> x = lcg(n, 11, -2.f, 2.f);
    std::vector<double> want(x.begin(), x.end());
    for (double& w : want)
      w = w * 3.0;
    Buffer b(GetParam(), x, 1);
    run(UnaryOp::MulScalar, {3.f, 0.f}, b.data(1), b.data(1), n);
    EXPECT_TRUE(close(b.download(n, 1), want)) << "n = " << n;
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (UnaryOp op : {UnaryOp::Relu, UnaryOp::Clamp, UnaryOp::Sign, UnaryOp::Abs}) {
    Buffer b(GetParam(), {nan, -1.f, 5.f});
    run(op, {0.f, 1.f}, b.data(), b.data(), 3);
    EXPECT_TRUE(std::isnan(b.download(1)[0])) << name(op);
  }
}

TEST_P(UnaryTest, FillWithoutInputAndLargeN) {
  const int64_t n = cuda() ? (1 << 16) + 3 : (1 << 20) + 3;
  Buffer y(GetParam(), n);
  run(UnaryOp::Fill, {2.5f, 0.f}, nullptr, y.data(1), n - 1);
  std::vector<float> got = y.download(n, 0);
  EXPECT_EQ(got[0], 0.f);
  EXPECT_EQ(got[1], 2.5f);
  EXPECT_EQ(got[n - 1], 2.5f);
  const std::vector<float> x = lcg(n, 5, -6.f, 6.f);
  Buffer xb(GetParam(), x);
  run(UnaryOp::Sigmoid, {}, xb.data(), y.data(), n);
  std::vector<double> want(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    want[i] = unary_ref(UnaryOp::Sigmoid, x[i], 0, 0);
  EXPECT_TRUE(close(y.download(n), want, 1e-6, 4e-6));
}

TEST_P(UnaryTest, ValidatesArguments) {
  run(UnaryOp::Exp, {}, nullptr, nullptr, 0);  // n == 0: no-op, even with null pointers
  float y = 0.f;
  EXPECT_THAT(error_of([&] { run(UnaryOp::Exp, {}, nullptr, &y, 1); }),
              HasSubstr("unary(exp): expected a non-null input for n = 1"));
  EXPECT_THAT(error_of([&] { run(UnaryOp::Neg, {}, &y, &y, -2); }),
              HasSubstr("unary(neg): expected n >= 0, got -2"));
  EXPECT_THAT(error_of([&] { run(UnaryOp::Neg, {}, &y, nullptr, 1); }),
              HasSubstr("expected a non-null output"));
}

GE_INSTANTIATE_KERNEL_TEST(UnaryTest);

// ---- binary ----

// Broadcast strides of a contiguous operand of `from` inside the output shape `to`.
Strides broadcast_strides(const std::vector<int64_t>& from, const std::vector<int64_t>& to) {
  Strides s;
  int64_t step = 1;
  const size_t lead = to.size() - from.size();
  for (size_t d = to.size(); d-- > lead;) {
    const int64_t size = from[d - lead];
    s.v[d] = size == 1 ? 0 : step;
    step *= size;
  }
  return s;
}

StridedShape make_shape(const std::vector<int64_t>& dims) {
  StridedShape s;
  s.ndim = static_cast<int>(dims.size());
  for (size_t d = 0; d < dims.size(); ++d)
    s.shape[d] = dims[d];
  return s;
}

int64_t offset_of(int64_t i, const StridedShape& s, const Strides& st) {
  int64_t off = 0;
  for (int d = s.ndim - 1; d >= 0; --d) {
    off += (i % s.shape[d]) * st.v[d];
    i /= s.shape[d];
  }
  return off;
}

class BinaryTest : public KernelTest {
 protected:
  void run(BinaryOp op, const float* a, const Strides& as, const float* b, const Strides& bs,
           float* out, const StridedShape& shape) {
    if (cuda()) {
      cuda::binary(op, a, as, b, bs, out, shape, nullptr);
    } else {
      cpu::binary(op, a, as, b, bs, out, shape);
    }
  }

  // Every op on buffers a (a_len floats) and b read through the given strides.
  void check_all_ops(const StridedShape& shape, int64_t a_len, const Strides& as, int64_t b_len,
                     const Strides& bs, int64_t a_shift = 0, int64_t b_shift = 0,
                     int64_t out_shift = 0) {
    const int64_t n = shape.numel();
    std::vector<float> a = lcg(a_len, 21, 0.25f, 2.f), b = lcg(b_len, 22, 0.25f, 2.f);
    for (int64_t i = 0; i < b_len; i += 5)
      b[i] = a[i % a_len];  // some equal pairs for Eq/Ge
    Buffer ab(GetParam(), a, a_shift), bb(GetParam(), b, b_shift), ob(GetParam(), n + 4);
    for (BinaryOp op : kBinaryOps) {
      std::vector<double> want(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        want[i] = binary_ref(op, a[offset_of(i, shape, as)], b[offset_of(i, shape, bs)]);
      }
      run(op, ab.data(a_shift), as, bb.data(b_shift), bs, ob.data(out_shift), shape);
      EXPECT_TRUE(close(ob.download(n, out_shift), want, 1e-6, op == BinaryOp::Pow ? 4e-6 : 1e-6))
          << name(op) << " shifts " << a_shift << "," << b_shift << "," << out_shift;
    }
  }
};

TEST_P(BinaryTest, SameShapeContiguousAlignedAndMisaligned) {
  const StridedShape s = make_shape({7, 143});  // 1001 elements
  const Strides c = broadcast_strides({7, 143}, {7, 143});
  for (auto [as, bs, os] : {std::tuple{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {1, 0, 0}, {0, 3, 1}}) {
    check_all_ops(s, 1001, c, 1001, c, as, bs, os);
  }
}

TEST_P(BinaryTest, BroadcastPatterns) {
  // [3,1,5] with [4,1] -> [3,4,5]
  const std::vector<int64_t> out{3, 4, 5};
  check_all_ops(make_shape(out), 15, broadcast_strides({3, 1, 5}, out), 4,
                broadcast_strides({4, 1}, out));
  // A scalar [1] against [2,3], both ways round.
  const std::vector<int64_t> o2{2, 3};
  check_all_ops(make_shape(o2), 1, broadcast_strides({1}, o2), 6, broadcast_strides(o2, o2));
  check_all_ops(make_shape(o2), 6, broadcast_strides(o2, o2), 1, broadcast_strides({1}, o2), 1, 0,
                1);
  // A row vector [5] against [6,5], and a 0-d result.
  const std::vector<int64_t> o3{6, 5};
  check_all_ops(make_shape(o3), 30, broadcast_strides(o3, o3), 5, broadcast_strides({5}, o3));
  check_all_ops(make_shape({}), 1, Strides{}, 1, Strides{});
}

TEST_P(BinaryTest, StridedOperands) {
  // a read transposed (a is stored [5, 9], viewed as [9, 5]); b with a step of 2 and a
  // leading stride-0 dim.
  const StridedShape s = make_shape({2, 9, 5});
  Strides as, bs;
  as.v[0] = 0, as.v[1] = 1, as.v[2] = 9;
  bs.v[0] = 0, bs.v[1] = 10, bs.v[2] = 2;
  check_all_ops(s, 45, as, 90, bs, 1, 2, 3);
}

TEST_P(BinaryTest, NaNPropagatesThroughMaximumAndMinimum) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Buffer a(GetParam(), {nan, 1.f, 2.f}), b(GetParam(), {0.f, nan, 1.f}), o(GetParam(), 3);
  const StridedShape s = make_shape({3});
  const Strides c = broadcast_strides({3}, {3});
  for (BinaryOp op : {BinaryOp::Maximum, BinaryOp::Minimum}) {
    run(op, a.data(), c, b.data(), c, o.data(), s);
    const std::vector<float> got = o.download(3);
    EXPECT_TRUE(std::isnan(got[0]) && std::isnan(got[1])) << name(op);
    EXPECT_EQ(got[2], op == BinaryOp::Maximum ? 2.f : 1.f);
  }
}

TEST_P(BinaryTest, LargeBroadcast) {
  const int64_t rows = cuda() ? 256 : 4096, cols = 257;
  const std::vector<int64_t> out{rows, cols};
  const StridedShape s = make_shape(out);
  check_all_ops(s, rows * cols, broadcast_strides(out, out), cols, broadcast_strides({cols}, out));
}

TEST_P(BinaryTest, ValidatesArguments) {
  float v = 1.f;
  StridedShape s = make_shape({2, 0, 3});
  run(BinaryOp::Add, nullptr, Strides{}, nullptr, Strides{}, nullptr, s);  // empty: no-op
  StridedShape big;
  big.ndim = kMaxDims + 1;
  EXPECT_THAT(error_of([&] { run(BinaryOp::Add, &v, {}, &v, {}, &v, big); }),
              HasSubstr("add: expected ndim in [0, 8], got 9"));
  s = make_shape({2, -1});
  EXPECT_THAT(error_of([&] { run(BinaryOp::Mul, &v, {}, &v, {}, &v, s); }),
              HasSubstr("mul: expected non-negative sizes, got size -1 at dim 1"));
  s = make_shape({1});
  EXPECT_THAT(error_of([&] { run(BinaryOp::Div, nullptr, {}, &v, {}, &v, s); }),
              HasSubstr("binary(div): expected non-null a, b and out"));
}

GE_INSTANTIATE_KERNEL_TEST(BinaryTest);

// ---- the CPU loops on each instruction set, in place, and spread over threads

TEST(ElementwiseCpuIsa, BinaryRowsInPlaceAndLarge) {
  // 3 x 70001 elements (blocks over threads; rows that end mid-block) against a [70001] row and
  // a [3, 1] column; then out == a (an accumulation), out == a == b, and a scalar in place.
  const std::vector<int64_t> dims{3, 70001};
  const StridedShape shape = make_shape(dims);
  const int64_t n = 3 * 70001;
  const std::vector<float> a = lcg(n, 31, 0.25f, 2.f), row = lcg(70001, 32, 0.25f, 2.f),
                           col = lcg(3, 33, 0.25f, 2.f);
  const Strides full = broadcast_strides(dims, dims);
  on_each_cpu_isa([&](cpu::CpuIsa) {
    for (BinaryOp op : kBinaryOps) {
      SCOPED_TRACE(name(op));
      const double tol = op == BinaryOp::Pow ? 4e-6 : 1e-6;
      std::vector<float> out(static_cast<size_t>(n));
      std::vector<double> want(static_cast<size_t>(n));
      cpu::binary(op, a.data(), full, row.data(), broadcast_strides({70001}, dims), out.data(),
                  shape);
      for (int64_t i = 0; i < n; ++i)
        want[i] = binary_ref(op, a[i], row[i % 70001]);
      EXPECT_TRUE(close(out, want, tol, tol)) << "a op row";
      cpu::binary(op, col.data(), broadcast_strides({3, 1}, dims), a.data(), full, out.data(),
                  shape);
      for (int64_t i = 0; i < n; ++i)
        want[i] = binary_ref(op, col[i / 70001], a[i]);
      EXPECT_TRUE(close(out, want, tol, tol)) << "column op a";
      std::vector<float> acc = a;
      cpu::binary(op, acc.data(), full, row.data(), broadcast_strides({70001}, dims), acc.data(),
                  shape);
      for (int64_t i = 0; i < n; ++i)
        want[i] = binary_ref(op, a[i], row[i % 70001]);
      EXPECT_TRUE(close(acc, want, tol, tol)) << "a op= row";
      acc = a;
      cpu::binary(op, acc.data(), full, acc.data(), full, acc.data(), shape);
      for (int64_t i = 0; i < n; ++i)
        want[i] = binary_ref(op, a[i], a[i]);
      EXPECT_TRUE(close(acc, want, tol, tol)) << "a op= a";
      acc = a;
      const float scalar = 1.25f;
      cpu::binary(op, acc.data(), full, &scalar, Strides{}, acc.data(), shape);
      for (int64_t i = 0; i < n; ++i)
        want[i] = binary_ref(op, a[i], scalar);
      EXPECT_TRUE(close(acc, want, tol, tol)) << "a op= scalar";
    }
  });
}

TEST(ElementwiseCpuIsa, UnaryInPlaceAndLarge) {
  const int64_t n = 200003;  // blocks over threads, a tail shorter than a vector
  on_each_cpu_isa([&](cpu::CpuIsa) {
    for (UnaryOp op : kUnaryOps) {
      SCOPED_TRACE(name(op));
      const UnaryParams p{0.5f, 1.5f};
      const std::vector<float> x = unary_inputs(op, n);
      std::vector<double> want(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        want[i] = unary_ref(op, x[i], p.a, p.b);
      std::vector<float> y(static_cast<size_t>(n)), same = x;
      cpu::unary(op, p, op == UnaryOp::Fill ? nullptr : x.data(), y.data(), n);
      cpu::unary(op, p, same.data(), same.data(), n);
      EXPECT_TRUE(close(y, want, 2e-6, 2e-6)) << "out of place";
      EXPECT_TRUE(close(same, want, 2e-6, 2e-6)) << "in place";
    }
  });
}

}  // namespace
}  // namespace ge::kernels::testing
