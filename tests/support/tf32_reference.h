#pragma once
// TF32 rounding from its definition, for tests of the tensor-core paths: the nearest value with
// 10 fraction bits (ties away from zero), as cvt.rna.tf32.f32 rounds FP32 data before the tensor
// cores multiply it. Written from the nearest representable neighbours, not from bit tricks.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace ge::testing {

inline float tf32_rounded(float v) {
  if (!std::isfinite(v) || v == 0.f) return v;
  int e;
  std::frexp(v, &e);  // |v| in [2^(e-1), 2^e)
  // 10 fraction bits; subnormals keep the spacing of the smallest normal binade.
  const double unit = std::ldexp(1.0, std::max(e - 11, -136));
  const double q = std::fabs(static_cast<double>(v)) / unit;
  const double r = std::floor(q) + (q - std::floor(q) >= 0.5 ? 1.0 : 0.0);
  return static_cast<float>(std::copysign(r * unit, static_cast<double>(v)));
}

inline std::vector<float> tf32_rounded(const std::vector<float>& v) {
  std::vector<float> r(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    r[i] = tf32_rounded(v[i]);
  return r;
}

}  // namespace ge::testing
