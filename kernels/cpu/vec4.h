#pragma once
// Four floats and the matching lane masks (all ones where a compare holds), through the
// compiler's vector extension: GCC 12's -O2 vectorizer leaves branchy selects and column loops
// of unknown length scalar, these stay 4-wide. Host code only (kernels/cpu).
#include <cstdint>
#include <cstring>

namespace ge::kernels::cpu::vec4 {

using F4 = float __attribute__((vector_size(16)));
using M4 = int32_t __attribute__((vector_size(16)));
inline constexpr int64_t kWidth = 4;

inline F4 splat(float s) {
  return F4{s, s, s, s};
}
inline F4 load(const float* p) {
  F4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, F4 v) {
  std::memcpy(p, &v, sizeof v);
}
// m ? a : b, lane by lane.
inline F4 select(M4 m, F4 a, F4 b) {
  return reinterpret_cast<F4>((m & reinterpret_cast<M4>(a)) | (~m & reinterpret_cast<M4>(b)));
}

}  // namespace ge::kernels::cpu::vec4
