#pragma once
// The check every fused loss launcher test runs on one case: the expected elementwise losses,
// their mean or sum and the backward's dx, in double from the test's own per-element reference,
// against what the forward and backward launchers write.
#include <cstdint>
#include <vector>

#include "ganengine/kernels/loss.h"
#include "kernel_test_util.h"

namespace ge::kernels::testing {

inline constexpr LossReduction kReductions[] = {LossReduction::None, LossReduction::Mean,
                                                LossReduction::Sum};

struct LossCheckInputs {
  std::vector<float> x, t, g;  // t: the target buffer's values, when target
  bool target = false;         // else target_value for every element
  float target_value = 0.f;
  int64_t shift = 0;  // of the output, dx and the gradient buffers
};

// value(x, t) and derivative(x, t) in double: the loss and d loss / dx of one element.
// forward(r, out_shift) returns what the forward launcher wrote (n values for None, one
// otherwise); backward(r, grad, dx) runs the backward launcher. rtol: of the elementwise values
// and of dx; sum_rtol: of a reduction.
template <typename Value, typename Derivative, typename Forward, typename Backward>
void check_loss_case(Dev dev, LossReduction r, const LossCheckInputs& in, Value&& value,
                     Derivative&& derivative, Forward&& forward, Backward&& backward, double rtol,
                     double sum_rtol) {
  const int64_t n = static_cast<int64_t>(in.x.size());
  std::vector<double> loss(in.x.size()), dx(loss.size());
  double total = 0.0;
  const double g0 = 0.75;  // the reductions' incoming gradient
  for (size_t i = 0; i < loss.size(); ++i) {
    const double ti = in.target ? in.t[i] : in.target_value;
    loss[i] = value(in.x[i], ti);
    total += loss[i];
    const double gi = r == LossReduction::None   ? in.g[i]
                      : r == LossReduction::Mean ? g0 / static_cast<double>(n)
                                                 : g0;
    dx[i] = gi * derivative(in.x[i], ti);
  }

  if (r == LossReduction::None) {
    EXPECT_TRUE(close(forward(r, in.shift), loss, 1e-6, rtol)) << "forward";
  } else {
    const double want = r == LossReduction::Mean ? total / static_cast<double>(n) : total;
    EXPECT_TRUE(close(forward(r, int64_t{0}), {want}, 1e-6, sum_rtol)) << "forward";
  }

  Buffer gb(dev, in.g, in.shift), g0b(dev, std::vector<float>{static_cast<float>(g0)}),
      out(dev, n + in.shift);
  backward(r, r == LossReduction::None ? gb.data(in.shift) : g0b.data(), out.data(in.shift));
  EXPECT_TRUE(close(out.download(n, in.shift), dx, 1e-7, rtol)) << "backward";
}

}  // namespace ge::kernels::testing
