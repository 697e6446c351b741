// nn::InstanceNorm2d on every device: PyTorch's tensors and initial values (weight and bias only
// when affine, no running statistics), the forward against a plain loop (each plane by its own
// mean and biased variance) in train and eval mode alike, gradients reaching the parameters, and
// the argument errors.
#include "ganengine/nn/instance_norm.h"

#include <cmath>
#include <vector>

#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

using nn::InstanceNorm2d;

std::vector<float> plane_normalized(const std::vector<float>& x, int64_t n, int64_t c, int64_t hw,
                                    const std::vector<float>& w, const std::vector<float>& b,
                                    double eps) {
  std::vector<float> y(x.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch) {
      const size_t base = static_cast<size_t>((i * c + ch) * hw);
      double sum = 0.0;
      for (int64_t p = 0; p < hw; ++p)
        sum += x[base + p];
      const double mean = sum / hw;
      double ss = 0.0;
      for (int64_t p = 0; p < hw; ++p)
        ss += (x[base + p] - mean) * (x[base + p] - mean);
      for (int64_t p = 0; p < hw; ++p)
        y[base + p] =
            static_cast<float>((x[base + p] - mean) / std::sqrt(ss / hw + eps) * w[ch] + b[ch]);
    }
  return y;
}

class NnInstanceNormTest : public DeviceTest {};

TEST_P(NnInstanceNormTest, AffineForwardInTrainAndEval) {
  InstanceNorm2d norm(3, 1e-3f, /*affine=*/true);
  const std::vector<float> w = fill_lcg(norm.weight, 1, 0.5f, 1.5f), b = fill_lcg(norm.bias, 2);
  norm.to(device());
  const std::vector<float> x = lcg_values(count({2, 3, 3, 5}), 3, -2.f, 3.f);
  const std::vector<float> want = plane_normalized(x, 2, 3, 15, w, b, 1e-3);
  EXPECT_TRUE(all_close(norm(from_vector(x, {2, 3, 3, 5}, device())), want, 1e-4, 1e-4));
  norm.eval();
  EXPECT_TRUE(all_close(norm(from_vector(x, {2, 3, 3, 5}, device())), want, 1e-4, 1e-4));

  norm.train();
  Tensor xg = from_vector(x, {2, 3, 3, 5}, device()).requires_grad_();
  (norm(xg) * from_vector(lcg_values(90, 4), {2, 3, 3, 5}, device())).sum().backward();
  EXPECT_TRUE(xg.grad().defined());
  EXPECT_TRUE(norm.weight.grad().defined());
  EXPECT_TRUE(norm.bias.grad().defined());
}

TEST_P(NnInstanceNormTest, PlainForward) {
  InstanceNorm2d norm(4);
  norm.to(device());
  const std::vector<float> x = lcg_values(count({1, 4, 8, 8}), 5, -1.f, 4.f);
  EXPECT_TRUE(all_close(
      norm(from_vector(x, {1, 4, 8, 8}, device())),
      plane_normalized(x, 1, 4, 64, std::vector<float>(4, 1.f), std::vector<float>(4, 0.f), 1e-5),
      1e-4, 1e-4));
}

GE_INSTANTIATE_DEVICE_TEST(NnInstanceNormTest);

TEST(NnInstanceNorm2d, TensorsAsPyTorch) {
  InstanceNorm2d plain(4);
  EXPECT_TRUE(plain.named_parameters().empty());
  EXPECT_TRUE(plain.named_buffers().empty());
  EXPECT_TRUE(plain.state_dict().empty());
  EXPECT_FALSE(plain.weight.defined());

  InstanceNorm2d affine(4, 1e-5f, /*affine=*/true);
  EXPECT_EQ(names_of(affine.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_TRUE(affine.named_buffers().empty());
  EXPECT_EQ(affine.state_dict().size(), 2u);
  EXPECT_TRUE(all_close(affine.weight, std::vector<float>(4, 1.f), 0, 0));
  EXPECT_TRUE(all_close(affine.bias, std::vector<float>(4, 0.f), 0, 0));
}

TEST(NnInstanceNorm2d, Errors) {
  InstanceNorm2d norm(3);
  EXPECT_TRUE(contains(error_of([&] {
                         norm(zeros({2, 4, 2, 2}));
                       }),
                       "InstanceNorm2d: expected an input [N, 3, H, W], got shape [2, 4, 2, 2]"));
  EXPECT_TRUE(contains(error_of([&] {
                         norm(zeros({3, 2, 2}));
                       }),
                       "InstanceNorm2d: expected an input [N, 3, H, W], got shape [3, 2, 2]"));
  EXPECT_TRUE(contains(error_of([] { InstanceNorm2d(0); }),
                       "InstanceNorm2d: expected num_features > 0, got 0"));
  EXPECT_TRUE(contains(error_of([] { InstanceNorm2d(2, 0.f); }),
                       "InstanceNorm2d: expected eps > 0, got 0"));
}

}  // namespace
}  // namespace ge::nntest
