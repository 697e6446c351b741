// conv2d and conv_transpose2d on every device against direct definitions written here in
// double (a 7-deep loop for conv2d, the scatter definition for conv_transpose2d), first and
// second order gradients, and the validation messages.
#include "ganengine/conv.h"

#include <array>
#include <string>
#include <vector>

#include "engine/op_test_util.h"

namespace ge {
namespace {

using optest::all_close;
using optest::contains;
using optest::count;
using optest::grad_ok;
using optest::gradgrad_ok;
using optest::lcg_values;
using optest::make;

// Up to 50 float32 products of values in [-1, 1] plus a bias: rounding stays below 1e-5.
constexpr double kAtol = 1e-4;
constexpr double kRtol = 1e-4;

struct Ref {
  std::vector<float> values;
  Shape shape;
};

Ref conv2d_ref(const std::vector<float>& x, const Shape& xs, const std::vector<float>& w,
               const Shape& ws, const std::vector<float>* bias, const Conv2dOptions& o) {
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const int64_t O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3], G = o.groups, Og = O / G;
  const int64_t HO = (H + 2 * o.padding[0] - KH) / o.stride[0] + 1;
  const int64_t WO = (W + 2 * o.padding[1] - KW) / o.stride[1] + 1;
  Ref r{std::vector<float>(static_cast<size_t>(N * O * HO * WO)), {N, O, HO, WO}};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < O; ++oc)
      for (int64_t oy = 0; oy < HO; ++oy)
        for (int64_t ox = 0; ox < WO; ++ox) {
          double s = bias ? (*bias)[static_cast<size_t>(oc)] : 0.0;
          for (int64_t ci = 0; ci < Cg; ++ci)
            for (int64_t ki = 0; ki < KH; ++ki)
              for (int64_t kj = 0; kj < KW; ++kj) {
                const int64_t y = oy * o.stride[0] - o.padding[0] + ki;
                const int64_t xx = ox * o.stride[1] - o.padding[1] + kj;
                if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
                const int64_t c = oc / Og * Cg + ci;
                s += static_cast<double>(x[static_cast<size_t>(((n * C + c) * H + y) * W + xx)]) *
                     w[static_cast<size_t>(((oc * Cg + ci) * KH + ki) * KW + kj)];
              }
          r.values[static_cast<size_t>(((n * O + oc) * HO + oy) * WO + ox)] = static_cast<float>(s);
        }
  return r;
}

// Every input pixel scatters x * w into the output window it reaches.
Ref conv_transpose2d_ref(const std::vector<float>& x, const Shape& xs, const std::vector<float>& w,
                         const Shape& ws, const std::vector<float>* bias, const Conv2dOptions& o) {
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const int64_t Og = ws[1], KH = ws[2], KW = ws[3], G = o.groups, O = Og * G, Cg = C / G;
  const int64_t HO = (H - 1) * o.stride[0] - 2 * o.padding[0] + KH + o.output_padding[0];
  const int64_t WO = (W - 1) * o.stride[1] - 2 * o.padding[1] + KW + o.output_padding[1];
  std::vector<double> acc(static_cast<size_t>(N * O * HO * WO), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t iy = 0; iy < H; ++iy)
        for (int64_t ix = 0; ix < W; ++ix)
          for (int64_t oi = 0; oi < Og; ++oi)
            for (int64_t ki = 0; ki < KH; ++ki)
              for (int64_t kj = 0; kj < KW; ++kj) {
                const int64_t y = iy * o.stride[0] - o.padding[0] + ki;
                const int64_t xx = ix * o.stride[1] - o.padding[1] + kj;
                if (y < 0 || y >= HO || xx < 0 || xx >= WO) continue;
                const int64_t oc = c / Cg * Og + oi;
                acc[static_cast<size_t>(((n * O + oc) * HO + y) * WO + xx)] +=
                    static_cast<double>(x[static_cast<size_t>(((n * C + c) * H + iy) * W + ix)]) *
                    w[static_cast<size_t>(((c * Og + oi) * KH + ki) * KW + kj)];
              }
  Ref r{std::vector<float>(acc.size()), {N, O, HO, WO}};
  for (size_t i = 0; i < acc.size(); ++i) {
    const double b = bias ? (*bias)[i / static_cast<size_t>(HO * WO) % static_cast<size_t>(O)] : 0;
    r.values[i] = static_cast<float>(acc[i] + b);
  }
  return r;
}

class ConvTest : public DeviceTest {
 protected:
  void check(bool transposed, const Shape& xs, const Shape& ws, const Conv2dOptions& o,
             const Shape& expected_shape, bool with_bias, uint32_t seed) {
    SCOPED_TRACE(std::string(transposed ? "conv_transpose2d " : "conv2d ") + to_string(xs) + " w " +
                 to_string(ws) + " stride " + std::to_string(o.stride[0]) + "x" +
                 std::to_string(o.stride[1]) + " pad " + std::to_string(o.padding[0]) + "x" +
                 std::to_string(o.padding[1]) + " out_pad " + std::to_string(o.output_padding[0]) +
                 " groups " + std::to_string(o.groups) + (with_bias ? " bias" : ""));
    const auto x = lcg_values(count(xs), seed);
    const auto w = lcg_values(count(ws), seed + 1);
    const int64_t channels = expected_shape[1];
    const auto b = lcg_values(channels, seed + 2);
    const Ref ref = transposed ? conv_transpose2d_ref(x, xs, w, ws, with_bias ? &b : nullptr, o)
                               : conv2d_ref(x, xs, w, ws, with_bias ? &b : nullptr, o);
    ASSERT_EQ(ref.shape, expected_shape);  // guards the reference itself
    const Device d = device();
    const Tensor tb = with_bias ? make(b, {channels}, d) : Tensor();
    const Tensor y = transposed ? conv_transpose2d(make(x, xs, d), make(w, ws, d), tb, o)
                                : conv2d(make(x, xs, d), make(w, ws, d), tb, o);
    EXPECT_EQ(y.shape(), expected_shape);
    EXPECT_EQ(y.device(), d);
    EXPECT_TRUE(all_close(y, ref.values, kAtol, kRtol));
  }
};

Conv2dOptions opts(std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                   std::array<int64_t, 2> output_padding = {0, 0}, int64_t groups = 1) {
  Conv2dOptions o;
  o.stride = stride;
  o.padding = padding;
  o.output_padding = output_padding;
  o.groups = groups;
  return o;
}

TEST_P(ConvTest, DcganGeneratorLayer) {
  // k4 s2 p1 transposed: 7x7 -> 14x14, as in the DCGAN-MNIST generator with fewer channels.
  check(true, {1, 4, 7, 7}, {4, 3, 4, 4}, Conv2dOptions(2, 1), {1, 3, 14, 14}, true, 1);
  check(true, {3, 4, 7, 7}, {4, 3, 4, 4}, Conv2dOptions(2, 1), {3, 3, 14, 14}, false, 2);
}

TEST_P(ConvTest, DcganDiscriminatorLayer) {
  check(false, {1, 3, 14, 14}, {4, 3, 4, 4}, Conv2dOptions(2, 1), {1, 4, 7, 7}, true, 3);
  check(false, {3, 2, 14, 14}, {4, 2, 4, 4}, Conv2dOptions(2, 1), {3, 4, 7, 7}, false, 4);
}

TEST_P(ConvTest, ThreeByThreeSamePadding) {
  check(false, {2, 3, 5, 5}, {4, 3, 3, 3}, Conv2dOptions(1, 1), {2, 4, 5, 5}, true, 5);
  check(true, {2, 3, 5, 5}, {3, 4, 3, 3}, Conv2dOptions(1, 1), {2, 4, 5, 5}, true, 6);
}

TEST_P(ConvTest, KernelFive) {
  check(false, {1, 2, 9, 8}, {3, 2, 5, 5}, Conv2dOptions(1, 0), {1, 3, 5, 4}, true, 7);
  check(false, {2, 2, 6, 7}, {3, 2, 5, 5}, Conv2dOptions(1, 2), {2, 3, 6, 7}, false, 8);
  check(true, {1, 2, 3, 4}, {2, 3, 5, 5}, Conv2dOptions(1, 0), {1, 3, 7, 8}, true, 9);
}

TEST_P(ConvTest, StrideTwoWithOutputPadding) {
  // (4 - 1) * 2 - 2 + 3 + 1 = 8: output_padding picks the size a stride-2 conv2d folded away.
  check(true, {2, 3, 4, 5}, {3, 2, 3, 3}, Conv2dOptions(2, 1, 1), {2, 2, 8, 10}, true, 10);
  check(true, {1, 2, 3, 3}, {2, 2, 3, 3}, opts({2, 2}, {1, 1}, {1, 0}), {1, 2, 6, 5}, true, 11);
  check(false, {2, 2, 8, 10}, {3, 2, 3, 3}, Conv2dOptions(2, 1), {2, 3, 4, 5}, true, 12);
}

TEST_P(ConvTest, Groups) {
  check(false, {2, 4, 6, 6}, {6, 2, 3, 3}, Conv2dOptions(1, 1, 0, 2), {2, 6, 6, 6}, true, 13);
  check(true, {2, 4, 5, 5}, {4, 3, 3, 3}, Conv2dOptions(1, 1, 0, 2), {2, 6, 5, 5}, true, 14);
  check(true, {1, 4, 3, 3}, {4, 1, 4, 4}, Conv2dOptions(2, 1, 0, 2), {1, 2, 6, 6}, false, 15);
}

TEST_P(ConvTest, Depthwise) {
  check(false, {2, 3, 6, 6}, {3, 1, 3, 3}, Conv2dOptions(1, 1, 0, 3), {2, 3, 6, 6}, true, 16);
  check(false, {1, 3, 6, 6}, {6, 1, 3, 3}, Conv2dOptions(2, 0, 0, 3), {1, 6, 2, 2}, true, 17);
  check(true, {2, 3, 4, 4}, {3, 1, 4, 4}, Conv2dOptions(2, 1, 0, 3), {2, 3, 8, 8}, true, 18);
}

TEST_P(ConvTest, OddSizesAndNonSquare) {
  check(false, {3, 2, 7, 5}, {2, 2, 3, 2}, opts({2, 1}, {1, 0}), {3, 2, 4, 4}, true, 19);
  check(false, {1, 1, 1, 1}, {2, 1, 1, 1}, Conv2dOptions(), {1, 2, 1, 1}, true, 20);
  check(false, {1, 3, 11, 3}, {1, 3, 1, 3}, opts({3, 1}, {0, 0}), {1, 1, 4, 1}, true, 21);
  check(true, {3, 2, 5, 3}, {2, 3, 3, 2}, opts({2, 3}, {1, 0}, {1, 2}), {3, 3, 10, 10}, true, 22);
  check(true, {1, 1, 1, 1}, {1, 2, 3, 3}, Conv2dOptions(), {1, 2, 3, 3}, true, 23);
}

TEST_P(ConvTest, StridedInputs) {
  const Device d = device();
  const auto xb = lcg_values(2 * 3 * 5 * 6, 31);  // [5, 2, 3, 6] permuted to [2, 3, 5, 6]
  const auto w = lcg_values(4 * 3 * 3 * 3, 32);
  const auto xp = optest::permuted(xb, {5, 2, 3, 6}, {1, 2, 0, 3});
  const Tensor x = make(xb, {5, 2, 3, 6}, d).permute({1, 2, 0, 3});
  const Ref ref = conv2d_ref(xp, {2, 3, 5, 6}, w, {4, 3, 3, 3}, nullptr, Conv2dOptions(1, 1));
  EXPECT_TRUE(all_close(conv2d(x, make(w, {4, 3, 3, 3}, d), Tensor(), Conv2dOptions(1, 1)),
                        ref.values, kAtol, kRtol));
  // A transposed weight view: [3, 4, 3, 3] as transpose(0, 1) of a [4, 3, 3, 3] tensor.
  const auto wt = optest::permuted(w, {4, 3, 3, 3}, {1, 0, 2, 3});
  const Ref tref =
      conv_transpose2d_ref(xp, {2, 3, 5, 6}, wt, {3, 4, 3, 3}, nullptr, Conv2dOptions(1, 1));
  EXPECT_TRUE(all_close(
      conv_transpose2d(x, make(w, {4, 3, 3, 3}, d).transpose(0, 1), Tensor(), Conv2dOptions(1, 1)),
      tref.values, kAtol, kRtol));
}

TEST_P(ConvTest, Conv2dGradients) {
  const Device d = device();
  const Conv2dOptions o(2, 1);
  const auto fn = [o](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], o); };
  const Tensor x = make(lcg_values(2 * 2 * 5 * 4, 41), {2, 2, 5, 4}, d, true);
  const Tensor w = make(lcg_values(3 * 2 * 3 * 3, 42), {3, 2, 3, 3}, d, true);
  const Tensor b = make(lcg_values(3, 43), {3}, d, true);
  EXPECT_TRUE(grad_ok(fn, {x, w, b}));
  EXPECT_TRUE(gradgrad_ok(fn, {x, w, b}));
  const Conv2dOptions og(1, 1, 0, 2);
  const auto grouped = [og](const std::vector<Tensor>& in) {
    return conv2d(in[0], in[1], Tensor(), og);
  };
  const Tensor xg = make(lcg_values(1 * 4 * 3 * 3, 44), {1, 4, 3, 3}, d, true);
  const Tensor wg = make(lcg_values(2 * 2 * 2 * 2, 45), {2, 2, 2, 2}, d, true);
  EXPECT_TRUE(grad_ok(grouped, {xg, wg}));
  EXPECT_TRUE(gradgrad_ok(grouped, {xg, wg}));
}

TEST_P(ConvTest, ConvTranspose2dGradients) {
  const Device d = device();
  const Conv2dOptions o(2, 1, 1);
  const auto fn = [o](const std::vector<Tensor>& in) {
    return conv_transpose2d(in[0], in[1], in[2], o);
  };
  const Tensor x = make(lcg_values(2 * 2 * 3 * 2, 51), {2, 2, 3, 2}, d, true);
  const Tensor w = make(lcg_values(2 * 3 * 3 * 3, 52), {2, 3, 3, 3}, d, true);
  const Tensor b = make(lcg_values(3, 53), {3}, d, true);
  EXPECT_TRUE(grad_ok(fn, {x, w, b}));
  EXPECT_TRUE(gradgrad_ok(fn, {x, w, b}));
  const Conv2dOptions og(2, 1, 0, 2);
  const auto grouped = [og](const std::vector<Tensor>& in) {
    return conv_transpose2d(in[0], in[1], Tensor(), og);
  };
  const Tensor xg = make(lcg_values(1 * 4 * 2 * 2, 54), {1, 4, 2, 2}, d, true);
  const Tensor wg = make(lcg_values(4 * 1 * 4 * 4, 55), {4, 1, 4, 4}, d, true);
  EXPECT_TRUE(grad_ok(grouped, {xg, wg}));
  EXPECT_TRUE(gradgrad_ok(grouped, {xg, wg}));
}

TEST_P(ConvTest, HandComputedGradients) {
  // y = conv2d(x, w) with a 1x1 output: dy/dx = w (placed), dy/dw = x window, dy/db = 1.
  const Device d = device();
  const Tensor x = make({1, 2, 3, 4}, {1, 1, 2, 2}, d, true);
  const Tensor w = make({5, 6, 7, 8}, {1, 1, 2, 2}, d, true);
  const Tensor b = make({0.5f}, {1}, d, true);
  const Tensor y = conv2d(x, w, b);
  EXPECT_TRUE(all_close(y, std::vector<float>{70.5f}));
  y.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), std::vector<float>{5, 6, 7, 8}));
  EXPECT_TRUE(all_close(w.grad(), std::vector<float>{1, 2, 3, 4}));
  EXPECT_TRUE(all_close(b.grad(), std::vector<float>{1}));
}

TEST_P(ConvTest, Conv2dWeightMatchesBackward) {
  const Device d = device();
  const auto xv = lcg_values(2 * 2 * 6 * 6, 61);
  const auto gv = lcg_values(2 * 4 * 3 * 3, 62);
  const Tensor x = make(xv, {2, 2, 6, 6}, d);
  const Tensor w = make(lcg_values(4 * 2 * 3 * 3, 63), {4, 2, 3, 3}, d, true);
  const Tensor y = conv2d(x, w, Tensor(), Conv2dOptions(2, 1));
  y.backward(make(gv, {2, 4, 3, 3}, d));
  // dw[o, c, i, j] = sum_{n, oy, ox} g[n, o, oy, ox] * x[n, c, 2 oy - 1 + i, 2 ox - 1 + j].
  std::vector<float> want(4 * 2 * 3 * 3);
  for (int64_t oc = 0; oc < 4; ++oc)
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 3; ++j) {
          double s = 0;
          for (int64_t n = 0; n < 2; ++n)
            for (int64_t oy = 0; oy < 3; ++oy)
              for (int64_t ox = 0; ox < 3; ++ox) {
                const int64_t yy = 2 * oy - 1 + i, xx = 2 * ox - 1 + j;
                if (yy < 0 || yy >= 6 || xx < 0 || xx >= 6) continue;
                s +=
                    static_cast<double>(gv[static_cast<size_t>(((n * 4 + oc) * 3 + oy) * 3 + ox)]) *
                    xv[static_cast<size_t>(((n * 2 + c) * 6 + yy) * 6 + xx)];
              }
          want[static_cast<size_t>(((oc * 2 + c) * 3 + i) * 3 + j)] = static_cast<float>(s);
        }
  EXPECT_TRUE(all_close(w.grad(), want, kAtol, kRtol));
  EXPECT_TRUE(
      all_close(conv2d_weight(x, make(gv, {2, 4, 3, 3}, d), {4, 2, 3, 3}, Conv2dOptions(2, 1)),
                want, kAtol, kRtol));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST_P(ConvTest, Errors) {
  const Device d = device();
  const auto t = [d](const Shape& s) { return zeros(s, TensorOptions(d)); };
  std::string msg = error_of([&] { conv2d(t({1, 3, 5, 5}), t({4, 2, 3, 3})); });
  EXPECT_TRUE(contains(msg, "conv2d: expected weight.size(1) * groups = input channels 3")) << msg;
  EXPECT_TRUE(contains(msg, "[4, 2, 3, 3]")) << msg;
  msg = error_of([&] { conv2d(t({1, 3, 5, 5}), t({4, 1, 3, 3}), Tensor(), {1, 0, 0, 2}); });
  EXPECT_TRUE(contains(msg, "conv2d: expected input channels divisible by groups 2, got 3")) << msg;
  msg = error_of([&] { conv2d(t({1, 4, 5, 5}), t({3, 2, 3, 3}), Tensor(), {1, 0, 0, 2}); });
  EXPECT_TRUE(contains(msg, "output channels (weight.size(0)) divisible by groups 2, got 3"))
      << msg;
  msg = error_of([&] { conv2d(t({1, 1, 2, 2}), t({1, 1, 5, 5}), Tensor(), Conv2dOptions(1, 1)); });
  EXPECT_TRUE(contains(msg, "conv2d: kernel size 5x5 is larger than the padded input 4x4")) << msg;
  msg = error_of([&] { conv2d(t({1, 5, 5}), t({1, 1, 3, 3})); });
  EXPECT_TRUE(contains(msg, "conv2d: expected a 4-D input [N, C, H, W], got shape [1, 5, 5]"))
      << msg;
  msg = error_of([&] { conv2d(t({1, 1, 5, 5}), t({2, 1, 3, 3}), t({3})); });
  EXPECT_TRUE(contains(msg, "conv2d: expected a bias of shape [2], got [3]")) << msg;
  msg = error_of([&] { conv2d(t({1, 1, 5, 5}), t({2, 1, 3, 3}), Tensor(), {0, 0}); });
  EXPECT_TRUE(contains(msg, "conv2d: expected a positive stride, got 0x0")) << msg;
  msg = error_of([&] { conv2d(t({1, 1, 5, 5}), t({2, 1, 3, 3}), Tensor(), {2, 0, 1}); });
  EXPECT_TRUE(contains(msg, "conv2d: expected output_padding 0x0")) << msg;

  msg = error_of([&] { conv_transpose2d(t({1, 1, 1, 1}), t({1, 1, 1, 1}), Tensor(), {1, 1}); });
  EXPECT_TRUE(contains(msg, "conv_transpose2d: expected a positive output size, got -1x-1")) << msg;
  msg = error_of([&] { conv_transpose2d(t({1, 2, 3, 3}), t({2, 1, 3, 3}), Tensor(), {2, 1, 2}); });
  EXPECT_TRUE(
      contains(msg, "conv_transpose2d: expected 0 <= output_padding < stride (2x2), got 2x2"))
      << msg;
  msg = error_of([&] { conv_transpose2d(t({1, 3, 3, 3}), t({2, 1, 3, 3})); });
  EXPECT_TRUE(contains(msg, "conv_transpose2d: expected weight.size(0) = input channels 3")) << msg;
  msg = error_of([&] { conv_transpose2d(t({1, 2, 3, 3}), t({2, 3, 3, 3}), t({2})); });
  EXPECT_TRUE(contains(msg, "conv_transpose2d: expected a bias of shape [3], got [2]")) << msg;

  const Device other = optest::other_device(d);
  if (other.is_cpu() || cuda_is_available()) {
    msg = error_of([&] { conv2d(t({1, 1, 3, 3}), zeros({1, 1, 3, 3}, TensorOptions(other))); });
    EXPECT_TRUE(contains(msg, "conv2d")) << msg;
    EXPECT_TRUE(contains(msg, d.str()) && contains(msg, other.str())) << msg;
    msg = error_of([&] {
      conv_transpose2d(t({1, 1, 3, 3}), t({1, 1, 3, 3}), zeros({1}, TensorOptions(other)));
    });
    EXPECT_TRUE(contains(msg, "conv_transpose2d")) << msg;
  }
}

GE_INSTANTIATE_DEVICE_TEST(ConvTest);

}  // namespace
}  // namespace ge
