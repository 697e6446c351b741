#pragma once
// Pieces of bias_act that ops fusing it into their own epilogue (conv2d_bias_act) reuse: the
// options resolved to kernel parameters, and the differentiable gradient read from the output.
#include "ganengine/bias_act.h"
#include "ganengine/kernels/bias_act.h"
#include "ganengine/tensor.h"

namespace ge::detail {

// options -> kernel parameters (default gain applied), validated with `op` in the messages.
// options.dim and the bias are the caller's business.
kernels::BiasActParams bias_act_params(const BiasActOptions& options, const char* op);

// dx = dy * (dy/dx) recovered from the forward's output y (bias_act's own backward): itself
// differentiable in dy and y, so gradients of any order flow through it.
Tensor bias_act_grad(const Tensor& dy, const Tensor& y, const kernels::BiasActParams& p);

}  // namespace ge::detail
