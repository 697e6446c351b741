// nn::BatchNorm2d on every device: PyTorch's tensors and initial values, the training forward
// and running-statistics update against plain loops (biased variance to normalise, unbiased for
// running_var), num_batches_tracked counting training steps only, eval using the running
// statistics, and the non-affine variant.
#include "ganengine/nn/batch_norm.h"

#include <cmath>
#include <vector>

#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

using nn::BatchNorm2d;

struct Stats {
  std::vector<double> mean, biased_var, unbiased_var;
};

Stats channel_stats(const std::vector<float>& x, int64_t n, int64_t c, int64_t hw) {
  Stats s;
  const double m = static_cast<double>(n * hw);
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = 0; p < hw; ++p)
        sum += x[(i * c + ch) * hw + p];
    const double mean = sum / m;
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = 0; p < hw; ++p) {
        const double d = x[(i * c + ch) * hw + p] - mean;
        ss += d * d;
      }
    s.mean.push_back(mean);
    s.biased_var.push_back(ss / m);
    s.unbiased_var.push_back(ss / (m - 1.0));
  }
  return s;
}

std::vector<float> normalized(const std::vector<float>& x, int64_t n, int64_t c, int64_t hw,
                              const std::vector<double>& mean, const std::vector<double>& var,
                              const std::vector<float>& w, const std::vector<float>& b,
                              double eps) {
  std::vector<float> y(x.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) {
        const size_t at = static_cast<size_t>((i * c + ch) * hw + p);
        y[at] = static_cast<float>((x[at] - mean[ch]) / std::sqrt(var[ch] + eps) * w[ch] + b[ch]);
      }
  return y;
}

class NnBatchNormTest : public DeviceTest {};

TEST_P(NnBatchNormTest, TrainingUpdatesRunningStats) {
  BatchNorm2d bn(3, 1e-5f, 0.25f);
  const std::vector<float> w = fill_lcg(bn.weight, 1, 0.5f, 1.5f), b = fill_lcg(bn.bias, 2);
  bn.to(device());
  const std::vector<float> x = lcg_values(count({2, 3, 2, 2}), 3, -2.f, 3.f);
  const Tensor y = bn(from_vector(x, {2, 3, 2, 2}, device()));
  const Stats s = channel_stats(x, 2, 3, 4);
  EXPECT_TRUE(all_close(y, normalized(x, 2, 3, 4, s.mean, s.biased_var, w, b, 1e-5), 1e-4, 1e-4));

  std::vector<float> rm, rv;
  for (int ch = 0; ch < 3; ++ch) {
    rm.push_back(static_cast<float>(0.25 * s.mean[ch]));
    rv.push_back(static_cast<float>(0.75 + 0.25 * s.unbiased_var[ch]));
  }
  EXPECT_TRUE(all_close(bn.running_mean, rm, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(bn.running_var, rv, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(bn.num_batches_tracked, std::vector<float>{1.f}, 0, 0));
  bn(from_vector(x, {2, 3, 2, 2}, device()));
  EXPECT_TRUE(all_close(bn.num_batches_tracked, std::vector<float>{2.f}, 0, 0));
  for (int ch = 0; ch < 3; ++ch)
    rm[ch] = static_cast<float>(0.75 * rm[ch] + 0.25 * s.mean[ch]);
  EXPECT_TRUE(all_close(bn.running_mean, rm, 1e-5, 1e-5));

  // Gradients reach x, weight and bias.
  Tensor xg = from_vector(x, {2, 3, 2, 2}, device()).requires_grad_();
  (bn(xg) * from_vector(lcg_values(24, 4), {2, 3, 2, 2}, device())).sum().backward();
  EXPECT_TRUE(xg.grad().defined());
  EXPECT_TRUE(bn.weight.grad().defined());
  EXPECT_TRUE(bn.bias.grad().defined());
}

TEST_P(NnBatchNormTest, EvalUsesRunningStats) {
  BatchNorm2d bn(2);
  const std::vector<float> rm = {0.5f, -1.f}, rv = {2.f, 0.25f};
  set_values(bn.running_mean, rm);
  set_values(bn.running_var, rv);
  const std::vector<float> w = fill_lcg(bn.weight, 5), b = fill_lcg(bn.bias, 6);
  bn.to(device());
  bn.eval();
  const std::vector<float> x = lcg_values(count({1, 2, 3, 3}), 7);
  const Tensor y = bn(from_vector(x, {1, 2, 3, 3}, device()));
  EXPECT_TRUE(
      all_close(y, normalized(x, 1, 2, 9, {0.5, -1.0}, {2.0, 0.25}, w, b, 1e-5), 1e-5, 1e-5));
  EXPECT_TRUE(all_close(bn.running_mean, rm, 0, 0));
  EXPECT_TRUE(all_close(bn.num_batches_tracked, std::vector<float>{0.f}, 0, 0));
}

GE_INSTANTIATE_DEVICE_TEST(NnBatchNormTest);

TEST(NnBatchNorm2d, TensorsAsPyTorch) {
  BatchNorm2d bn(4);
  EXPECT_EQ(names_of(bn.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(names_of(bn.named_buffers()),
            (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  EXPECT_TRUE(all_close(bn.weight, std::vector<float>(4, 1.f), 0, 0));
  EXPECT_TRUE(all_close(bn.bias, std::vector<float>(4, 0.f), 0, 0));
  EXPECT_TRUE(all_close(bn.running_mean, std::vector<float>(4, 0.f), 0, 0));
  EXPECT_TRUE(all_close(bn.running_var, std::vector<float>(4, 1.f), 0, 0));
  EXPECT_EQ(bn.num_batches_tracked.shape(), (Shape{}));

  BatchNorm2d plain(4, 1e-5f, 0.1f, /*affine=*/false);
  EXPECT_TRUE(plain.named_parameters().empty());
  EXPECT_EQ(plain.state_dict().size(), 3u);
  const std::vector<float> x = lcg_values(count({2, 4, 1, 1}), 8);
  const Stats s = channel_stats(x, 2, 4, 1);
  EXPECT_TRUE(all_close(plain(from_vector(x, {2, 4, 1, 1})),
                        normalized(x, 2, 4, 1, s.mean, s.biased_var, std::vector<float>(4, 1.f),
                                   std::vector<float>(4, 0.f), 1e-5),
                        1e-4, 1e-4));
}

TEST(NnBatchNorm2d, Errors) {
  BatchNorm2d bn(3);
  EXPECT_TRUE(contains(error_of([&] {
                         bn(zeros({2, 4, 2, 2}));
                       }),
                       "BatchNorm2d: expected an input [N, 3, H, W], got shape [2, 4, 2, 2]"));
  EXPECT_TRUE(contains(error_of([] { BatchNorm2d(0); }), "num_features"));
  EXPECT_TRUE(contains(error_of([] { BatchNorm2d(2, 1e-5f, 1.5f); }), "momentum"));
}

}  // namespace
}  // namespace ge::nntest
