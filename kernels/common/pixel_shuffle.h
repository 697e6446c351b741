#pragma once
// pixel_shuffle's argument checks, shared by the CPU and CUDA launchers.
#include <cstdint>

#include "ganengine/error.h"
#include "ganengine/kernels/pixel_shuffle.h"

namespace ge::kernels {

inline const char* name(PixelShuffleMode mode) {
  return mode == PixelShuffleMode::Shuffle ? "pixel_shuffle" : "pixel_unshuffle";
}

inline void pixel_shuffle_check(PixelShuffleMode mode, const PixelShuffleShape& s, const float* in,
                                const float* out) {
  const char* fn = name(mode);
  GE_CHECK(s.planes >= 0 && s.h >= 0 && s.w >= 0, fn, ": expected non-negative sizes, got [",
           s.planes, ", ", s.h, ", ", s.w, "]");
  GE_CHECK(s.r >= 1, fn, ": expected a factor r >= 1, got ", s.r);
  if (s.numel() == 0) return;
  GE_CHECK(in != nullptr && out != nullptr, fn, ": expected non-null input and output for ",
           s.numel(), " elements");
}

}  // namespace ge::kernels
