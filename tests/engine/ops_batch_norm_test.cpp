// batch_norm2d on every device against double loops written here: training forward (biased
// variance) and the running-stat update (unbiased variance, momentum), eval mode on the running
// statistics, with and without affine parameters; gradcheck and gradgradcheck in both modes, a
// third-order check, and the argument errors.
#include "ganengine/batch_norm.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/norm_test_util.h"
#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class BatchNormTest : public DeviceTest {};

struct Ref {
  std::vector<float> y, running_mean, running_var;
};

// F.batch_norm in double. weight/bias empty: none. training: batch statistics (biased variance
// to normalise, unbiased into running_var); else the running statistics.
Ref batch_norm_ref(const std::vector<float>& x, const Shape& s, const std::vector<float>& weight,
                   const std::vector<float>& bias, const std::vector<float>& rm,
                   const std::vector<float>& rv, bool training, double momentum, double eps) {
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3], m = n * hw;
  Ref r;
  r.y.resize(x.size());
  r.running_mean = rm;
  r.running_var = rv;
  for (int64_t ch = 0; ch < c; ++ch) {
    const size_t k = static_cast<size_t>(ch);
    double mean = rm.empty() ? 0.0 : rm[k], var = rv.empty() ? 1.0 : rv[k];
    if (training) {
      double sum = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < hw; ++j)
          sum += x[static_cast<size_t>((i * c + ch) * hw + j)];
      mean = sum / m;
      double sq = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < hw; ++j) {
          const double d = x[static_cast<size_t>((i * c + ch) * hw + j)] - mean;
          sq += d * d;
        }
      var = sq / m;
      if (!rm.empty())
        r.running_mean[k] = static_cast<float>((1 - momentum) * rm[k] + momentum * mean);
      if (!rv.empty())
        r.running_var[k] = static_cast<float>((1 - momentum) * rv[k] + momentum * sq / (m - 1));
    }
    const double w = weight.empty() ? 1.0 : weight[k], b = bias.empty() ? 0.0 : bias[k];
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) {
        const size_t at = static_cast<size_t>((i * c + ch) * hw + j);
        r.y[at] = static_cast<float>((x[at] - mean) / std::sqrt(var + eps) * w + b);
      }
  }
  return r;
}

TEST_P(BatchNormTest, TrainingMatchesReferenceAndUpdatesRunningStats) {
  for (const Shape& s : {Shape{4, 3, 2, 3}, Shape{2, 5, 4, 4}, Shape{6, 2, 1, 1}}) {
    SCOPED_TRACE(to_string(s));
    const int64_t c = s[1];
    std::vector<float> xv = lcg_values(count(s), 1, -2.f, 2.f);
    for (float& v : xv)
      v += 3.f;  // a mean far from 0
    const std::vector<float> w = lcg_values(c, 2, 0.5f, 1.5f), b = lcg_values(c, 3);
    const std::vector<float> rm0 = lcg_values(c, 4), rv0 = lcg_values(c, 5, 0.5f, 2.f);
    for (bool affine : {false, true}) {
      SCOPED_TRACE(affine ? "affine" : "no affine");
      const std::vector<float> wv = affine ? w : std::vector<float>{},
                               bv = affine ? b : std::vector<float>{};
      const Tensor rm = make(rm0, {c}, device()), rv = make(rv0, {c}, device());
      const uint64_t version = rm.version();
      const Tensor y =
          batch_norm2d(make(xv, s, device()), affine ? make(w, {c}, device()) : Tensor(),
                       affine ? make(b, {c}, device()) : Tensor(), rm, rv, true, 0.2f, 1e-4f);
      const Ref ref = batch_norm_ref(xv, s, wv, bv, rm0, rv0, true, 0.2, 1e-4);
      EXPECT_EQ(y.shape(), s);
      EXPECT_TRUE(all_close(y, ref.y, 1e-4, 1e-4));
      EXPECT_TRUE(all_close(rm, ref.running_mean, 1e-5, 1e-5));
      EXPECT_TRUE(all_close(rv, ref.running_var, 1e-5, 1e-5));
      EXPECT_GT(rm.version(), version);
    }
  }
}

TEST_P(BatchNormTest, TrainingWithoutRunningStats) {
  const Shape s = {3, 2, 2, 2};
  const std::vector<float> xv = lcg_values(count(s), 6, -1.f, 1.f);
  const Tensor y =
      batch_norm2d(make(xv, s, device()), Tensor(), Tensor(), Tensor(), Tensor(), true);
  EXPECT_TRUE(all_close(y, batch_norm_ref(xv, s, {}, {}, {}, {}, true, 0.1, 1e-5).y, 1e-4, 1e-4));
}

TEST_P(BatchNormTest, OnlyOneRunningStatIsUpdated) {
  const Shape s = {3, 2, 2, 2};
  const std::vector<float> xv = lcg_values(count(s), 7), rv0 = {1.f, 2.f};
  const Tensor rv = make(rv0, {2}, device());
  batch_norm2d(make(xv, s, device()), Tensor(), Tensor(), Tensor(), rv, true, 0.5f);
  EXPECT_TRUE(
      all_close(rv, batch_norm_ref(xv, s, {}, {}, {0.f, 0.f}, rv0, true, 0.5, 1e-5).running_var));
}

TEST_P(BatchNormTest, NonContiguousInputAndRunningStats) {
  const Shape s = {2, 3, 2, 2};
  const std::vector<float> base = lcg_values(count(s), 8, -1.f, 1.f);
  // x laid out [N, H, W, C] and permuted to [N, C, H, W].
  const Tensor x = make(base, {2, 2, 2, 3}, device()).permute({0, 3, 1, 2});
  ASSERT_FALSE(x.is_contiguous());
  const std::vector<float> xv = permuted(base, {2, 2, 2, 3}, {0, 3, 1, 2});
  // Running stats as every other element of a [6] buffer.
  const std::vector<float> storage = {0.1f, 9.f, 0.2f, 9.f, 0.3f, 9.f};
  const Tensor buffer = make(storage, {6}, device());
  const Tensor rm = buffer.slice(0, 0, 6, 2);
  ASSERT_FALSE(rm.is_contiguous());
  const Tensor rv = make({1.f, 1.5f, 2.f}, {3}, device());
  const Tensor y = batch_norm2d(x, Tensor(), Tensor(), rm, rv, true);
  const Ref ref =
      batch_norm_ref(xv, s, {}, {}, {0.1f, 0.2f, 0.3f}, {1.f, 1.5f, 2.f}, true, 0.1, 1e-5);
  EXPECT_TRUE(all_close(y, ref.y, 1e-4, 1e-4));
  EXPECT_TRUE(all_close(rm, ref.running_mean));
  // The untouched elements of the buffer keep their values.
  const std::vector<float> after = buffer.to_vector();
  EXPECT_EQ(after[1], 9.f);
  EXPECT_EQ(after[5], 9.f);
}

TEST_P(BatchNormTest, EvalUsesRunningStats) {
  const Shape s = {2, 3, 3, 1};
  const int64_t c = 3;
  const std::vector<float> xv = lcg_values(count(s), 9, -2.f, 2.f), w = lcg_values(c, 10),
                           b = lcg_values(c, 11), rm0 = lcg_values(c, 12),
                           rv0 = lcg_values(c, 13, 0.5f, 2.f);
  const Tensor rm = make(rm0, {c}, device()), rv = make(rv0, {c}, device());
  const Tensor y = batch_norm2d(make(xv, s, device()), make(w, {c}, device()),
                                make(b, {c}, device()), rm, rv, false, 0.1f, 1e-3f);
  EXPECT_TRUE(all_close(y, batch_norm_ref(xv, s, w, b, rm0, rv0, false, 0.1, 1e-3).y, 1e-5, 1e-5));
  // Eval leaves the running statistics alone.
  EXPECT_TRUE(all_close(rm, rm0, 0, 0));
  EXPECT_TRUE(all_close(rv, rv0, 0, 0));
}

TEST_P(BatchNormTest, TrainingGradients) {
  for (bool affine : {false, true}) {
    SCOPED_TRACE(affine ? "affine" : "no affine");
    const Shape s = {3, 2, 2, 2};
    const auto fn = [](const std::vector<Tensor>& in) {
      return batch_norm2d(in[0], in.size() > 1 ? in[1] : Tensor(), in.size() > 2 ? in[2] : Tensor(),
                          Tensor(), Tensor(), true);
    };
    const std::vector<Tensor> in = inputs_for(s, device(), affine, 20);
    EXPECT_TRUE(grad_ok(fn, in));
    EXPECT_TRUE(gradgrad_ok(fn, in));
  }
}

TEST_P(BatchNormTest, TrainingGradientsWeightOnlyAndOddSizes) {
  // Weight without bias, HW odd (the scalar kernels), and running stats being updated.
  const Shape s = {2, 3, 1, 3};
  const Tensor rm = zeros({3}, device()), rv = ones({3}, device());
  const auto fn = [rm, rv](const std::vector<Tensor>& in) {
    return batch_norm2d(in[0], in[1], Tensor(), rm, rv, true, 0.1f, 1e-3f);
  };
  const std::vector<Tensor> in = {make(lcg_values(count(s), 30, -1.f, 1.f), s, device(), true),
                                  make(lcg_values(3, 31, 0.5f, 1.5f), {3}, device(), true)};
  EXPECT_TRUE(grad_ok(fn, in));
  EXPECT_TRUE(gradgrad_ok(fn, in));
}

TEST_P(BatchNormTest, EvalGradients) {
  const Shape s = {2, 2, 2, 2};
  const Tensor rm = make({0.2f, -0.3f}, {2}, device()), rv = make({0.8f, 1.7f}, {2}, device());
  const auto fn = [rm, rv](const std::vector<Tensor>& in) {
    return batch_norm2d(in[0], in[1], in[2], rm, rv, false);
  };
  const std::vector<Tensor> in = inputs_for(s, device(), true, 40);
  EXPECT_TRUE(grad_ok(fn, in));
  EXPECT_TRUE(gradgrad_ok(fn, in));
}

// The double backward is itself differentiable: gradgradcheck of the create_graph gradient.
TEST_P(BatchNormTest, ThirdOrderThroughCreateGraph) {
  const Shape s = {2, 2, 1, 3};
  const Tensor v = make(lcg_values(count(s), 50), s, device());
  const auto first = create_graph_grad(v, [](const Tensor& x, const std::vector<Tensor>& in) {
    return batch_norm2d(x, in[1], Tensor(), Tensor(), Tensor(), true);
  });
  const std::vector<Tensor> in = {make(lcg_values(count(s), 51, -1.f, 1.f), s, device(), true),
                                  make(lcg_values(2, 52, 0.5f, 1.5f), {2}, device(), true)};
  EXPECT_TRUE(gradgrad_ok(first, in));
}

TEST_P(BatchNormTest, Errors) {
  const Device d = device();
  const Tensor x = make(lcg_values(24, 60), {2, 3, 2, 2}, d);
  const Tensor c3 = ones({3}, d), c4 = ones({4}, d);
  EXPECT_TRUE(contains(error_of([&] {
                         batch_norm2d(make(lcg_values(6, 1), {2, 3}, d), Tensor(), Tensor(),
                                      Tensor(), Tensor(), true);
                       }),
                       "batch_norm2d: expected a 4-D input [N, C, H, W], got shape [2, 3]"));
  EXPECT_TRUE(contains(error_of([&] { batch_norm2d(x, Tensor(), Tensor(), c4, c3, true); }),
                       "batch_norm2d: expected running_mean of shape [3] (the channels of x [2, 3, "
                       "2, 2]), got [4]"));
  EXPECT_TRUE(contains(error_of([&] { batch_norm2d(x, Tensor(), Tensor(), c3, c4, false); }),
                       "expected running_var of shape [3]"));
  EXPECT_TRUE(contains(error_of([&] { batch_norm2d(x, c4, Tensor(), Tensor(), Tensor(), true); }),
                       "expected weight of shape [3]"));
  EXPECT_TRUE(contains(error_of([&] { batch_norm2d(x, c3, c4, Tensor(), Tensor(), true); }),
                       "expected bias of shape [3]"));
  EXPECT_TRUE(contains(error_of([&] { batch_norm2d(x, Tensor(), Tensor(), c3, Tensor(), false); }),
                       "batch_norm2d: expected running_mean and running_var in eval mode "
                       "(training = false), got running_mean only"));
  EXPECT_TRUE(contains(error_of([&] {
                         batch_norm2d(make({1.f, 2.f}, {1, 2, 1, 1}, d), Tensor(), Tensor(),
                                      Tensor(), Tensor(), true);
                       }),
                       "batch_norm2d: expected more than 1 value per channel when training, got "
                       "input shape [1, 2, 1, 1]"));
  if (cuda_is_available()) {
    const Tensor other = ones({3}, other_device(d));
    EXPECT_TRUE(
        contains(error_of([&] { batch_norm2d(x, other, Tensor(), Tensor(), Tensor(), true); }),
                 "same device"));
  }
}

GE_INSTANTIATE_DEVICE_TEST(BatchNormTest);

}  // namespace
}  // namespace ge::optest
