#pragma once
// pairwise_l1's per-element terms and argument checks, shared by the CPU loops and the CUDA
// kernels. a and b are m[i, b, c] and m[j, b, c] (one b, one c); the adjoint and the tangent
// weight their operand by the sign of a - b, which is 0 on a tie (as PyTorch's abs backward).
#include <cmath>
#include <cstdint>
#include <initializer_list>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/pairwise_l1.h"

namespace ge::kernels {

GE_HOST_DEVICE float pairwise_l1_sign(float a, float b) {
  return static_cast<float>((a > b) - (a < b));
}

// |a - b|: one term of d[i, j, b].
GE_HOST_DEVICE float pairwise_l1_term(float a, float b) {
  return fabsf(a - b);
}

// (h_a - h_b) * sign(a - b): one term of the tangent's out[i, j, b].
GE_HOST_DEVICE float pairwise_l1_tangent_term(float a, float b, float h_a, float h_b) {
  return (h_a - h_b) * pairwise_l1_sign(a, b);
}

// Offsets of m[i, b, c] in [N, B, C] and of d[i, j, b] in [N, N, B].
GE_HOST_DEVICE int64_t pairwise_l1_row(const PairwiseL1Shape& s, int64_t i) {
  return i * s.b * s.c;
}
GE_HOST_DEVICE int64_t pairwise_l1_pair(const PairwiseL1Shape& s, int64_t i, int64_t j) {
  return (i * s.n + j) * s.b;
}

// The inputs are read only when C > 0 (with C = 0 every distance and tangent is 0).
inline void pairwise_l1_check(const char* fn, const PairwiseL1Shape& s, int64_t out_numel,
                              const void* out, std::initializer_list<const void*> inputs) {
  GE_CHECK(s.n >= 0 && s.b >= 0 && s.c >= 0, fn, ": expected non-negative sizes, got [", s.n, ", ",
           s.b, ", ", s.c, "]");
  if (out_numel == 0) return;
  bool ok = out != nullptr;
  if (s.c > 0)
    for (const void* p : inputs)
      ok = ok && p != nullptr;
  GE_CHECK(ok, fn, ": expected non-null buffers for shape [", s.n, ", ", s.b, ", ", s.c, "]");
}

// Sizes of the outputs: [N, N, B] for the distances and the tangent, [N, B, C] for the adjoint.
inline int64_t pairwise_l1_pairs_numel(const PairwiseL1Shape& s) {
  return s.n * s.n * s.b;
}
inline int64_t pairwise_l1_rows_numel(const PairwiseL1Shape& s) {
  return s.n * s.b * s.c;
}

}  // namespace ge::kernels
