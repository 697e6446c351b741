#pragma once
// Sub-pixel convolution's rearrangement (Shi et al. 2016), as PyTorch's F.pixel_shuffle and
// F.pixel_unshuffle, on [N, C, H, W] or [C, H, W]:
//   pixel_shuffle    [N, C*r*r, H, W] -> [N, C, H*r, W*r]
//   pixel_unshuffle  [N, C, H*r, W*r] -> [N, C*r*r, H, W]
//   out[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]  (shuffle; unshuffle inverts it)
// Both are permutations, each the other's inverse and adjoint: the backward of one is the other,
// so every order of derivative exists.
#include <cstdint>

#include "ganengine/tensor.h"

namespace ge {

Tensor pixel_shuffle(const Tensor& x, int64_t upscale_factor);
Tensor pixel_unshuffle(const Tensor& x, int64_t downscale_factor);

}  // namespace ge
