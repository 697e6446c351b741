#pragma once
// What the fused loss op tests (ops_loss_test, ops_regression_loss_test) share: the reductions,
// their names, and the expected result and shape of a reduction.
#include <vector>

#include "ganengine/loss.h"
#include "ganengine/shape.h"

namespace ge::optest {

inline constexpr Reduction kReductions[] = {Reduction::None, Reduction::Mean, Reduction::Sum};

inline const char* reduction_name(Reduction r) {
  return r == Reduction::None ? "none" : (r == Reduction::Mean ? "mean" : "sum");
}

// The expected result: the elementwise values, or their mean or sum as one value.
inline std::vector<float> reduce(const std::vector<double>& v, Reduction r) {
  if (r == Reduction::None) return std::vector<float>(v.begin(), v.end());
  double s = 0.0;
  for (double x : v)
    s += x;
  return {static_cast<float>(r == Reduction::Mean ? s / static_cast<double>(v.size()) : s)};
}

inline Shape expected_shape(const Shape& in, Reduction r) {
  return r == Reduction::None ? in : Shape{};
}

}  // namespace ge::optest
