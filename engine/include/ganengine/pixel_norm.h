#pragma once
// Pixel norm, StyleGAN's normalize_2nd_moment: x * rsqrt(mean(x^2, dim, keepdim) + eps).
// Differentiable to any order.
#include <cstdint>

#include "ganengine/tensor.h"

namespace ge {

// dim may be negative; eps >= 0.
Tensor pixel_norm(const Tensor& x, int64_t dim = 1, float eps = 1e-8f);

}  // namespace ge
