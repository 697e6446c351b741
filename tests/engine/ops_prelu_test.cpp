// prelu on every device against a double loop (one shared slope, per-channel slopes with
// negative and zero entries, ranks 1 to 4, x = 0 on the negative side, non-contiguous input);
// both gradients against hand-derived loops; gradcheck and gradgradcheck for x and the weight
// (points kept away from x = 0); argument errors.
#include "ganengine/prelu.h"

#include <string>
#include <utility>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class PreluTest : public DeviceTest {};

// The slope index of flat element i of x: channel dim 1 for rank >= 2, else one channel.
int64_t slope_of(int64_t i, const Shape& s, int64_t nw) {
  if (nw == 1) return 0;
  int64_t inner = 1;
  for (size_t d = 2; d < s.size(); ++d)
    inner *= s[d];
  return i / inner % s[1];
}

struct Expected {
  std::vector<float> y, gx, gw;
};

Expected reference(const std::vector<float>& x, const Shape& s, const std::vector<float>& w,
                   const std::vector<float>& gy) {
  Expected e;
  std::vector<double> gw(w.size(), 0.0);
  const int64_t nw = static_cast<int64_t>(w.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double xi = x[i], wi = w[static_cast<size_t>(slope_of(static_cast<int64_t>(i), s, nw))];
    e.y.push_back(static_cast<float>(xi > 0 ? xi : wi * xi));
    e.gx.push_back(static_cast<float>(xi > 0 ? gy[i] : wi * gy[i]));
    if (xi <= 0) gw[static_cast<size_t>(slope_of(static_cast<int64_t>(i), s, nw))] += gy[i] * xi;
  }
  for (double g : gw)
    e.gw.push_back(static_cast<float>(g));
  return e;
}

struct Case {
  Shape shape;
  std::vector<float> w;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {{2, 3, 4, 5}, {0.25f}},
      {{2, 4, 3, 3}, {0.25f, -0.5f, 0.f, 1.3f}},
      {{5, 6}, {0.2f, -1.5f, 0.f, 0.7f, -0.05f, 2.f}},
      {{2, 3, 7}, {-0.3f, 0.1f, 0.6f}},
      {{9}, {-0.2f}},
      {{3, 1, 2, 2}, {0.5f}},
  };
  return c;
}

TEST_P(PreluTest, ForwardAndGradientsMatchReference) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(to_string(c.shape) + " with " + std::to_string(c.w.size()) + " slopes");
    std::vector<float> xv = lcg_values(count(c.shape), 1);
    xv[1] = 0.f;  // x = 0 takes the slope, as in PyTorch
    const std::vector<float> gyv = lcg_values(count(c.shape), 2);
    const Tensor x = make(xv, c.shape, device(), true);
    const Tensor w = make(c.w, {static_cast<int64_t>(c.w.size())}, device(), true);
    const Tensor y = prelu(x, w);
    const Expected e = reference(xv, c.shape, c.w, gyv);
    EXPECT_EQ(y.shape(), c.shape);
    EXPECT_TRUE(all_close(y, e.y));
    const std::vector<Tensor> g = grad({y}, {x, w}, {make(gyv, c.shape, device())});
    EXPECT_TRUE(all_close(g[0], e.gx));
    EXPECT_EQ(g[1].shape(), w.shape());
    EXPECT_TRUE(all_close(g[1], e.gw, 1e-5, 1e-5));
  }
}

TEST_P(PreluTest, ScalarWeight) {
  const std::vector<float> xv = {-2.f, 3.f, -0.5f, 0.f};
  const Tensor w = make({-0.5f}, {1}, device(), true).reshape({});
  ASSERT_EQ(w.dim(), 0);
  const Tensor x = make(xv, {2, 2}, device());
  const Tensor y = prelu(x, w);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1.f, 3.f, 0.25f, -0.f}));
  const Tensor gw = grad({sum(y)}, {w})[0];
  EXPECT_EQ(gw.dim(), 0);
  EXPECT_TRUE(all_close(gw, {-2.5f}));
}

TEST_P(PreluTest, NonContiguousInput) {
  const std::vector<float> base = lcg_values(24, 3);
  const Tensor x = make(base, {2, 4, 3}, device()).permute({0, 2, 1});  // [2, 3, 4]
  ASSERT_FALSE(x.is_contiguous());
  const std::vector<float> xv = permuted(base, {2, 4, 3}, {0, 2, 1});
  const std::vector<float> w = {0.1f, -0.4f, 0.9f};
  const Tensor y = prelu(x, make(w, {3}, device()));
  EXPECT_TRUE(all_close(y, reference(xv, {2, 3, 4}, w, xv).y));
}

TEST_P(PreluTest, Gradients) {
  const auto fn = [](const std::vector<Tensor>& in) { return prelu(in[0], in[1]); };
  const std::pair<Shape, std::vector<float>> setups[] = {
      {{2, 3, 2, 2}, {0.3f, -0.6f, 1.2f}}, {{2, 2, 3}, {0.25f}}, {{4, 3}, {-0.7f, 0.f, 0.4f}}};
  for (const auto& [shape, w] : setups) {
    SCOPED_TRACE(to_string(shape));
    const std::vector<Tensor> in = {make(away_from_zero(count(shape), 4), shape, device(), true),
                                    make(w, {static_cast<int64_t>(w.size())}, device(), true)};
    EXPECT_TRUE(grad_ok(fn, in));
    EXPECT_TRUE(gradgrad_ok(fn, in));
  }
}

// The second derivatives, worked out: gx = gy * (x > 0 ? 1 : w[c]), so d<gx, v>/dw[c] sums
// gy * v over the negative x of channel c, and d<gx, v>/dgy = v * (x > 0 ? 1 : w[c]); the
// slope gradient gw[c] = sum gy * x (x <= 0) gives d<gw, u>/dx = u[c] * gy on the negative x.
TEST_P(PreluTest, SecondOrderMatchesReference) {
  const Shape s = {2, 2, 3};
  const std::vector<float> xv = away_from_zero(12, 5), gyv = lcg_values(12, 6),
                           vv = lcg_values(12, 7), wv = {0.4f, -1.1f}, uv = {0.7f, -0.3f};
  const Tensor x = make(xv, s, device(), true), w = make(wv, {2}, device(), true);
  const Tensor gy = make(gyv, s, device(), true);
  const std::vector<Tensor> g = grad({prelu(x, w)}, {x, w}, {gy}, /*create_graph=*/true);
  const std::vector<Tensor> gg = grad({sum(g[0] * make(vv, s, device()))}, {w, gy}, {}, false,
                                      /*retain_graph=*/true);
  const Tensor ggx = grad({sum(g[1] * make(uv, {2}, device()))}, {x})[0];
  std::vector<float> ggw(2, 0.f), ggy(12), ggx_want(12);
  for (size_t i = 0; i < 12; ++i) {
    const size_t c = i / 3 % 2;
    const bool pos = xv[i] > 0;
    if (!pos) ggw[c] += gyv[i] * vv[i];
    ggy[i] = pos ? vv[i] : wv[c] * vv[i];
    ggx_want[i] = pos ? 0.f : uv[c] * gyv[i];
  }
  EXPECT_TRUE(all_close(gg[0], ggw, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(gg[1], ggy));
  EXPECT_TRUE(all_close(ggx, ggx_want));
}

TEST_P(PreluTest, Errors) {
  const Device d = device();
  EXPECT_TRUE(contains(error_of([&] {
                         prelu(zeros({2, 3, 4}, d), zeros({2}, d));
                       }),
                       "prelu: expected a weight of 1 or 3 (the input's channels) elements, got 2 "
                       "(input shape [2, 3, 4])"));
  EXPECT_TRUE(
      contains(error_of([&] { prelu(zeros({3}, d), zeros({3}, d)); }),
               "prelu: expected a weight of 1 or 1 (the input's channels) elements, got 3"));
  EXPECT_TRUE(contains(error_of([&] {
                         prelu(zeros({2, 3}, d), zeros({1, 3}, d));
                       }),
                       "prelu: expected a 0-D or 1-D weight, got shape [1, 3]"));
  EXPECT_TRUE(contains(error_of([&] { prelu(zeros({}, d), zeros({1}, d)); }),
                       "prelu: expected an input of rank >= 1, got shape []"));
  EXPECT_TRUE(contains(error_of([&] {
                         prelu(zeros({2, 3}, d), Tensor());
                       }),
                       "prelu: expected a defined"));
  // A tensor on the other device exists only where that device does.
  if (const Device other = other_device(d); other.is_cpu() || cuda_is_available()) {
    const std::string msg = error_of([&] { prelu(zeros({2, 3}, d), zeros({3}, other)); });
    EXPECT_TRUE(contains(msg, "prelu")) << msg;
    EXPECT_TRUE(contains(msg, d.str()) && contains(msg, other.str())) << msg;
  }
}

GE_INSTANTIATE_DEVICE_TEST(PreluTest);

}  // namespace
}  // namespace ge::optest
