// minibatch_discrimination and nn::MinibatchDiscrimination on every device against the
// paper's definition written as double loops here: the sample itself left out, a batch of one,
// non-contiguous features; gradcheck and gradgradcheck for the features and T; the layer's
// concatenation, parameter and errors.
#include "ganengine/minibatch_discrimination.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"
#include "ganengine/nn/minibatch_discrimination.h"

namespace ge::optest {
namespace {

class MinibatchDiscriminationTest : public DeviceTest {};

// o[i, b] = sum_{j != i} exp(-sum_c |M[i, b, c] - M[j, b, c]|), M[i] = x[i] T.
std::vector<float> reference(const std::vector<float>& x, const std::vector<float>& t, int64_t n,
                             int64_t a, int64_t b, int64_t c) {
  std::vector<double> m(static_cast<size_t>(n * b * c), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < b * c; ++k)
      for (int64_t f = 0; f < a; ++f)
        m[static_cast<size_t>(i * b * c + k)] +=
            static_cast<double>(x[static_cast<size_t>(i * a + f)]) *
            t[static_cast<size_t>(f * b * c + k)];
  std::vector<float> out(static_cast<size_t>(n * b));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < b; ++k) {
      double o = 0;
      for (int64_t j = 0; j < n; ++j) {
        if (j == i) continue;
        double l1 = 0;
        for (int64_t d = 0; d < c; ++d)
          l1 += std::fabs(m[static_cast<size_t>((i * b + k) * c + d)] -
                          m[static_cast<size_t>((j * b + k) * c + d)]);
        o += std::exp(-l1);
      }
      out[static_cast<size_t>(i * b + k)] = static_cast<float>(o);
    }
  return out;
}

struct Case {
  int64_t n, a, b, c;
};

TEST_P(MinibatchDiscriminationTest, ForwardMatchesReference) {
  for (const Case& k : {Case{6, 4, 3, 2}, Case{1, 3, 2, 2}, Case{9, 5, 4, 5}, Case{2, 1, 1, 1}}) {
    SCOPED_TRACE(std::to_string(k.n) + " x " + std::to_string(k.a) + ", B " + std::to_string(k.b) +
                 ", C " + std::to_string(k.c));
    const std::vector<float> x = lcg_values(k.n * k.a, 1, -1.f, 1.f);
    const std::vector<float> t = lcg_values(k.a * k.b * k.c, 2, -0.5f, 0.5f);
    const Tensor o =
        minibatch_discrimination(make(x, {k.n, k.a}, device()), make(t, {k.a, k.b, k.c}, device()));
    EXPECT_EQ(o.shape(), (Shape{k.n, k.b}));
    EXPECT_TRUE(all_close(o, reference(x, t, k.n, k.a, k.b, k.c), 1e-6, 1e-5));
  }
  // Identical samples are as close as can be: each sees N - 1 others at distance 0.
  const Tensor same = make(std::vector<float>(12, 0.3f), {4, 3}, device());
  const Tensor t = make(lcg_values(3 * 2 * 2, 3), {3, 2, 2}, device());
  EXPECT_TRUE(all_close(minibatch_discrimination(same, t), std::vector<float>(8, 3.f), 1e-6, 0));
}

TEST_P(MinibatchDiscriminationTest, NonContiguousFeatures) {
  const std::vector<float> base = lcg_values(4 * 5, 4, -1.f, 1.f);
  const Tensor x = make(base, {4, 5}, device()).t();  // [5, 4]
  ASSERT_FALSE(x.is_contiguous());
  const std::vector<float> t = lcg_values(4 * 2 * 3, 5, -0.5f, 0.5f);
  EXPECT_TRUE(all_close(minibatch_discrimination(x, make(t, {4, 2, 3}, device())),
                        reference(x.contiguous().to_vector(), t, 5, 4, 2, 3), 1e-6, 1e-5));
}

TEST_P(MinibatchDiscriminationTest, GradientsOfEveryOrder) {
  // Values whose pairwise differences stay away from |.|'s kink at 0, so finite differences
  // follow the function.
  const auto fn = [](const std::vector<Tensor>& in) {
    return minibatch_discrimination(in[0], in[1]);
  };
  const std::vector<Tensor> in = {
      make(lcg_values(4 * 3, 6, -1.f, 1.f), {4, 3}, device(), true),
      make(lcg_values(3 * 2 * 2, 7, -1.f, 1.f), {3, 2, 2}, device(), true)};
  EXPECT_TRUE(grad_ok(fn, in));
  EXPECT_TRUE(gradgrad_ok(fn, in));
}

TEST_P(MinibatchDiscriminationTest, LayerConcatenatesTheCloseness) {
  Generator g(3);
  nn::MinibatchDiscrimination layer(5, 4, 3, &g);
  layer.to(device());
  EXPECT_EQ(layer.T.shape(), (Shape{5, 4, 3}));
  EXPECT_EQ(layer.state_dict().count("T"), 1u);
  EXPECT_TRUE(layer.T.requires_grad());
  // N(0, 0.05^2): 60 draws well inside 5 sigma.
  for (float v : layer.T.to_vector())
    EXPECT_LT(std::fabs(v), 0.25f);
  const Tensor x = make(lcg_values(6 * 5, 8, -1.f, 1.f), {6, 5}, device());
  const Tensor y = layer.forward(x);
  ASSERT_EQ(y.shape(), (Shape{6, 9}));
  EXPECT_TRUE(all_close(y.slice(1, 0, 5), x.to_vector(), 0, 0));
  EXPECT_TRUE(all_close(y.slice(1, 5, 9), reference(x.to_vector(), layer.T.to_vector(), 6, 5, 4, 3),
                        1e-6, 1e-5));
}

TEST_P(MinibatchDiscriminationTest, Errors) {
  const Tensor x = zeros({4, 3}, device());
  EXPECT_TRUE(throws_with(
      [&] {
        minibatch_discrimination(x, zeros({2, 2, 2}, device()));
      },
      {"minibatch_discrimination", "T [A, B, C] with A = 3", "[2, 2, 2]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        minibatch_discrimination(zeros({4}, device()), zeros({4, 2, 2}));
      },
      {"minibatch_discrimination", "features [N, A]", "got shape [4]"}));
  EXPECT_TRUE(throws_with([] { nn::MinibatchDiscrimination(3, 0, 2); },
                          {"MinibatchDiscrimination", "kernels and kernel_dim >= 1", "0"}));
  nn::MinibatchDiscrimination layer(3, 2, 2);
  layer.to(device());
  EXPECT_TRUE(throws_with(
      [&] {
        layer.forward(zeros({4, 5}, device()));
      },
      {"MinibatchDiscrimination", "features [N, 3]", "[4, 5]"}));
  if (cuda_is_available()) {
    EXPECT_TRUE(throws_with(
        [&] {
          minibatch_discrimination(x, zeros({3, 2, 2}, other_device(device())));
        },
        {"minibatch_discrimination", "on one device"}));
  }
}

GE_INSTANTIATE_DEVICE_TEST(MinibatchDiscriminationTest);

}  // namespace
}  // namespace ge::optest
