#pragma once
// Sub-pixel rearrangement of contiguous float32 tensors by a factor r >= 1, with PyTorch's
// F.pixel_shuffle / F.pixel_unshuffle index order. With P = N * C planes:
//   deep  side [P * r * r, H, W]      (the shuffle's input, the unshuffle's output)
//   large side [P, H * r, W * r]      (the shuffle's output, the unshuffle's input)
//   large[p, h * r + i, w * r + j] = deep[p * r * r + i * r + j, h, w]
// The two modes are permutations and each other's inverse (hence adjoint), so the backward of
// one is the other.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

enum class PixelShuffleMode : int { Shuffle, Unshuffle };

// The size helpers are constexpr so that kernels can call them too (nvcc's relaxed constexpr).
struct PixelShuffleShape {
  int64_t planes = 0;  // N * C, C the large side's channels
  int64_t h = 0;       // the deep side's height and width
  int64_t w = 0;
  int64_t r = 1;
  constexpr int64_t large_h() const { return h * r; }
  constexpr int64_t large_w() const { return w * r; }
  constexpr int64_t numel() const { return planes * r * r * h * w; }
};

namespace cpu {
void pixel_shuffle(PixelShuffleMode mode, const float* in, float* out, const PixelShuffleShape& s);
}
namespace cuda {
GE_CUDA_LAUNCHER void pixel_shuffle(PixelShuffleMode mode, const float* in, float* out,
                                    const PixelShuffleShape& s, Stream stream);
}

}  // namespace ge::kernels
