// Logistic loss launchers on cpu and cuda against references in double: every reduction, with a
// target buffer and with one target value, signs +-1 and others, sizes that take one block and
// many (the CUDA reduction's partials and last-block combine), misaligned buffers (vector path
// with a head, and the scalar path), extreme logits, bitwise reproducibility of the reduction,
// and the argument errors.
#include "ganengine/kernels/loss.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "loss_kernel_check.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

// softplus(z) - z t written the naive way in double: exact enough for |z| < 700.
double loss_ref(double x, double t, double sign) {
  const double z = sign * x;
  return std::log1p(std::exp(z)) - z * t;
}

double grad_ref(double x, double t, double sign) {
  const double z = sign * x;
  return sign * (1.0 / (1.0 + std::exp(-z)) - t);
}

struct Case {
  int64_t n;
  bool target;         // a target buffer, else target_value
  float target_value;  // also the centre of the target buffer's values
  float sign;
  int64_t shift;    // of every buffer
  int64_t x_shift;  // of x alone
};

std::string describe(LossReduction r, const Case& c) {
  return std::string(name(r)) + " n " + std::to_string(c.n) + " target " +
         (c.target ? "buffer" : std::to_string(c.target_value)) + " sign " +
         std::to_string(c.sign) + " shifts " + std::to_string(c.shift) + "/" +
         std::to_string(c.x_shift);
}

class LossKernelTest : public KernelTest {
 protected:
  // Forward; returns what the launcher wrote (n values for None, one for the reductions).
  std::vector<float> forward(LossReduction r, const LogisticLossArgs& a, int64_t out_shift = 0) {
    const int64_t count = r == LossReduction::None ? a.n : 1;
    Buffer out(GetParam(), count + out_shift);
    if (cuda()) {
      const int64_t need = a.n >= 0 ? cuda::logistic_loss_workspace(r, a.n) : 0;
      Buffer ws(GetParam(), need);
      cuda::logistic_loss(r, a, out.data(out_shift), need > 0 ? ws.data() : nullptr, need, nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::logistic_loss(r, a, out.data(out_shift));
    }
    return out.download(count, out_shift);
  }

  void backward(LossReduction r, const LogisticLossArgs& a, const float* grad, float* dx) {
    if (cuda()) {
      cuda::logistic_loss_backward(r, a, grad, dx, nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::logistic_loss_backward(r, a, grad, dx);
    }
  }

  void check(LossReduction r, const Case& c, double sum_rtol = 1e-5) {
    SCOPED_TRACE(describe(r, c));
    const Dev dev = GetParam();
    const std::vector<float> x = lcg(c.n, 21, -6.f, 6.f);
    const std::vector<float> t = lcg(c.n, 22, c.target_value - 0.5f, c.target_value + 0.5f);
    const std::vector<float> g = lcg(c.n, 23);
    Buffer xb(dev, x, c.x_shift), tb(dev, t, c.shift);
    LogisticLossArgs a;
    a.x = xb.data(c.x_shift);
    a.target = c.target ? tb.data(c.shift) : nullptr;
    a.target_value = c.target_value;
    a.sign = c.sign;
    a.n = c.n;
    check_loss_case(
        dev, r, {x, t, g, c.target, c.target_value, c.shift},
        [&](double xi, double ti) { return loss_ref(xi, ti, c.sign); },
        [&](double xi, double ti) { return grad_ref(xi, ti, c.sign); },
        [&](LossReduction rr, int64_t out_shift) { return forward(rr, a, out_shift); },
        [&](LossReduction rr, const float* grad, float* dx) { backward(rr, a, grad, dx); }, 1e-5,
        sum_rtol);
  }
};

TEST_P(LossKernelTest, MatchesReference) {
  const Case cases[] = {
      {1, true, 0.5f, 1.f, 0, 0},       // a single element
      {7, false, 1.f, 1.f, 0, 0},       // BCE with target 1: softplus(-x)
      {7, false, 0.f, 1.f, 0, 0},       // BCE with target 0: softplus(x)
      {64, false, 0.f, -1.f, 1, 1},     // softplus(-x), misaligned together: vector with a head
      {1025, true, 0.5f, 1.f, 3, 3},    // per-element targets, vector with a head and a tail
      {1027, true, 0.5f, 1.f, 2, 1},    // x misaligned against the rest: scalar path
      {1030, false, 0.9f, 1.f, 0, 2},   // smoothed label, x alone misaligned
      {5003, true, 0.3f, 2.5f, 0, 0},   // several reduction blocks, a sign other than +-1
      {70001, false, 0.f, -1.f, 1, 1},  // many blocks
  };
  for (LossReduction r : kReductions)
    for (const Case& c : cases)
      check(r, c);
}

// More blocks than the reduction's grid cap: every block strides over several float4s.
TEST_P(LossKernelTest, LargeReduction) {
  check(LossReduction::Mean, {1200003, true, 0.5f, 1.f, 1, 1}, 1e-4);
  check(LossReduction::Sum, {1200003, false, 1.f, 1.f, 0, 0}, 1e-4);
}

// Logits far out in both tails: no overflow, and tiny losses keep their precision.
TEST_P(LossKernelTest, ExtremeLogits) {
  const std::vector<float> x = {-100.f, -30.f, -1e-3f, 0.f, 1e-3f, 30.f, 100.f, 88.f};
  Buffer xb(GetParam(), x);
  for (float target : {0.f, 1.f}) {
    SCOPED_TRACE("target " + std::to_string(target));
    LogisticLossArgs a;
    a.x = xb.data();
    a.target_value = target;
    a.n = static_cast<int64_t>(x.size());
    std::vector<double> want, dwant;
    for (float v : x) {
      // softplus(-x) for t = 1, softplus(x) for t = 0, via the stable identity in double.
      const double z = target == 1.f ? -static_cast<double>(v) : v;
      want.push_back(std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z))));
      dwant.push_back(1.0 / (1.0 + std::exp(-static_cast<double>(v))) - target);
    }
    // Losses below 1e-37 are float denormals, with few significant bits.
    EXPECT_TRUE(close(forward(LossReduction::None, a), want, 1e-37, 1e-6));
    Buffer g(GetParam(), std::vector<float>(x.size(), 1.f)), dx(GetParam(), a.n);
    backward(LossReduction::None, a, g.data(), dx.data());
    // sigmoid(x) - t rounds like PyTorch's: to float's absolute precision near 1.
    EXPECT_TRUE(close(dx.download(), dwant, 1e-7, 1e-6));
  }
}

TEST_P(LossKernelTest, ReductionIsReproducible) {
  const int64_t n = 300007;
  const std::vector<float> x = lcg(n, 31, -4.f, 4.f);
  Buffer xb(GetParam(), x);
  LogisticLossArgs a;
  a.x = xb.data();
  a.n = n;
  const float first = forward(LossReduction::Sum, a)[0];
  for (int i = 0; i < 3; ++i) {
    const float again = forward(LossReduction::Sum, a)[0];
    EXPECT_EQ(std::memcmp(&first, &again, sizeof(float)), 0) << first << " vs " << again;
  }
}

TEST_P(LossKernelTest, EmptyInput) {
  LogisticLossArgs a;  // n = 0, null x
  EXPECT_TRUE(std::isnan(forward(LossReduction::Mean, a)[0]));
  EXPECT_EQ(forward(LossReduction::Sum, a)[0], 0.f);
  EXPECT_NO_THROW(forward(LossReduction::None, a));
  EXPECT_NO_THROW(backward(LossReduction::Mean, a, nullptr, nullptr));
}

TEST_P(LossKernelTest, RejectsBadArguments) {
  Buffer x(GetParam(), 16), out(GetParam(), 16);
  LogisticLossArgs a;
  a.x = x.data();
  a.n = 16;
  a.sign = INFINITY;
  EXPECT_THAT(error_of([&] { forward(LossReduction::Mean, a); }),
              HasSubstr("logistic_loss(mean): expected a finite sign, got inf"));
  a.sign = 1.f;
  a.n = -1;
  EXPECT_THAT(error_of([&] { forward(LossReduction::Sum, a); }),
              HasSubstr("logistic_loss(sum): expected n >= 0, got -1"));
  a.n = 16;
  a.x = nullptr;
  EXPECT_THAT(error_of([&] { forward(LossReduction::None, a); }),
              HasSubstr("expected non-null logits x for n = 16"));
  a.x = x.data();
  EXPECT_THAT(error_of([&] { backward(LossReduction::None, a, nullptr, out.data()); }),
              HasSubstr("logistic_loss_backward(none): expected non-null grad and dx for n = 16"));
  EXPECT_THAT(error_of([&] { forward(static_cast<LossReduction>(7), a); }),
              HasSubstr("expected reduction none, mean or sum, got 7"));
  if (cuda()) {
    a.n = 100000;
    Buffer big(GetParam(), a.n);
    a.x = big.data();
    EXPECT_THAT(error_of([&] {
                  cuda::logistic_loss(LossReduction::Mean, a, out.data(), nullptr, 0, nullptr);
                }),
                HasSubstr("logistic_loss(mean): expected a workspace of at least"));
  }
}

GE_INSTANTIATE_KERNEL_TEST(LossKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
