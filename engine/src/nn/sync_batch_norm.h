#pragma once
// BatchNorm2d's training forward over the global batch of ge::distributed's default group.
#include "ganengine/tensor.h"

namespace ge::nn::detail {

// y = (x - mean) / sqrt(var + eps) * weight + bias with the mean and biased variance of every
// rank's x, per channel, in two passes (the mean, then the squared deviations), each an
// all-reduce that autograd differentiates to any order. Updates the running statistics as
// torch.nn.SyncBatchNorm does (the unbiased variance of the global batch). weight and bias may
// be undefined (affine=false).
Tensor sync_batch_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         Tensor& running_mean, Tensor& running_var, float momentum, float eps);

}  // namespace ge::nn::detail
