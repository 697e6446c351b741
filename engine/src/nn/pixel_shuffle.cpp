#include "ganengine/nn/pixel_shuffle.h"

#include "ganengine/error.h"
#include "ganengine/pixel_shuffle.h"

namespace ge::nn {

// The input-independent half of the ops' checks, so that a bad layer fails where it is built.
PixelShuffle::PixelShuffle(int64_t upscale_factor) : upscale_factor(upscale_factor) {
  GE_CHECK(upscale_factor >= 1, "PixelShuffle: expected upscale_factor >= 1, got ", upscale_factor);
}

Tensor PixelShuffle::forward(const Tensor& x) {
  return pixel_shuffle(x, upscale_factor);
}

PixelUnshuffle::PixelUnshuffle(int64_t downscale_factor) : downscale_factor(downscale_factor) {
  GE_CHECK(downscale_factor >= 1, "PixelUnshuffle: expected downscale_factor >= 1, got ",
           downscale_factor);
}

Tensor PixelUnshuffle::forward(const Tensor& x) {
  return pixel_unshuffle(x, downscale_factor);
}

}  // namespace ge::nn
