#pragma once
// PReLU (He et al. 2015), as PyTorch's F.prelu: y = x > 0 ? x : weight[c] * x, with weight
// holding one slope (shared) or x.shape[1] slopes (per channel; channel dim 1 when x has rank
// >= 2, a rank-1 x has one channel). The slopes are learned and may be any real number.
// Gradients of every order exist (the function is piecewise linear in x and linear in weight);
// the slope gradient sums dy * x over the elements with x <= 0, in a fixed order.
#include "ganengine/tensor.h"

namespace ge {

// weight: 0-D or 1-D, with 1 or x.shape[1] elements.
Tensor prelu(const Tensor& x, const Tensor& weight);

}  // namespace ge
