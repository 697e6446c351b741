#pragma once
// 2-D reflection and replication padding with PyTorch's F.pad(x, pad, mode='reflect' |
// 'replicate') semantics, pad = {left, right, top, bottom} (F.pad's 4-tuple), on x [N, C, H, W]
// or [C, H, W] -> [..., H + top + bottom, W + left + right]. Both are linear maps; their
// backwards are the adjoint maps, differentiable in turn, so every order of derivative exists.
#include <array>
#include <cstdint>

#include "ganengine/tensor.h"

namespace ge {

// mode='reflect': the border is mirrored without repeating the edge, so each pad must be
// below its input side (as in PyTorch). Pads >= 0.
Tensor reflection_pad2d(const Tensor& x, std::array<int64_t, 4> pad);
// mode='replicate': the edge is repeated. Pads >= 0.
Tensor replication_pad2d(const Tensor& x, std::array<int64_t, 4> pad);

}  // namespace ge
