#pragma once
// Pairwise L1 distances between the rows of a contiguous float32 m [N, B, C], per b:
//   pairwise_l1          d[i, j, b] = sum_c |m[i, b, c] - m[j, b, c]|                 -> [N, N, B]
// and the two linear maps of its derivative, with s_ijbc = sign(m[i, b, c] - m[j, b, c]) and
// sign(0) = 0:
//   pairwise_l1_adjoint  out[i, b, c] = sum_j (g[i, j, b] + g[j, i, b]) * s_ijbc      -> [N, B, C]
//                        (the vector-Jacobian product, for g [N, N, B])
//   pairwise_l1_tangent  out[i, j, b] = sum_c (h[i, b, c] - h[j, b, c]) * s_ijbc      -> [N, N, B]
//                        (the Jacobian-vector product, for h [N, B, C])
// Sums run in a fixed order (c ascending, j ascending) in float: results are bitwise
// reproducible on a device. Every launcher is a no-op when its output is empty.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

struct PairwiseL1Shape {
  int64_t n = 0;  // N, the rows compared pairwise
  int64_t b = 0;  // B, the independent distances per pair
  int64_t c = 0;  // C, the dimensions summed over
};

namespace cpu {
void pairwise_l1(const float* m, float* d, const PairwiseL1Shape& s);
void pairwise_l1_adjoint(const float* m, const float* g, float* out, const PairwiseL1Shape& s);
void pairwise_l1_tangent(const float* m, const float* h, float* out, const PairwiseL1Shape& s);
}  // namespace cpu

namespace cuda {
GE_CUDA_LAUNCHER void pairwise_l1(const float* m, float* d, const PairwiseL1Shape& s,
                                  Stream stream);
GE_CUDA_LAUNCHER void pairwise_l1_adjoint(const float* m, const float* g, float* out,
                                          const PairwiseL1Shape& s, Stream stream);
GE_CUDA_LAUNCHER void pairwise_l1_tangent(const float* m, const float* h, float* out,
                                          const PairwiseL1Shape& s, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
