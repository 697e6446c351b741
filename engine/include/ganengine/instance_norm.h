#pragma once
// Instance normalisation with PyTorch's F.instance_norm semantics on x [N, C, H, W] (no running
// statistics: InstanceNorm2d with track_running_stats=False), differentiable to any order.
#include "ganengine/tensor.h"

namespace ge {

// Each plane (n, c) is normalised by its own mean and biased variance over H * W, then scaled by
// weight[c] and shifted by bias[c]. weight, bias: both [C], or both undefined (no affine).
// eps > 0. A 1x1 plane normalises to 0 (PyTorch rejects it; here it is well defined).
Tensor instance_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       float eps = 1e-5f);

}  // namespace ge
