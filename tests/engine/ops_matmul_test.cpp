// matmul and linear on every device: values against a triple loop in double (2-D, batched,
// broadcast batch, strided operands), first and second order gradients.
#include <string>
#include <vector>

#include "engine/op_test_util.h"

namespace ge::optest {
namespace {

class MatmulTest : public DeviceTest {};

// Inner products of up to 33 float32 terms in [-1, 1]: the worst-case rounding bound is
// k * 2^-24 * sum|a||b| ~ 7e-5, so 1e-4 absolute plus 1e-4 relative.
constexpr double kAtol = 1e-4;
constexpr double kRtol = 1e-4;

void check_matmul(Device device, const Shape& as, const Shape& bs, const Shape& expected_shape,
                  uint32_t seed) {
  SCOPED_TRACE(to_string(as) + " @ " + to_string(bs));
  const auto a = lcg_values(count(as), seed);
  const auto b = lcg_values(count(bs), seed + 1);
  Shape ref_shape;
  const auto ref = matmul_ref(a, as, b, bs, &ref_shape);
  ASSERT_EQ(ref_shape, expected_shape);  // guards the reference itself
  const Tensor y = matmul(make(a, as, device), make(b, bs, device));
  EXPECT_EQ(y.shape(), expected_shape);
  EXPECT_EQ(y.device(), device);
  EXPECT_TRUE(all_close(y, ref, kAtol, kRtol));
}

TEST_P(MatmulTest, TwoDimensional) {
  check_matmul(device(), {3, 4}, {4, 5}, {3, 5}, 1);
  check_matmul(device(), {7, 33}, {33, 1}, {7, 1}, 2);
  check_matmul(device(), {1, 7}, {7, 33}, {1, 33}, 3);
  check_matmul(device(), {1, 1}, {1, 1}, {1, 1}, 4);
  check_matmul(device(), {17, 9}, {9, 13}, {17, 13}, 5);
  // Larger than one tile in every dim, none a multiple of a power of two.
  check_matmul(device(), {65, 129}, {129, 33}, {65, 33}, 6);
}

TEST_P(MatmulTest, Batched) {
  check_matmul(device(), {2, 3, 4}, {2, 4, 5}, {2, 3, 5}, 11);
  check_matmul(device(), {3, 1, 7}, {3, 7, 1}, {3, 1, 1}, 12);
}

TEST_P(MatmulTest, BroadcastBatch) {
  check_matmul(device(), {2, 1, 3, 4}, {5, 4, 6}, {2, 5, 3, 6}, 21);
  check_matmul(device(), {2, 3, 4}, {4, 5}, {2, 3, 5}, 22);  // shared right operand
  check_matmul(device(), {3, 4}, {2, 4, 5}, {2, 3, 5}, 23);  // shared left operand
  check_matmul(device(), {1, 3, 4}, {2, 4, 5}, {2, 3, 5}, 24);
}

TEST_P(MatmulTest, StridedOperands) {
  const Device d = device();
  {
    SCOPED_TRACE("both operands transposed 2-D views");
    const auto abase = lcg_values(12, 31);  // [4, 3] -> a = [3, 4]
    const auto bbase = lcg_values(20, 32);  // [5, 4] -> b = [4, 5]
    const Tensor y = matmul(make(abase, {4, 3}, d).t(), make(bbase, {5, 4}, d).t());
    EXPECT_TRUE(all_close(y,
                          matmul_ref(permuted(abase, {4, 3}, {1, 0}), {3, 4},
                                     permuted(bbase, {5, 4}, {1, 0}), {4, 5}),
                          kAtol, kRtol));
  }
  {
    SCOPED_TRACE("a @ a^T with the same storage");
    const auto v = lcg_values(12, 33);
    const Tensor a = make(v, {3, 4}, d);
    EXPECT_TRUE(all_close(matmul(a, a.t()),
                          matmul_ref(v, {3, 4}, permuted(v, {3, 4}, {1, 0}), {4, 3}), kAtol,
                          kRtol));
  }
  {
    SCOPED_TRACE("batched transpose(1, 2) and a permuted batch dim");
    const auto abase = lcg_values(24, 34);  // [2, 4, 3] -> transpose(1, 2) = [2, 3, 4]
    const auto bbase = lcg_values(40, 35);  // [4, 2, 5] -> permute(1, 0, 2) = [2, 4, 5]
    const Tensor y = matmul(make(abase, {2, 4, 3}, d).transpose(1, 2),
                            make(bbase, {4, 2, 5}, d).permute({1, 0, 2}));
    EXPECT_TRUE(all_close(y,
                          matmul_ref(permuted(abase, {2, 4, 3}, {0, 2, 1}), {2, 3, 4},
                                     permuted(bbase, {4, 2, 5}, {1, 0, 2}), {2, 4, 5}),
                          kAtol, kRtol));
  }
  {
    SCOPED_TRACE("stepped slice and expanded batch");
    const auto abase = lcg_values(24, 36);  // [3, 8] sliced with step 2 -> [3, 4]
    const auto bbase = lcg_values(20, 37);  // [1, 4, 5] expanded to [2, 4, 5]
    const Tensor y = matmul(make(abase, {3, 8}, d).slice(1, 0, 8, 2),
                            make(bbase, {1, 4, 5}, d).expand({2, 4, 5}));
    const auto b2 = gather_strided(bbase, {2, 4, 5}, {0, 5, 1}, 0);
    EXPECT_TRUE(
        all_close(y, matmul_ref(gather_strided(abase, {3, 4}, {8, 2}, 0), {3, 4}, b2, {2, 4, 5}),
                  kAtol, kRtol));
  }
}

TEST_P(MatmulTest, Gradients) {
  const Device d = device();
  const auto fn = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); };
  {
    SCOPED_TRACE("2-D");
    const Tensor a = make(lcg_values(6, 41), {2, 3}, d, true);
    const Tensor b = make(lcg_values(6, 42), {3, 2}, d, true);
    EXPECT_TRUE(grad_ok(fn, {a, b}));
    EXPECT_TRUE(gradgrad_ok(fn, {a, b}));
  }
  {
    SCOPED_TRACE("broadcast batch [2, 1, 2, 3] @ [3, 3, 2]: gradients summed over broadcast");
    const Tensor a = make(lcg_values(12, 43), {2, 1, 2, 3}, d, true);
    const Tensor b = make(lcg_values(18, 44), {3, 3, 2}, d, true);
    EXPECT_TRUE(grad_ok(fn, {a, b}));
    EXPECT_TRUE(gradgrad_ok(fn, {a, b}));
  }
  {
    SCOPED_TRACE("transposed operand inside the function");
    const Tensor a = make(lcg_values(6, 45), {3, 2}, d, true);
    const Tensor b = make(lcg_values(12, 46), {4, 3}, d, true);  // b.t() is [3, 4]
    const auto ft = [](const std::vector<Tensor>& in) { return matmul(in[0].t(), in[1].t()); };
    EXPECT_TRUE(grad_ok(ft, {a, b}));
  }
  {
    SCOPED_TRACE("hand-computed: d sum(A B) / dA = 1 B^T, / dB = A^T 1");
    const Tensor a = make({1, 2, 3, 4}, {2, 2}, d, true);
    const Tensor b = make({5, 6, 7, 8}, {2, 2}, d, true);
    matmul(a, b).sum().backward();
    EXPECT_TRUE(all_close(a.grad(), std::vector<float>{11, 15, 11, 15}));
    EXPECT_TRUE(all_close(b.grad(), std::vector<float>{4, 4, 6, 6}));
  }
}

// x [..., in] @ w[out, in]^T + b[out], written out directly.
std::vector<float> linear_ref(const std::vector<float>& x, int64_t rows, int64_t in,
                              const std::vector<float>& w, int64_t out,
                              const std::vector<float>* bias) {
  std::vector<float> y(static_cast<size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = bias ? (*bias)[static_cast<size_t>(o)] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        s += static_cast<double>(x[static_cast<size_t>(r * in + i)]) *
             w[static_cast<size_t>(o * in + i)];
      y[static_cast<size_t>(r * out + o)] = static_cast<float>(s);
    }
  return y;
}

TEST_P(MatmulTest, Linear) {
  const Device d = device();
  const auto w = lcg_values(20, 51);  // [5, 4]
  const auto b = lcg_values(5, 52);
  const Tensor tw = make(w, {5, 4}, d);
  const Tensor tb = make(b, {5}, d);
  {
    SCOPED_TRACE("[N, in] with bias");
    const auto x = lcg_values(12, 53);
    const Tensor y = linear(make(x, {3, 4}, d), tw, tb);
    EXPECT_EQ(y.shape(), Shape({3, 5}));
    EXPECT_TRUE(all_close(y, linear_ref(x, 3, 4, w, 5, &b), kAtol, kRtol));
  }
  {
    SCOPED_TRACE("[N, in] without bias");
    const auto x = lcg_values(12, 54);
    const Tensor y = linear(make(x, {3, 4}, d), tw);
    EXPECT_EQ(y.shape(), Shape({3, 5}));
    EXPECT_TRUE(all_close(y, linear_ref(x, 3, 4, w, 5, nullptr), kAtol, kRtol));
  }
  {
    SCOPED_TRACE("[B, T, in] with bias");
    const auto x = lcg_values(24, 55);
    const Tensor y = linear(make(x, {2, 3, 4}, d), tw, tb);
    EXPECT_EQ(y.shape(), Shape({2, 3, 5}));
    EXPECT_TRUE(all_close(y, linear_ref(x, 6, 4, w, 5, &b), kAtol, kRtol));
  }
  {
    SCOPED_TRACE("[B, T, in] without bias");
    const auto x = lcg_values(24, 56);
    const Tensor y = linear(make(x, {2, 3, 4}, d), tw);
    EXPECT_EQ(y.shape(), Shape({2, 3, 5}));
    EXPECT_TRUE(all_close(y, linear_ref(x, 6, 4, w, 5, nullptr), kAtol, kRtol));
  }
  {
    SCOPED_TRACE("transposed input view and odd sizes: [1, 33] x [7, 33]");
    const auto xb = lcg_values(33, 57);
    const auto w7 = lcg_values(231, 58);
    const auto b7 = lcg_values(7, 59);
    const Tensor y = linear(make(xb, {33, 1}, d).t(), make(w7, {7, 33}, d), make(b7, {7}, d));
    EXPECT_TRUE(all_close(y, linear_ref(xb, 1, 33, w7, 7, &b7), kAtol, kRtol));
  }
}

TEST_P(MatmulTest, LinearGradients) {
  const Device d = device();
  const Tensor w = make(lcg_values(6, 61), {2, 3}, d, true);
  const Tensor b = make(lcg_values(2, 62), {2}, d, true);
  const auto with_bias = [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); };
  const auto no_bias = [](const std::vector<Tensor>& in) { return linear(in[0], in[1]); };
  {
    SCOPED_TRACE("[N, in]");
    const Tensor x = make(lcg_values(6, 63), {2, 3}, d, true);
    EXPECT_TRUE(grad_ok(with_bias, {x, w, b}));
    EXPECT_TRUE(grad_ok(no_bias, {x, w}));
    EXPECT_TRUE(gradgrad_ok(with_bias, {x, w, b}));
    EXPECT_TRUE(gradgrad_ok(no_bias, {x, w}));
  }
  {
    SCOPED_TRACE("[B, T, in]: the bias gradient sums over B and T");
    const Tensor x = make(lcg_values(12, 64), {2, 2, 3}, d, true);
    EXPECT_TRUE(grad_ok(with_bias, {x, w, b}));
    EXPECT_TRUE(grad_ok(no_bias, {x, w}));
    EXPECT_TRUE(gradgrad_ok(with_bias, {x, w, b}));
  }
}

GE_INSTANTIATE_DEVICE_TEST(MatmulTest);

}  // namespace
}  // namespace ge::optest
