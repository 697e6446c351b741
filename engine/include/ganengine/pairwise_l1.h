#pragma once
// Pairwise L1 distances between the rows of a batch, per group of coordinates, and the two linear
// maps of their derivative; each differentiable to any order.
#include "ganengine/tensor.h"

namespace ge {

// m [N, B, C] -> d [N, N, B]:  d[i, j, b] = sum_c |m[i, b, c] - m[j, b, c]|.
// Fused: no [N, N, B, C] intermediate. Its gradient is pairwise_l1_adjoint(m, grad).
Tensor pairwise_l1(const Tensor& m);

// The derivative's maps at m [N, B, C], with s_ijbc = sign(m[i, b, c] - m[j, b, c]) and
// sign(0) = 0 (as abs's gradient):
//   pairwise_l1_adjoint(m, g [N, N, B]) [N, B, C]:
//       out[i, b, c] = sum_j (g[i, j, b] + g[j, i, b]) * s_ijbc       (vector-Jacobian product)
//   pairwise_l1_tangent(m, h [N, B, C]) [N, N, B]:
//       out[i, j, b] = sum_c (h[i, b, c] - h[j, b, c]) * s_ijbc       (Jacobian-vector product)
// Each is linear in its second argument with coefficients piecewise constant in m: its gradient
// for that argument is the other map, and for m it is zero.
Tensor pairwise_l1_adjoint(const Tensor& m, const Tensor& g);
Tensor pairwise_l1_tangent(const Tensor& m, const Tensor& h);

}  // namespace ge
