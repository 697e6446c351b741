// Regression loss launchers on cpu and cuda against references in double: both losses, every
// reduction, with a target buffer and with one target value, sizes that take one block and many
// (the CUDA reduction's partials and last-block combine), misaligned buffers (vector path with a
// head, and the scalar path), exact ties (the absolute loss's zero gradient), bitwise
// reproducibility of the reduction, and the argument errors.
#include "ganengine/kernels/regression_loss.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "loss_kernel_check.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

constexpr RegressionLoss kKinds[] = {RegressionLoss::Squared, RegressionLoss::Absolute};

double loss_ref(RegressionLoss k, double x, double t) {
  return k == RegressionLoss::Squared ? (x - t) * (x - t) : std::fabs(x - t);
}

double grad_ref(RegressionLoss k, double x, double t) {
  if (k == RegressionLoss::Squared) return 2.0 * (x - t);
  return x > t ? 1.0 : (x < t ? -1.0 : 0.0);
}

struct Case {
  int64_t n;
  bool target;         // a target buffer, else target_value
  float target_value;  // also the centre of the target buffer's values
  int64_t shift;       // of every buffer
  int64_t x_shift;     // of x alone
};

std::string describe(RegressionLoss k, LossReduction r, const Case& c) {
  return std::string(name(k)) + " " + name(r) + " n " + std::to_string(c.n) + " target " +
         (c.target ? "buffer" : std::to_string(c.target_value)) + " shifts " +
         std::to_string(c.shift) + "/" + std::to_string(c.x_shift);
}

class RegressionLossKernelTest : public KernelTest {
 protected:
  std::vector<float> forward(RegressionLoss k, LossReduction r, const RegressionLossArgs& a,
                             int64_t out_shift = 0) {
    const int64_t count = r == LossReduction::None ? a.n : 1;
    Buffer out(GetParam(), count + out_shift);
    if (cuda()) {
      const int64_t need = a.n >= 0 ? cuda::regression_loss_workspace(r, a.n) : 0;
      Buffer ws(GetParam(), need);
      cuda::regression_loss(k, r, a, out.data(out_shift), need > 0 ? ws.data() : nullptr, need,
                            nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::regression_loss(k, r, a, out.data(out_shift));
    }
    return out.download(count, out_shift);
  }

  void backward(RegressionLoss k, LossReduction r, const RegressionLossArgs& a, const float* grad,
                float* dx) {
    launch([&] { cuda::regression_loss_backward(k, r, a, grad, dx, nullptr); },
           [&] { cpu::regression_loss_backward(k, r, a, grad, dx); });
  }

  void check(RegressionLoss k, LossReduction r, const Case& c, std::vector<float> x = {},
             double sum_rtol = 1e-5) {
    SCOPED_TRACE(describe(k, r, c));
    const Dev dev = GetParam();
    if (x.empty()) x = lcg(c.n, 71, -3.f, 3.f);
    const std::vector<float> t = lcg(c.n, 72, c.target_value - 1.f, c.target_value + 1.f);
    const std::vector<float> g = lcg(c.n, 73);
    Buffer xb(dev, x, c.x_shift), tb(dev, t, c.shift);
    RegressionLossArgs a;
    a.x = xb.data(c.x_shift);
    a.target = c.target ? tb.data(c.shift) : nullptr;
    a.target_value = c.target_value;
    a.n = c.n;
    check_loss_case(
        dev, r, {x, t, g, c.target, c.target_value, c.shift},
        [&](double xi, double ti) { return loss_ref(k, xi, ti); },
        [&](double xi, double ti) { return grad_ref(k, xi, ti); },
        [&](LossReduction rr, int64_t out_shift) { return forward(k, rr, a, out_shift); },
        [&](LossReduction rr, const float* grad, float* dx) { backward(k, rr, a, grad, dx); }, 1e-6,
        sum_rtol);
  }
};

TEST_P(RegressionLossKernelTest, MatchesReference) {
  const Case cases[] = {
      {1, true, 0.5f, 0, 0},      // a single element
      {7, false, 1.f, 0, 0},      // least squares against 1
      {7, false, 0.f, 0, 0},      // and against 0
      {64, false, -1.f, 1, 1},    // misaligned together: vector with a head
      {1025, true, 0.5f, 3, 3},   // per-element targets, vector with a head and a tail
      {1027, true, 0.5f, 2, 1},   // x misaligned against the rest: scalar path
      {1030, false, 0.9f, 0, 2},  // one target, x alone misaligned
      {5003, true, 0.3f, 0, 0},   // several reduction blocks
      {70001, false, 0.f, 1, 1},  // many blocks
      {40000, true, 0.f, 0, 0},   // several CPU chunks
  };
  for (RegressionLoss k : kKinds)
    for (LossReduction r : kReductions)
      for (const Case& c : cases)
        check(k, r, c);
}

// More blocks than the reduction's grid cap: every block strides over several float4s.
TEST_P(RegressionLossKernelTest, LargeReduction) {
  for (RegressionLoss k : kKinds) {
    check(k, LossReduction::Mean, {1200003, true, 0.5f, 1, 1}, {}, 1e-4);
    check(k, LossReduction::Sum, {1200003, false, 1.f, 0, 0}, {}, 1e-4);
  }
}

// Inputs equal to their target: zero loss, and a zero absolute-loss gradient (PyTorch's sign).
TEST_P(RegressionLossKernelTest, TiesGiveZeroGradient) {
  const std::vector<float> x = {0.5f, 0.5f, -1.f, 0.5f, 2.f, 0.5f, 0.5f, 0.5f, 3.f};
  for (RegressionLoss k : kKinds)
    for (LossReduction r : kReductions)
      check(k, r, {9, false, 0.5f, 0, 0}, x);
}

TEST_P(RegressionLossKernelTest, ReductionIsReproducible) {
  const int64_t n = 300007;
  const std::vector<float> x = lcg(n, 74, -4.f, 4.f);
  Buffer xb(GetParam(), x);
  RegressionLossArgs a;
  a.x = xb.data();
  a.target_value = 0.25f;
  a.n = n;
  for (RegressionLoss k : kKinds) {
    const float first = forward(k, LossReduction::Sum, a)[0];
    for (int i = 0; i < 3; ++i) {
      const float again = forward(k, LossReduction::Sum, a)[0];
      EXPECT_EQ(std::memcmp(&first, &again, sizeof(float)), 0) << first << " vs " << again;
    }
  }
}

TEST_P(RegressionLossKernelTest, EmptyInput) {
  RegressionLossArgs a;  // n = 0, null x
  for (RegressionLoss k : kKinds) {
    EXPECT_TRUE(std::isnan(forward(k, LossReduction::Mean, a)[0]));
    EXPECT_EQ(forward(k, LossReduction::Sum, a)[0], 0.f);
    EXPECT_NO_THROW(forward(k, LossReduction::None, a));
    EXPECT_NO_THROW(backward(k, LossReduction::Mean, a, nullptr, nullptr));
  }
}

TEST_P(RegressionLossKernelTest, RejectsBadArguments) {
  Buffer x(GetParam(), 16), out(GetParam(), 16);
  RegressionLossArgs a;
  a.x = x.data();
  a.n = -1;
  EXPECT_THAT(error_of([&] { forward(RegressionLoss::Squared, LossReduction::Sum, a); }),
              HasSubstr("regression_loss(squared, sum): expected n >= 0, got -1"));
  a.n = 16;
  a.x = nullptr;
  EXPECT_THAT(error_of([&] { forward(RegressionLoss::Absolute, LossReduction::None, a); }),
              HasSubstr("regression_loss(absolute, none): expected non-null input x for n = 16"));
  a.x = x.data();
  EXPECT_THAT(
      error_of(
          [&] { backward(RegressionLoss::Squared, LossReduction::None, a, nullptr, out.data()); }),
      HasSubstr(
          "regression_loss_backward(squared, none): expected non-null grad and dx for n = 16"));
  EXPECT_THAT(error_of([&] { forward(RegressionLoss::Squared, static_cast<LossReduction>(7), a); }),
              HasSubstr("expected reduction none, mean or sum, got 7"));
  EXPECT_THAT(error_of([&] { forward(static_cast<RegressionLoss>(4), LossReduction::Mean, a); }),
              HasSubstr("expected kind squared or absolute, got 4"));
  if (cuda()) {
    a.n = 100000;
    Buffer big(GetParam(), a.n);
    a.x = big.data();
    EXPECT_THAT(error_of([&] {
                  cuda::regression_loss(RegressionLoss::Squared, LossReduction::Mean, a, out.data(),
                                        nullptr, 0, nullptr);
                }),
                HasSubstr("regression_loss(squared, mean): expected a workspace of at least"));
  }
}

GE_INSTANTIATE_KERNEL_TEST(RegressionLossKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
