#pragma once
// Host references for the model tests: loss values computed in double from a tensor's values,
// independent of the engine's loss kernels, and a module's parameter count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ganengine/nn/module.h"
#include "ganengine/tensor.h"

namespace ge::testing {

inline int64_t parameter_count(nn::Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters())
    n += p.numel();
  return n;
}

// mean((a - b)^2) and mean((a - target)^2).
inline double host_mse(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i)
    s += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
  return s / static_cast<double>(x.size());
}
inline double host_mse(const Tensor& a, double target) {
  const auto x = a.to_vector();
  double s = 0;
  for (float e : x)
    s += (e - target) * (e - target);
  return s / static_cast<double>(x.size());
}

// mean(|a - b|).
inline double host_l1(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector(), y = b.to_vector();
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i)
    s += std::fabs(static_cast<double>(x[i]) - y[i]);
  return s / static_cast<double>(x.size());
}

// The mean binary cross-entropy of `logits` against `target`, computed stably.
inline double host_bce(const Tensor& logits, double target) {
  const auto z = logits.to_vector();
  double s = 0;
  for (float v : z)
    s += std::log1p(std::exp(-std::fabs(v))) + std::max<double>(v, 0) - v * target;
  return s / static_cast<double>(z.size());
}

}  // namespace ge::testing
