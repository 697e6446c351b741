#include "support/reference.h"

#include <cmath>
#include <sstream>

namespace ge::testing {

std::vector<float> lcg_values(int64_t n, uint32_t seed, float lo, float hi) {
  std::vector<float> out(static_cast<size_t>(n));
  uint32_t state = seed * 2654435761u + 12345u;
  for (auto& v : out) {
    state = state * 1664525u + 1013904223u;
    v = lo + (hi - lo) * static_cast<float>(state >> 8) / static_cast<float>(1u << 24);
  }
  return out;
}

int64_t broadcast_offset(const Shape& from, const Shape& to, int64_t flat_index) {
  int64_t offset = 0, stride = 1;
  const int64_t lead = static_cast<int64_t>(to.size()) - static_cast<int64_t>(from.size());
  for (int64_t d = static_cast<int64_t>(to.size()) - 1; d >= 0; --d) {
    const int64_t idx = flat_index % to[d];
    flat_index /= to[d];
    const int64_t fd = d - lead;
    if (fd < 0) continue;
    if (from[fd] != 1) offset += idx * stride;
    stride *= from[fd];
  }
  return offset;
}

::testing::AssertionResult all_close(const Tensor& actual, const std::vector<float>& expected,
                                     double atol, double rtol) {
  const std::vector<float> got = actual.to_vector();
  if (got.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "size mismatch: got " << got.size() << " elements, expected " << expected.size();
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - expected[i]);
    const bool both_nan = std::isnan(got[i]) && std::isnan(expected[i]);
    if (!both_nan && !(diff <= atol + rtol * std::fabs(static_cast<double>(expected[i])))) {
      return ::testing::AssertionFailure()
             << "element " << i << ": got " << got[i] << ", expected " << expected[i] << " (|diff| "
             << diff << " > atol " << atol << " + rtol " << rtol << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double atol,
                                     double rtol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape mismatch: got " << to_string(actual.shape())
                                         << ", expected " << to_string(expected.shape());
  }
  return all_close(actual, expected.to_vector(), atol, rtol);
}

}  // namespace ge::testing
