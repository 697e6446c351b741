#pragma once
// 2-D upsampling by an integer factor with PyTorch's F.interpolate(x, scale_factor=scale, mode=...)
// semantics on x [N, C, H, W] -> [N, C, H * scale, W * scale]. Both are linear maps; their
// backwards are the adjoint maps, differentiable in turn, so every order of derivative exists.
#include <cstdint>

#include "ganengine/tensor.h"

namespace ge {

// mode='nearest'. scale >= 1.
Tensor upsample_nearest2d(const Tensor& x, int64_t scale = 2);
// mode='bilinear' with the given align_corners. scale >= 1.
Tensor upsample_bilinear2d(const Tensor& x, int64_t scale = 2, bool align_corners = false);

}  // namespace ge
