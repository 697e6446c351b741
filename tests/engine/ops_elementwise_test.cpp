// Elementwise ops (unary, broadcasting binary, comparisons, scalar operators) on every device:
// forward against host loops in double, gradcheck, and gradgradcheck where the second
// derivative is non-zero or the backward is itself differentiable.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine/op_test_util.h"

namespace ge::optest {
namespace {

class ElementwiseTest : public DeviceTest {};

using UnaryOp = std::function<Tensor(const Tensor&)>;
using HostUnary = std::function<double(double)>;
// Produces n inputs in the op's valid, kink-free domain.
using InputGen = std::function<std::vector<float>(int64_t n, uint32_t seed)>;

InputGen uniform(float lo, float hi) {
  return [lo, hi](int64_t n, uint32_t seed) { return lcg_values(n, seed, lo, hi); };
}
InputGen nonzero() {
  return [](int64_t n, uint32_t seed) { return away_from_zero(n, seed); };
}

struct UnarySpec {
  UnaryOp op;
  HostUnary ref;
  InputGen gen;
  bool differentiable = true;
  bool second_order = true;
};

// Forward on contiguous, odd-sized, rank-0/1 and strided (transposed, stepped slice, expanded)
// inputs; then first and second order checks.
void check_unary(Device device, const UnarySpec& s) {
  {
    SCOPED_TRACE("contiguous [3, 11]");
    const auto v = s.gen(33, 1);
    EXPECT_TRUE(all_close(s.op(make(v, {3, 11}, device)), map_unary(v, s.ref)));
  }
  {
    SCOPED_TRACE("rank 1 [7]");
    const auto v = s.gen(7, 2);
    const Tensor y = s.op(make(v, {7}, device));
    EXPECT_EQ(y.shape(), Shape({7}));
    EXPECT_EQ(y.device(), device);
    EXPECT_TRUE(all_close(y, map_unary(v, s.ref)));
  }
  {
    SCOPED_TRACE("rank 0");
    const auto v = s.gen(1, 3);
    const Tensor y = s.op(make(v, {}, device));
    EXPECT_EQ(y.dim(), 0);
    EXPECT_TRUE(all_close(y, map_unary(v, s.ref)));
  }
  {
    SCOPED_TRACE("transposed view of [4, 3]");
    const auto base = s.gen(12, 4);
    const Tensor x = make(base, {4, 3}, device).t();
    ASSERT_FALSE(x.is_contiguous());
    const Tensor y = s.op(x);
    EXPECT_EQ(y.shape(), Shape({3, 4}));
    EXPECT_TRUE(all_close(y, map_unary(permuted(base, {4, 3}, {1, 0}), s.ref)));
  }
  {
    SCOPED_TRACE("slice with step 2 of [3, 8]");
    const auto base = s.gen(24, 5);
    const Tensor x = make(base, {3, 8}, device).slice(1, 1, 8, 2);
    EXPECT_TRUE(all_close(s.op(x), map_unary(gather_strided(base, {3, 4}, {8, 2}, 1), s.ref)));
  }
  {
    SCOPED_TRACE("expanded [3, 1] -> [3, 5] (stride 0)");
    const auto base = s.gen(3, 6);
    const Tensor x = make(base, {3, 1}, device).expand({3, 5});
    EXPECT_TRUE(all_close(s.op(x), map_unary(gather_strided(base, {3, 5}, {1, 0}, 0), s.ref)));
  }
  if (!s.differentiable) return;
  const Tensor x = make(s.gen(6, 7), {2, 3}, device, /*requires_grad=*/true);
  EXPECT_TRUE(grad_ok([&](const std::vector<Tensor>& in) { return s.op(in[0]); }, {x}));
  // The same through a transposed view: the backward must honour the input's strides.
  EXPECT_TRUE(grad_ok([&](const std::vector<Tensor>& in) { return s.op(in[0].t()); }, {x}));
  if (s.second_order) {
    EXPECT_TRUE(gradgrad_ok([&](const std::vector<Tensor>& in) { return s.op(in[0]); }, {x}));
  }
}

TEST_P(ElementwiseTest, Neg) {
  check_unary(device(), {[](const Tensor& x) { return neg(x); }, [](double x) { return -x; },
                         uniform(-2.f, 2.f)});
}

TEST_P(ElementwiseTest, Exp) {
  check_unary(device(), {[](const Tensor& x) { return exp(x); },
                         [](double x) { return std::exp(x); }, uniform(-2.f, 2.f)});
}

TEST_P(ElementwiseTest, Log) {
  // Positive inputs bounded away from the singularity at 0.
  check_unary(device(), {[](const Tensor& x) { return log(x); },
                         [](double x) { return std::log(x); }, uniform(0.2f, 3.f)});
}

TEST_P(ElementwiseTest, Sqrt) {
  check_unary(device(), {[](const Tensor& x) { return sqrt(x); },
                         [](double x) { return std::sqrt(x); }, uniform(0.2f, 3.f)});
}

TEST_P(ElementwiseTest, Rsqrt) {
  check_unary(device(), {[](const Tensor& x) { return rsqrt(x); },
                         [](double x) { return 1.0 / std::sqrt(x); }, uniform(0.2f, 3.f)});
}

TEST_P(ElementwiseTest, Abs) {
  // Inputs at least 0.1 from the kink at 0; the second derivative is 0 almost everywhere.
  check_unary(device(), {[](const Tensor& x) { return abs(x); },
                         [](double x) { return std::fabs(x); }, nonzero(), true, false});
}

TEST_P(ElementwiseTest, Square) {
  check_unary(device(), {[](const Tensor& x) { return square(x); }, [](double x) { return x * x; },
                         uniform(-2.f, 2.f)});
}

TEST_P(ElementwiseTest, Tanh) {
  check_unary(device(), {[](const Tensor& x) { return tanh(x); },
                         [](double x) { return std::tanh(x); }, uniform(-2.f, 2.f)});
}

TEST_P(ElementwiseTest, Sigmoid) {
  check_unary(device(), {[](const Tensor& x) { return sigmoid(x); },
                         [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, uniform(-3.f, 3.f)});
}

TEST_P(ElementwiseTest, Softplus) {
  check_unary(device(), {[](const Tensor& x) { return softplus(x); },
                         [](double x) { return std::log1p(std::exp(x)); }, uniform(-3.f, 3.f)});
}

TEST_P(ElementwiseTest, Relu) {
  check_unary(device(), {[](const Tensor& x) { return relu(x); },
                         [](double x) { return x > 0 ? x : 0.0; }, nonzero(), true, false});
}

TEST_P(ElementwiseTest, Clamp) {
  // Keep every input >= 0.1 away from both bounds (+-0.5) so finite differences never cross
  // the kinks; the lcg range [-1.1, 1.1] still puts values below, inside and above the bounds.
  InputGen gen = [](int64_t n, uint32_t seed) {
    std::vector<float> v = lcg_values(n, seed, -1.1f, 1.1f);
    for (float& x : v)
      if (std::fabs(std::fabs(x) - 0.5f) < 0.1f) x += x < 0 ? -0.2f : 0.2f;
    return v;
  };
  check_unary(device(),
              {[](const Tensor& x) { return clamp(x, -0.5f, 0.5f); },
               [](double x) { return std::min(0.5, std::max(-0.5, x)); }, gen, true, false});
}

TEST_P(ElementwiseTest, Sign) {
  check_unary(device(), {[](const Tensor& x) { return sign(x); },
                         [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }, nonzero(),
                         false, false});
  // sign(0) is 0, and the result carries no history even for an input that requires grad.
  const Tensor x = make({-2.f, 0.f, 3.f}, {3}, device(), true);
  const Tensor y = sign(x);
  EXPECT_TRUE(all_close(y, std::vector<float>{-1.f, 0.f, 1.f}));
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST_P(ElementwiseTest, SaturatingInputsStayFinite) {
  // GAN losses feed large logits into these; a naive log(1 + exp(x)) overflows at x > 88.
  const std::vector<float> v = {-100.f, -30.f, 30.f, 100.f};
  const Tensor x = make(v, {4}, device());
  EXPECT_TRUE(
      all_close(softplus(x), std::vector<float>{0.f, 9.357623e-14f, 30.f, 100.f}, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(sigmoid(x), std::vector<float>{0.f, 9.357623e-14f, 1.f, 1.f}, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(tanh(x), std::vector<float>{-1.f, -1.f, 1.f, 1.f}, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(exp(make({-100.f}, {1}, device())), std::vector<float>{0.f}, 1e-30));

  // Their gradients must saturate to 0 or 1 as well, never inf/inf = NaN.
  const Tensor xg = make(v, {4}, device(), true);
  const std::vector<Tensor> g =
      ge::grad({softplus(xg).sum(), sigmoid(xg).sum(), tanh(xg).sum()}, {xg});
  ASSERT_EQ(g.size(), 1u);
  // d/dx [softplus + sigmoid + tanh] = s + s (1 - s) + (1 - t^2), with s = sigmoid, t = tanh.
  const auto ref = map_unary(v, [](double x) {
    const double sg = 1.0 / (1.0 + std::exp(-x));
    const double t = std::tanh(x);
    return sg + sg * (1 - sg) + (1 - t * t);
  });
  EXPECT_TRUE(all_close(g[0], ref, 1e-6, 1e-5));
}

TEST_P(ElementwiseTest, SizesBeyondOneBlock) {
  // Odd sizes larger than a typical launch (256/1024 threads): tails and grid-stride loops.
  const auto v = lcg_values(5003, 51, -2.f, 2.f);
  EXPECT_TRUE(all_close(exp(make(v, {5003}, device())),
                        map_unary(v, [](double x) { return std::exp(x); })));
  const auto a = lcg_values(37 * 129, 52);
  const auto b = lcg_values(129, 53);
  EXPECT_TRUE(all_close(mul(make(a, {129, 37}, device()).t(), make(b, {129}, device())),
                        map_binary(permuted(a, {129, 37}, {1, 0}), {37, 129}, b, {129},
                                   [](double x, double y) { return x * y; })));
  // Broadcast on both sides into 4105 outputs.
  const auto c = lcg_values(5, 54);
  const auto d = lcg_values(821, 55);
  EXPECT_TRUE(all_close(sub(make(c, {5, 1}, device()), make(d, {821}, device())),
                        map_binary(c, {5, 1}, d, {821}, [](double x, double y) { return x - y; })));
}

// --- binary ops

using BinaryOp = std::function<Tensor(const Tensor&, const Tensor&)>;
using HostBinary = std::function<double(double, double)>;

struct BinarySpec {
  BinaryOp op;
  HostBinary ref;
  InputGen gen_a;
  InputGen gen_b;
  bool second_order = true;
};

void check_binary_forward(Device device, const BinarySpec& s, const Shape& as, const Shape& bs,
                          uint32_t seed) {
  SCOPED_TRACE(to_string(as) + " with " + to_string(bs));
  const auto a = s.gen_a(count(as), seed);
  const auto b = s.gen_b(count(bs), seed + 100);
  const Tensor y = s.op(make(a, as, device), make(b, bs, device));
  EXPECT_EQ(y.shape(), broadcast_shape(as, bs));
  EXPECT_EQ(y.device(), device);
  EXPECT_TRUE(all_close(y, map_binary(a, as, b, bs, s.ref)));
}

void check_binary(Device device, const BinarySpec& s) {
  check_binary_forward(device, s, {2, 3, 4}, {3, 1}, 1);
  check_binary_forward(device, s, {2, 3, 4}, {1}, 2);
  check_binary_forward(device, s, {1}, {2, 3, 4}, 3);
  check_binary_forward(device, s, {4, 1, 3}, {1, 5, 1}, 4);
  check_binary_forward(device, s, {33}, {33}, 5);
  check_binary_forward(device, s, {7, 1}, {1, 1}, 6);
  check_binary_forward(device, s, {}, {2, 3}, 7);
  check_binary_forward(device, s, {}, {}, 8);
  {
    SCOPED_TRACE("transposed [4, 3] view with a contiguous [3, 4]");
    const auto abase = s.gen_a(12, 9);
    const auto b = s.gen_b(12, 10);
    const Tensor at = make(abase, {4, 3}, device).t();
    EXPECT_TRUE(all_close(s.op(at, make(b, {3, 4}, device)),
                          map_binary(permuted(abase, {4, 3}, {1, 0}), {3, 4}, b, {3, 4}, s.ref)));
  }
  {
    SCOPED_TRACE("permuted [2, 3, 4] -> [4, 2, 3] with a stepped slice broadcast [1, 3]");
    const auto abase = s.gen_a(24, 11);
    const auto bbase = s.gen_b(6, 12);
    const Tensor ap = make(abase, {2, 3, 4}, device).permute({2, 0, 1});
    const Tensor bs = make(bbase, {1, 6}, device).slice(1, 0, 6, 2);
    EXPECT_TRUE(all_close(s.op(ap, bs),
                          map_binary(permuted(abase, {2, 3, 4}, {2, 0, 1}), {4, 2, 3},
                                     gather_strided(bbase, {1, 3}, {6, 2}, 0), {1, 3}, s.ref)));
  }
  // Gradients with broadcasting on both sides: a [2, 1, 3] and b [2, 1] -> [2, 2, 3], so the
  // backward must reduce each gradient back to its operand's shape.
  const Tensor a = make(s.gen_a(6, 13), {2, 1, 3}, device, true);
  const Tensor b = make(s.gen_b(2, 14), {2, 1}, device, true);
  const auto fn = [&](const std::vector<Tensor>& in) { return s.op(in[0], in[1]); };
  EXPECT_TRUE(grad_ok(fn, {a, b}));
  const Tensor c = make(s.gen_b(6, 15), {2, 3}, device, true);
  EXPECT_TRUE(grad_ok(fn, {a, c}));
  if (s.second_order) {
    const Tensor a2 = make(s.gen_a(6, 16), {2, 3}, device, true);
    const Tensor b2 = make(s.gen_b(3, 17), {3}, device, true);
    EXPECT_TRUE(gradgrad_ok(fn, {a2, b2}));
  }
}

TEST_P(ElementwiseTest, Add) {
  check_binary(device(),
               {[](const Tensor& a, const Tensor& b) { return add(a, b); },
                [](double a, double b) { return a + b; }, uniform(-1.f, 1.f), uniform(-1.f, 1.f)});
}

TEST_P(ElementwiseTest, Sub) {
  check_binary(device(),
               {[](const Tensor& a, const Tensor& b) { return sub(a, b); },
                [](double a, double b) { return a - b; }, uniform(-1.f, 1.f), uniform(-1.f, 1.f)});
}

TEST_P(ElementwiseTest, Mul) {
  check_binary(device(),
               {[](const Tensor& a, const Tensor& b) { return mul(a, b); },
                [](double a, double b) { return a * b; }, uniform(-1.f, 1.f), uniform(-1.f, 1.f)});
}

TEST_P(ElementwiseTest, Div) {
  // Divisors of either sign but at least 0.5 in magnitude, away from the pole at 0.
  InputGen divisor = [](int64_t n, uint32_t seed) { return away_from_zero(n, seed, 0.5f, 1.f); };
  check_binary(device(), {[](const Tensor& a, const Tensor& b) { return div(a, b); },
                          [](double a, double b) { return a / b; }, uniform(-1.f, 1.f), divisor});
}

TEST_P(ElementwiseTest, PowTensorExponent) {
  // Positive bases keep a^b real and log(a) (in d/db) finite.
  check_binary(device(), {[](const Tensor& a, const Tensor& b) { return pow(a, b); },
                          [](double a, double b) { return std::pow(a, b); }, uniform(0.5f, 2.f),
                          uniform(-1.5f, 1.5f)});
}

TEST_P(ElementwiseTest, Maximum) {
  // |a| >= 0.1 and |b| < 0.05: no element ties or comes within eps of a tie.
  check_binary(device(), {[](const Tensor& a, const Tensor& b) { return maximum(a, b); },
                          [](double a, double b) { return std::max(a, b); }, nonzero(),
                          uniform(-0.05f, 0.05f), false});
}

TEST_P(ElementwiseTest, Minimum) {
  check_binary(device(), {[](const Tensor& a, const Tensor& b) { return minimum(a, b); },
                          [](double a, double b) { return std::min(a, b); }, nonzero(),
                          uniform(-0.05f, 0.05f), false});
}

TEST_P(ElementwiseTest, PowScalarExponent) {
  const auto base = lcg_values(33, 21, 0.2f, 2.f);
  for (float e : {2.5f, -1.5f, 0.5f, 1.f, 0.f}) {
    SCOPED_TRACE("exponent " + std::to_string(e));
    EXPECT_TRUE(all_close(pow(make(base, {3, 11}, device()), e),
                          map_unary(base, [e](double x) { return std::pow(x, double(e)); })));
  }
  // Integral exponents are defined for negative bases (x^2 = x*x), as in std::pow and torch.
  const auto mixed = away_from_zero(12, 22);
  for (float e : {2.f, 3.f}) {
    SCOPED_TRACE("negative bases, exponent " + std::to_string(e));
    EXPECT_TRUE(all_close(pow(make(mixed, {12}, device()), e),
                          map_unary(mixed, [e](double x) { return std::pow(x, double(e)); })));
  }
  const Tensor x = make(lcg_values(6, 23, 0.5f, 2.f), {2, 3}, device(), true);
  for (float e : {2.5f, -1.5f}) {
    SCOPED_TRACE("gradients, exponent " + std::to_string(e));
    const auto fn = [e](const std::vector<Tensor>& in) { return pow(in[0], e); };
    EXPECT_TRUE(grad_ok(fn, {x}));
    EXPECT_TRUE(gradgrad_ok(fn, {x}));
  }
  // d/dx x^2 = 2x holds for negative x too.
  const Tensor xm = make(away_from_zero(6, 24), {2, 3}, device(), true);
  EXPECT_TRUE(grad_ok([](const std::vector<Tensor>& in) { return pow(in[0], 2.f); }, {xm}));
}

TEST_P(ElementwiseTest, ScalarOperators) {
  const auto v = away_from_zero(12, 31, 0.5f, 1.f);
  const Tensor x = make(v, {3, 4}, device());
  EXPECT_TRUE(all_close(x + 2.f, map_unary(v, [](double a) { return a + 2; })));
  EXPECT_TRUE(all_close(x - 2.f, map_unary(v, [](double a) { return a - 2; })));
  EXPECT_TRUE(all_close(x * 2.f, map_unary(v, [](double a) { return a * 2; })));
  EXPECT_TRUE(all_close(x / 2.f, map_unary(v, [](double a) { return a / 2; })));
  EXPECT_TRUE(all_close(2.f + x, map_unary(v, [](double a) { return 2 + a; })));
  EXPECT_TRUE(all_close(2.f - x, map_unary(v, [](double a) { return 2 - a; })));
  EXPECT_TRUE(all_close(2.f * x, map_unary(v, [](double a) { return 2 * a; })));
  EXPECT_TRUE(all_close(2.f / x, map_unary(v, [](double a) { return 2 / a; })));
  EXPECT_TRUE(all_close(-x, map_unary(v, [](double a) { return -a; })));

  const auto w = lcg_values(4, 32);
  const Tensor y = make(w, {4}, device());
  EXPECT_TRUE(all_close(x + y, map_binary(v, {3, 4}, w, {4}, std::plus<double>())));
  EXPECT_TRUE(all_close(x - y, map_binary(v, {3, 4}, w, {4}, std::minus<double>())));
  EXPECT_TRUE(all_close(x * y, map_binary(v, {3, 4}, w, {4}, std::multiplies<double>())));
  EXPECT_TRUE(all_close(y / x, map_binary(w, {4}, v, {3, 4}, std::divides<double>())));

  const Tensor xg = make(away_from_zero(6, 33, 0.5f, 1.f), {2, 3}, device(), true);
  EXPECT_TRUE(
      grad_ok([](const std::vector<Tensor>& in) { return 2.f / in[0] - in[0] * 3.f + 1.f; }, {xg}));
  EXPECT_TRUE(gradgrad_ok([](const std::vector<Tensor>& in) { return 2.f / in[0]; }, {xg}));
}

// --- comparisons: values drawn from {-1, 0, 1} so ties are common and exercise eq/ge/le.

std::vector<float> small_ints(int64_t n, uint32_t seed) {
  std::vector<float> v = lcg_values(n, seed, -1.5f, 1.5f);
  for (float& x : v)
    x = std::round(x);
  return v;
}

void check_comparison(Device device, const BinaryOp& op, const HostBinary& ref) {
  const auto a = small_ints(24, 41);
  const auto b = small_ints(4, 42);
  const Tensor ta = make(a, {2, 3, 4}, device, /*requires_grad=*/true);
  const Tensor y = op(ta, make(b, {4}, device));
  EXPECT_EQ(y.shape(), Shape({2, 3, 4}));
  EXPECT_TRUE(all_close(y, map_binary(a, {2, 3, 4}, b, {4}, ref), 0, 0));
  // Not differentiable: no history, even though an input requires grad.
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
  // A transposed operand compares element by element in logical (not storage) order.
  const auto c = small_ints(12, 43);
  const auto d = small_ints(12, 44);
  EXPECT_TRUE(all_close(op(make(c, {4, 3}, device).t(), make(d, {3, 4}, device)),
                        map_binary(permuted(c, {4, 3}, {1, 0}), {3, 4}, d, {3, 4}, ref), 0, 0));
}

TEST_P(ElementwiseTest, Eq) {
  check_comparison(
      device(), [](const Tensor& a, const Tensor& b) { return eq(a, b); },
      [](double a, double b) { return a == b ? 1.0 : 0.0; });
}

TEST_P(ElementwiseTest, Gt) {
  check_comparison(
      device(), [](const Tensor& a, const Tensor& b) { return gt(a, b); },
      [](double a, double b) { return a > b ? 1.0 : 0.0; });
}

TEST_P(ElementwiseTest, Ge) {
  check_comparison(
      device(), [](const Tensor& a, const Tensor& b) { return ge::ge(a, b); },
      [](double a, double b) { return a >= b ? 1.0 : 0.0; });
}

TEST_P(ElementwiseTest, Lt) {
  check_comparison(
      device(), [](const Tensor& a, const Tensor& b) { return lt(a, b); },
      [](double a, double b) { return a < b ? 1.0 : 0.0; });
}

TEST_P(ElementwiseTest, Le) {
  check_comparison(
      device(), [](const Tensor& a, const Tensor& b) { return le(a, b); },
      [](double a, double b) { return a <= b ? 1.0 : 0.0; });
}

// Backward of a broadcast op through .backward(): hand-computed gradient values, independent
// of gradcheck's own machinery.
TEST_P(ElementwiseTest, BroadcastGradientsAccumulateIntoLeaves) {
  const Tensor a = make({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3}, device(), true);
  const Tensor b = make({10.f, 20.f, 30.f}, {3}, device(), true);
  // L = sum(a * b): dL/da[i][j] = b[j]; dL/db[j] = sum_i a[i][j].
  mul(a, b).sum().backward();
  ASSERT_TRUE(a.grad().defined());
  ASSERT_TRUE(b.grad().defined());
  EXPECT_EQ(a.grad().device(), device());
  EXPECT_EQ(b.grad().shape(), Shape({3}));
  EXPECT_TRUE(all_close(a.grad(), std::vector<float>{10, 20, 30, 10, 20, 30}));
  EXPECT_TRUE(all_close(b.grad(), std::vector<float>{5, 7, 9}));
  // A second backward accumulates into .grad.
  add(a, b).sum().backward();
  EXPECT_TRUE(all_close(a.grad(), std::vector<float>{11, 21, 31, 11, 21, 31}));
  EXPECT_TRUE(all_close(b.grad(), std::vector<float>{7, 9, 11}));
}

GE_INSTANTIATE_DEVICE_TEST(ElementwiseTest);

}  // namespace
}  // namespace ge::optest
