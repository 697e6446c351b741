#pragma once
// torch.nn.PixelShuffle and torch.nn.PixelUnshuffle: layers without parameters over
// ge::pixel_shuffle and ge::pixel_unshuffle.
#include <cstdint>

#include "ganengine/nn/module.h"

namespace ge::nn {

class PixelShuffle : public Module {
 public:
  explicit PixelShuffle(int64_t upscale_factor);
  std::string name() const override { return "PixelShuffle"; }
  Tensor forward(const Tensor& x) override;
  const int64_t upscale_factor;
};

class PixelUnshuffle : public Module {
 public:
  explicit PixelUnshuffle(int64_t downscale_factor);
  std::string name() const override { return "PixelUnshuffle"; }
  Tensor forward(const Tensor& x) override;
  const int64_t downscale_factor;
};

}  // namespace ge::nn
