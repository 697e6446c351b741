#pragma once
// StyleGAN's figures from a checkpoint's EMA generator: style mixing and w-space interpolation.
#include <cstdint>
#include <string>

#include "ganengine/models/stylegan_lite.h"

namespace ge::apps {

struct StyleMixArgs {
  int64_t rows = 4, cols = 5;
  // ws [0, coarse_layers) come from the row sources, the rest from the column sources; < 0:
  // half of num_ws.
  int64_t coarse_layers = -1;
  uint64_t seed = 0;
  float truncation = 1.f;
};
// A (rows + 1) x (cols + 1) grid: top row the column sources, left column the row sources, cell
// (r, c) the coarse styles of row source r with the fine styles of column source c.
Tensor style_mix_figure(models::StyleGanLite& gan, const StyleMixArgs& args);

struct InterpolateArgs {
  int64_t rows = 4, steps = 8;
  uint64_t seed = 0;
  float truncation = 1.f;
};
// `rows` rows of `steps` images: w = lerp(w_a, w_b, t) for t = 0 .. 1, w_a and w_b from two
// random latents per row.
Tensor interpolation_figure(models::StyleGanLite& gan, const InterpolateArgs& args);

}  // namespace ge::apps
