#pragma once
// Batch normalisation with PyTorch's F.batch_norm semantics on x [N, C, H, W], differentiable to
// any order in training and eval mode.
#include "ganengine/tensor.h"

namespace ge {

// weight, bias: [C] or undefined (1 and 0). running_mean, running_var: [C] or undefined.
// training: normalise with the batch's mean and biased variance and, where given, update the
// running statistics in place (without history):
//   running = (1 - momentum) * running + momentum * batch_stat,
// with the unbiased batch variance for running_var, as PyTorch. Needs N * H * W > 1.
// eval (training = false): normalise with the running statistics, which must be given.
// Gradients reach x, weight and bias, never the running statistics.
Tensor batch_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Tensor& running_mean, const Tensor& running_var, bool training,
                    float momentum = 0.1f, float eps = 1e-5f);

}  // namespace ge
