#pragma once
// Bicubic resize to a given size, as PyTorch 1.13's F.interpolate(x, size=size, mode="bicubic",
// align_corners=..., antialias=...) computes it in float32:
//   antialias false: PyTorch's bicubic, Keys' cubic convolution with a = -0.75 over the four
//     taps around the source point, tap indices clamped to the border (the coordinate is ATen's
//     float arithmetic for the given output size, scale = in / out or, with align_corners,
//     (in - 1) / (out - 1));
//   antialias true: PIL's convention, the cubic with a = -0.5, stretched by the scale when
//     downscaling so that each output reads a window of about 4 * scale inputs, the weights
//     normalised to sum to one and the window cut (not clamped) at the borders. It matches PIL's
//     Image.resize(BICUBIC) up to rounding (PIL rounds to 8 bits per channel), and so the usual
//     way of making super-resolution training pairs. Upscaling, it is plain bicubic with a = -0.5
//     except at the borders, where PyTorch (and PIL) renormalise the cut window.
// Both are linear maps R, computed separably along W into a temporary, then along H (ATen's
// order for antialias, and the same sums as its direct bicubic loop). The backward is the exact
// adjoint R^T of that composition (along H, then W) and its backward R again, so every order of
// derivative exists. Deterministic on both devices: the CUDA adjoint is a gather.
#include <array>
#include <cstdint>

#include "ganengine/tensor.h"

namespace ge {

struct BicubicOptions {
  bool align_corners = false;
  // PyTorch accepts align_corners with antialias, and so do we: the scale becomes
  // (in - 1) / (out - 1) while the window stays centred on scale * (dst + 0.5).
  bool antialias = false;
};

// x [N, C, H, W] -> [N, C, size[0], size[1]], or [C, H, W] -> [C, size[0], size[1]] (an image on
// its own, as the data sets resize them on the CPU). Any sizes >= 1, up or down.
Tensor resize_bicubic2d(const Tensor& x, std::array<int64_t, 2> size,
                        const BicubicOptions& options = {});

}  // namespace ge
