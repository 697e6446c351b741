// conv2d, conv_transpose2d and the fused conv + bias_act ops on every device (on CUDA under
// every conv algorithm the build has) against direct definitions written here in double (a
// 7-deep loop for conv2d, the scatter definition for conv_transpose2d, bias_act's formula), first
// and second order gradients, the algorithm selection, and the validation messages.
#include "ganengine/conv.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "ganengine/bias_act.h"
#include "ganengine/prelu.h"

#include "engine/op_test_util.h"
#include "support/act_reference.h"

namespace ge::optest {
namespace {

// Up to 50 float32 products of values in [-1, 1] plus a bias: rounding stays below 1e-5.
constexpr double kAtol = 1e-4;
constexpr double kRtol = 1e-4;

// Restores the conv algorithm selected before it.
class AlgoScope {
 public:
  explicit AlgoScope(ConvAlgo algo) : saved_(conv_algo()) { set_conv_algo(algo); }
  ~AlgoScope() { set_conv_algo(saved_); }
  AlgoScope(const AlgoScope&) = delete;
  AlgoScope& operator=(const AlgoScope&) = delete;

 private:
  ConvAlgo saved_;
};

// The algorithms a device's convolutions run here: cpu has one path; cuda every one the build
// offers (cuDNN only in nvcc builds).
std::vector<ConvAlgo> algos(Device d) {
  if (d.is_cpu()) return {ConvAlgo::Auto};
  std::vector<ConvAlgo> out{ConvAlgo::Native, ConvAlgo::Gemm};
  if (conv_algo_available(ConvAlgo::Cudnn)) out.push_back(ConvAlgo::Cudnn);
  return out;
}

// Runs f once per algorithm of `d`, each under its own trace.
template <typename F>
void for_each_algo(Device d, F&& f) {
  for (ConvAlgo a : algos(d)) {
    SCOPED_TRACE("conv algo " + to_string(a));
    AlgoScope scope(a);
    f();
  }
}

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
    for_each_algo(d, [&] {
      const Tensor y = transposed ? conv_transpose2d(make(x, xs, d), make(w, ws, d), tb, o)
                                  : conv2d(make(x, xs, d), make(w, ws, d), tb, o);
      EXPECT_EQ(y.shape(), expected_shape);
      EXPECT_EQ(y.device(), d);
      EXPECT_TRUE(all_close(y, ref.values, kAtol, kRtol));
    });
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
  const auto xp = permuted(xb, {5, 2, 3, 6}, {1, 2, 0, 3});
  const Tensor x = make(xb, {5, 2, 3, 6}, d).permute({1, 2, 0, 3});
  const Ref ref = conv2d_ref(xp, {2, 3, 5, 6}, w, {4, 3, 3, 3}, nullptr, Conv2dOptions(1, 1));
  // A transposed weight view: [3, 4, 3, 3] as transpose(0, 1) of a [4, 3, 3, 3] tensor.
  const auto wt = permuted(w, {4, 3, 3, 3}, {1, 0, 2, 3});
  const Ref tref =
      conv_transpose2d_ref(xp, {2, 3, 5, 6}, wt, {3, 4, 3, 3}, nullptr, Conv2dOptions(1, 1));
  for_each_algo(d, [&] {
    EXPECT_TRUE(all_close(conv2d(x, make(w, {4, 3, 3, 3}, d), Tensor(), Conv2dOptions(1, 1)),
                          ref.values, kAtol, kRtol));
    EXPECT_TRUE(all_close(conv_transpose2d(x, make(w, {4, 3, 3, 3}, d).transpose(0, 1), Tensor(),
                                           Conv2dOptions(1, 1)),
                          tref.values, kAtol, kRtol));
  });
}

TEST_P(ConvTest, Conv2dGradients) {
  const Device d = device();
  const Conv2dOptions o(2, 1);
  const auto fn = [o](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], o); };
  const Tensor x = make(lcg_values(2 * 2 * 5 * 4, 41), {2, 2, 5, 4}, d, true);
  const Tensor w = make(lcg_values(3 * 2 * 3 * 3, 42), {3, 2, 3, 3}, d, true);
  const Tensor b = make(lcg_values(3, 43), {3}, d, true);
  const Conv2dOptions og(1, 1, 0, 2);
  const auto grouped = [og](const std::vector<Tensor>& in) {
    return conv2d(in[0], in[1], Tensor(), og);
  };
  const Tensor xg = make(lcg_values(1 * 4 * 3 * 3, 44), {1, 4, 3, 3}, d, true);
  const Tensor wg = make(lcg_values(2 * 2 * 2 * 2, 45), {2, 2, 2, 2}, d, true);
  for_each_algo(d, [&] {
    EXPECT_TRUE(grad_ok(fn, {x, w, b}));
    EXPECT_TRUE(gradgrad_ok(fn, {x, w, b}));
    EXPECT_TRUE(grad_ok(grouped, {xg, wg}));
    EXPECT_TRUE(gradgrad_ok(grouped, {xg, wg}));
  });
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
  const Conv2dOptions og(2, 1, 0, 2);
  const auto grouped = [og](const std::vector<Tensor>& in) {
    return conv_transpose2d(in[0], in[1], Tensor(), og);
  };
  const Tensor xg = make(lcg_values(1 * 4 * 2 * 2, 54), {1, 4, 2, 2}, d, true);
  const Tensor wg = make(lcg_values(4 * 1 * 4 * 4, 55), {4, 1, 4, 4}, d, true);
  for_each_algo(d, [&] {
    EXPECT_TRUE(grad_ok(fn, {x, w, b}));
    EXPECT_TRUE(gradgrad_ok(fn, {x, w, b}));
    EXPECT_TRUE(grad_ok(grouped, {xg, wg}));
    EXPECT_TRUE(gradgrad_ok(grouped, {xg, wg}));
  });
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
  for_each_algo(d, [&] {
    const Tensor w = make(lcg_values(4 * 2 * 3 * 3, 63), {4, 2, 3, 3}, d, true);
    const Tensor y = conv2d(x, w, Tensor(), Conv2dOptions(2, 1));
    y.backward(make(gv, {2, 4, 3, 3}, d));
    EXPECT_TRUE(all_close(w.grad(), want, kAtol, kRtol));
    EXPECT_TRUE(
        all_close(conv2d_weight(x, make(gv, {2, 4, 3, 3}, d), {4, 2, 3, 3}, Conv2dOptions(2, 1)),
                  want, kAtol, kRtol));
  });
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

  const Device other = other_device(d);
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

// ---- fused conv + bias_act ----------------------------------------------------------------

// bias_act's formula on the (already biased) convolution reference.
std::vector<float> act_ref(const std::vector<float>& u, const BiasActOptions& o) {
  const double gain = o.gain ? *o.gain : testing::default_gain_ref(o.act);
  std::vector<float> out(u.size());
  for (size_t i = 0; i < u.size(); ++i)
    out[i] = static_cast<float>(testing::epilogue_ref(o.act, u[i], o.alpha, gain, o.clamp));
  return out;
}

BiasActOptions act_options(Activation act, std::optional<float> gain = std::nullopt,
                           float clamp = -1.f) {
  BiasActOptions o;
  o.act = act;
  o.gain = gain;
  o.clamp = clamp;
  return o;
}

constexpr Activation kActs[] = {Activation::Linear, Activation::Relu, Activation::LeakyRelu,
                                Activation::Tanh, Activation::Sigmoid};

class ConvBiasActTest : public DeviceTest {
 protected:
  // The fused op against the reference and against conv then bias_act, under every algorithm.
  void check(bool transposed, const Shape& xs, const Shape& ws, const Conv2dOptions& o,
             const BiasActOptions& act, uint32_t seed) {
    SCOPED_TRACE(std::string(transposed ? "conv_transpose2d_bias_act " : "conv2d_bias_act ") +
                 to_string(xs) + " w " + to_string(ws) + " act " +
                 std::to_string(static_cast<int>(act.act)) + " clamp " + std::to_string(act.clamp));
    const auto x = lcg_values(count(xs), seed);
    const auto w = lcg_values(count(ws), seed + 1);
    const int64_t channels = transposed ? ws[1] * o.groups : ws[0];
    const auto b = lcg_values(channels, seed + 2);
    const Ref conv =
        transposed ? conv_transpose2d_ref(x, xs, w, ws, &b, o) : conv2d_ref(x, xs, w, ws, &b, o);
    const std::vector<float> want = act_ref(conv.values, act);
    const Device d = device();
    const Tensor tx = make(x, xs, d), tw = make(w, ws, d), tb = make(b, {channels}, d);
    for_each_algo(d, [&] {
      const Tensor y = transposed ? conv_transpose2d_bias_act(tx, tw, tb, o, act)
                                  : conv2d_bias_act(tx, tw, tb, o, act);
      EXPECT_EQ(y.shape(), conv.shape);
      EXPECT_TRUE(all_close(y, want, kAtol, kRtol));
      const Tensor unfused = transposed ? bias_act(conv_transpose2d(tx, tw, Tensor(), o), tb, act)
                                        : bias_act(conv2d(tx, tw, Tensor(), o), tb, act);
      EXPECT_TRUE(all_close(y, unfused, kAtol, kRtol));
    });
  }
};

TEST_P(ConvBiasActTest, DcganLayersEveryActivation) {
  uint32_t seed = 100;
  for (Activation a : kActs) {
    check(false, {2, 3, 8, 8}, {4, 3, 4, 4}, Conv2dOptions(2, 1), act_options(a), seed++);
    check(true, {2, 4, 4, 4}, {4, 3, 4, 4}, Conv2dOptions(2, 1), act_options(a), seed++);
  }
}

TEST_P(ConvBiasActTest, GainClampAndShapes) {
  check(false, {1, 2, 7, 6}, {3, 2, 3, 3}, Conv2dOptions(1, 1),
        act_options(Activation::LeakyRelu, 1.5f, 0.6f), 120);
  check(true, {2, 3, 4, 5}, {3, 2, 3, 3}, Conv2dOptions(2, 1, 1),
        act_options(Activation::Tanh, 2.f, 1.2f), 121);
  check(false, {2, 4, 5, 5}, {6, 2, 3, 3}, Conv2dOptions(1, 1, 0, 2),
        act_options(Activation::Sigmoid, -0.5f), 122);
  check(true, {1, 4, 3, 3}, {4, 1, 4, 4}, Conv2dOptions(2, 1, 0, 4),
        act_options(Activation::Relu, 1.f, 0.3f), 123);
}

TEST_P(ConvBiasActTest, NoBias) {
  const Device d = device();
  const auto x = lcg_values(2 * 3 * 6 * 6, 130), w = lcg_values(2 * 3 * 3 * 3, 131);
  const Ref conv = conv2d_ref(x, {2, 3, 6, 6}, w, {2, 3, 3, 3}, nullptr, Conv2dOptions(1, 0));
  const BiasActOptions o = act_options(Activation::Tanh);
  for_each_algo(d, [&] {
    EXPECT_TRUE(all_close(conv2d_bias_act(make(x, {2, 3, 6, 6}, d), make(w, {2, 3, 3, 3}, d),
                                          Tensor(), Conv2dOptions(1, 0), o),
                          act_ref(conv.values, o), kAtol, kRtol));
  });
}

TEST_P(ConvBiasActTest, Gradients) {
  const Device d = device();
  // Smooth activations for second order (finite differences across a relu kink are
  // meaningless); lrelu's piecewise slope is checked to first order on inputs whose
  // pre-activations stay clear of 0 for these seeds.
  const Conv2dOptions o(2, 1), ot(2, 1, 1);
  const Tensor x = make(lcg_values(2 * 2 * 5 * 4, 140), {2, 2, 5, 4}, d, true);
  const Tensor w = make(lcg_values(3 * 2 * 3 * 3, 141), {3, 2, 3, 3}, d, true);
  const Tensor b = make(lcg_values(3, 142), {3}, d, true);
  const Tensor xt = make(lcg_values(2 * 2 * 3 * 2, 143), {2, 2, 3, 2}, d, true);
  const Tensor wt = make(lcg_values(2 * 3 * 3 * 3, 144), {2, 3, 3, 3}, d, true);
  for (Activation a : {Activation::Tanh, Activation::Sigmoid, Activation::Linear}) {
    SCOPED_TRACE(std::string("act ") + std::to_string(static_cast<int>(a)));
    const BiasActOptions act = act_options(a, 1.3f);
    const auto fn = [o, act](const std::vector<Tensor>& in) {
      return conv2d_bias_act(in[0], in[1], in[2], o, act);
    };
    const auto tfn = [ot, act](const std::vector<Tensor>& in) {
      return conv_transpose2d_bias_act(in[0], in[1], in[2], ot, act);
    };
    for_each_algo(d, [&] {
      EXPECT_TRUE(grad_ok(fn, {x, w, b}));
      EXPECT_TRUE(gradgrad_ok(fn, {x, w, b}));
      EXPECT_TRUE(grad_ok(tfn, {xt, wt, b}));
      EXPECT_TRUE(gradgrad_ok(tfn, {xt, wt, b}));
    });
  }
  const BiasActOptions lrelu = act_options(Activation::LeakyRelu);
  const auto fn = [o, lrelu](const std::vector<Tensor>& in) {
    return conv2d_bias_act(in[0], in[1], in[2], o, lrelu);
  };
  EXPECT_TRUE(grad_ok(fn, {x, w, b}));
}

TEST_P(ConvBiasActTest, HandComputedGradients) {
  // y = tanh(conv2d(x, w) + b) with a 1x1 output u = 0.5: dy/du = 1 - tanh(0.5)^2.
  const Device d = device();
  const Tensor x = make({0.1f, 0.2f, 0.3f, 0.4f}, {1, 1, 2, 2}, d, true);
  const Tensor w = make({0.5f, 0.f, 0.f, 0.5f}, {1, 1, 2, 2}, d, true);
  const Tensor b = make({0.25f}, {1}, d, true);
  for_each_algo(d, [&] {
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    const Tensor y = conv2d_bias_act(x, w, b, {}, act_options(Activation::Tanh));
    EXPECT_TRUE(all_close(y, std::vector<float>{static_cast<float>(std::tanh(0.5))}));
    y.sum().backward();
    const float s = static_cast<float>(1.0 - std::tanh(0.5) * std::tanh(0.5));
    EXPECT_TRUE(all_close(x.grad(), std::vector<float>{0.5f * s, 0.f, 0.f, 0.5f * s}));
    EXPECT_TRUE(all_close(w.grad(), std::vector<float>{0.1f * s, 0.2f * s, 0.3f * s, 0.4f * s}));
    EXPECT_TRUE(all_close(b.grad(), std::vector<float>{s}));
  });
}

TEST_P(ConvBiasActTest, Errors) {
  const Device d = device();
  const auto t = [d](const Shape& s) { return zeros(s, TensorOptions(d)); };
  BiasActOptions o;
  o.dim = 2;
  std::string msg = error_of([&] {
    conv2d_bias_act(t({1, 1, 5, 5}), t({2, 1, 3, 3}), t({2}), {}, o);
  });
  EXPECT_TRUE(
      contains(msg, "conv2d_bias_act: expected act.dim 1 (the bias runs along channels), got 2"))
      << msg;
  o = act_options(Activation::LeakyRelu);
  o.alpha = -1.f;
  msg = error_of([&] {
    conv_transpose2d_bias_act(t({1, 2, 3, 3}), t({2, 1, 3, 3}), Tensor(), {}, o);
  });
  EXPECT_TRUE(contains(msg, "conv_transpose2d_bias_act: expected alpha >= 0 for lrelu")) << msg;
  msg = error_of([&] {
    conv_transpose2d_bias_act(t({1, 2, 3, 3}), t({2, 3, 3, 3}), t({2}), {}, BiasActOptions());
  });
  EXPECT_TRUE(contains(msg, "conv_transpose2d_bias_act: expected a bias of shape [3], got [2]"))
      << msg;
  msg = error_of([&] { conv2d_bias_act(t({1, 3, 5, 5}), t({4, 2, 3, 3}), Tensor(), {}, {}); });
  EXPECT_TRUE(contains(msg, "conv2d_bias_act: expected weight.size(1) * groups = input channels 3"))
      << msg;
}

GE_INSTANTIATE_DEVICE_TEST(ConvBiasActTest);

// ---- algorithm selection ------------------------------------------------------------------

class ConvPreluTest : public DeviceTest {};

// conv2d_prelu against the unfused prelu(conv2d(...)) with every algorithm of the device: one
// shared slope and per-channel slopes (negative and zero ones among them), with and without a
// bias, forward and every gradient, and the forward again without autograd (no pre-activation).
TEST_P(ConvPreluTest, MatchesUnfusedPair) {
  const Device d = device();
  const Conv2dOptions o(2, 1);
  const std::vector<float> xv = lcg_values(2 * 3 * 7 * 6, 151), wv = lcg_values(4 * 3 * 3 * 3, 152);
  const std::vector<float> bv = lcg_values(4, 153), gv = lcg_values(2 * 4 * 4 * 3, 154);
  const std::vector<std::vector<float>> slope_sets = {{0.25f}, {0.3f, -0.8f, 0.f, 1.4f}};
  for (const std::vector<float>& sv : slope_sets) {
    for (bool with_bias : {true, false}) {
      SCOPED_TRACE(std::to_string(sv.size()) + " slopes" + (with_bias ? ", bias" : ""));
      for_each_algo(d, [&] {
        const Tensor x = make(xv, {2, 3, 7, 6}, d, true), w = make(wv, {4, 3, 3, 3}, d, true);
        const Tensor b = with_bias ? make(bv, {4}, d, true) : Tensor();
        const Tensor a = make(sv, {static_cast<int64_t>(sv.size())}, d, true);
        const Tensor y = conv2d_prelu(x, w, b, a, o);
        const Tensor ref = prelu(conv2d(x, w, b, o), a);
        ASSERT_EQ(y.shape(), (Shape{2, 4, 4, 3}));
        EXPECT_TRUE(all_close(y, ref.to_vector(), 1e-6, 1e-6));
        const Tensor g = make(gv, y.shape(), d);
        const std::vector<Tensor> in =
            with_bias ? std::vector<Tensor>{x, w, b, a} : std::vector<Tensor>{x, w, a};
        const std::vector<Tensor> fused = grad({y}, in, {g});
        const std::vector<Tensor> unfused = grad({ref}, in, {g});
        for (size_t i = 0; i < in.size(); ++i)
          EXPECT_TRUE(all_close(fused[i], unfused[i].to_vector(), 1e-5, 1e-5)) << "grad " << i;
        NoGradGuard no_grad;
        EXPECT_TRUE(all_close(conv2d_prelu(x, w, b, a, o), ref.to_vector(), 1e-6, 1e-6));
      });
    }
  }
}

TEST_P(ConvPreluTest, Gradients) {
  const Device d = device();
  const Conv2dOptions o(1, 1);
  const Tensor x = make(lcg_values(2 * 2 * 3 * 3, 161), {2, 2, 3, 3}, d, true);
  const Tensor w = make(lcg_values(3 * 2 * 3 * 3, 162), {3, 2, 3, 3}, d, true);
  const Tensor b = make(lcg_values(3, 163), {3}, d, true);
  const Tensor a = make({0.4f, -0.6f, 1.2f}, {3}, d, true);
  const auto fn = [o](const std::vector<Tensor>& in) {
    return conv2d_prelu(in[0], in[1], in[2], in[3], o);
  };
  for_each_algo(d, [&] {
    EXPECT_TRUE(grad_ok(fn, {x, w, b, a}));
    EXPECT_TRUE(gradgrad_ok(fn, {x, w, b, a}));
  });
}

TEST_P(ConvPreluTest, Errors) {
  const Device d = device();
  const Tensor x = zeros({1, 2, 4, 4}, d), w = zeros({3, 2, 3, 3}, d);
  EXPECT_TRUE(contains(error_of([&] { conv2d_prelu(x, w, Tensor(), zeros({2}, d), {}); }),
                       "conv2d_prelu: expected a weight of 1 or 3 (the input's channels) elements, "
                       "got 2 (input shape [1, 3, 2, 2])"));
  EXPECT_TRUE(contains(error_of([&] {
                         conv2d_prelu(x, w, Tensor(), zeros({1, 3}, d), {});
                       }),
                       "conv2d_prelu: expected a 0-D or 1-D weight, got shape [1, 3]"));
  EXPECT_TRUE(contains(error_of([&] { conv2d_prelu(x, w, Tensor(), Tensor(), {}); }),
                       "conv2d_prelu: expected a defined"));
}

GE_INSTANTIATE_DEVICE_TEST(ConvPreluTest);

TEST(ConvAlgoTest, ParsesEnvironment) {
  {
    EnvScope env("GE_CONV_ALGO", nullptr);
    EXPECT_EQ(conv_algo_from_env(), ConvAlgo::Auto);
  }
  const std::pair<const char*, ConvAlgo> cases[] = {{"", ConvAlgo::Auto},
                                                    {"auto", ConvAlgo::Auto},
                                                    {"native", ConvAlgo::Native},
                                                    {"gemm", ConvAlgo::Gemm},
                                                    {"cudnn", ConvAlgo::Cudnn}};
  for (const auto& [text, algo] : cases) {
    EnvScope env("GE_CONV_ALGO", text);
    EXPECT_EQ(conv_algo_from_env(), algo) << text;
    EXPECT_EQ(to_string(algo), std::string(text).empty() ? "auto" : text);
  }
}

TEST(ConvAlgoTest, RejectsUnknownEnvironmentValue) {
  for (const char* bad : {"fast", "Native", " gemm"}) {
    EnvScope env("GE_CONV_ALGO", bad);
    const std::string msg = error_of([] { conv_algo_from_env(); });
    EXPECT_TRUE(contains(
        msg, "GE_CONV_ALGO: expected auto, native, gemm or cudnn, got '" + std::string(bad) + "'"))
        << msg;
  }
}

TEST(ConvAlgoTest, SetAndGet) {
  const AlgoScope scope(ConvAlgo::Gemm);
  EXPECT_EQ(conv_algo(), ConvAlgo::Gemm);
  set_conv_algo(ConvAlgo::Native);
  EXPECT_EQ(conv_algo(), ConvAlgo::Native);
  EXPECT_TRUE(conv_algo_available(ConvAlgo::Native));
  EXPECT_TRUE(conv_algo_available(ConvAlgo::Gemm));
  const std::string msg = error_of([] { set_conv_algo(static_cast<ConvAlgo>(9)); });
  EXPECT_TRUE(contains(msg, "set_conv_algo: expected Auto, Native, Gemm or Cudnn, got 9")) << msg;
}

TEST_P(ConvTest, CudnnWhenUnavailable) {
  const Device d = device();
  const AlgoScope scope(ConvAlgo::Cudnn);
  const Tensor x = zeros({1, 1, 4, 4}, TensorOptions(d)), w = zeros({1, 1, 3, 3}, TensorOptions(d));
  if (d.is_cpu()) {
    // The CPU has one path and ignores the selection.
    EXPECT_EQ(conv2d(x, w).shape(), (Shape{1, 1, 2, 2}));
    return;
  }
  if (conv_algo_available(ConvAlgo::Cudnn)) GTEST_SKIP() << "cuDNN is available in this build";
  const std::string msg = error_of([&] { conv2d(x, w); });
  EXPECT_TRUE(contains(msg, "conv2d: the conv algorithm is cudnn")) << msg;
  EXPECT_TRUE(contains(msg, "cuDNN is not available in this build")) << msg;
}

GE_INSTANTIATE_DEVICE_TEST(ConvTest);

}  // namespace
}  // namespace ge::optest
