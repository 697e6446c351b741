#pragma once
// Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs",
// section 3.2), differentiable to any order.
#include "ganengine/tensor.h"

namespace ge {

// x [N, A] (a discriminator's features), T [A, B, C] -> o [N, B]:
//   M_i = x_i T, [B, C];  c_b(i, j) = exp(-||M_i,b - M_j,b||_1);  o_i,b = sum_{j != i} c_b(i, j)
// over the other samples of the batch, as the paper's code leaves the sample itself out (its
// 1e6 on the diagonal), so each o_i,b is in [0, N - 1]. A layer concatenates o to x. Composed
// of differentiable ops, the distances fused (pairwise_l1); memory N^2 B.
Tensor minibatch_discrimination(const Tensor& x, const Tensor& T);

}  // namespace ge
