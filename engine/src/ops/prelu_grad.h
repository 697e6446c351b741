#pragma once
// The autograd half of prelu, for ops that compute the activation in their own kernel's epilogue
// (conv2d_prelu): validation and the node that differentiates y = prelu(x, weight) given x.
#include "ganengine/shape.h"
#include "ganengine/tensor.h"

namespace ge::detail {

// Throws ge::Error naming `op` unless weight (checked as an operand already) fits an input of
// shape x (see ganengine/prelu.h).
void check_prelu_weight(const Shape& x, const Tensor& weight, const char* op);

// Records y's backward as prelu's: dx from x (kept, not y) and weight, dweight summed per
// channel. y must hold prelu(x, weight) and have no history yet.
void record_prelu(const Tensor& x, const Tensor& weight, const Tensor& y);

}  // namespace ge::detail
