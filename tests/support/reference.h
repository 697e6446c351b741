#pragma once
// Independent host references and comparison helpers for tests: plain loops in double.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/tensor.h"

namespace ge::testing {

// Deterministic values in [lo, hi) from a tiny LCG, independent of the engine's generator.
std::vector<float> lcg_values(int64_t n, uint32_t seed, float lo = -1.f, float hi = 1.f);

// Element count of `shape`, computed here rather than with ge::numel so references stay
// engine-free.
inline int64_t count(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

// Row-major index -> element offset of a broadcast operand of shape `from` inside `to`.
int64_t broadcast_offset(const Shape& from, const Shape& to, int64_t flat_index);

// EXPECT that tensor `actual` (any device) matches `expected` within atol + rtol * |expected|.
::testing::AssertionResult all_close(const Tensor& actual, const std::vector<float>& expected,
                                     double atol = 1e-5, double rtol = 1e-5);
// The message of the ge::Error that fn() throws, or "<no error>" when it returns.
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected,
                                     double atol = 1e-5, double rtol = 1e-5);

}  // namespace ge::testing
