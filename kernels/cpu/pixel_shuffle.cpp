// CPU pixel_shuffle: one output row per step (rows spread over the threads), so the writes
// stream; a shuffle row interleaves r deep rows, an unshuffle row reads every r-th element of
// one large row.
#include "common/pixel_shuffle.h"

#include <cstdint>

#include "cpu/parallel.h"
#include "ganengine/kernels/pixel_shuffle.h"

namespace ge::kernels::cpu {

void pixel_shuffle(PixelShuffleMode mode, const float* in, float* out, const PixelShuffleShape& s) {
  pixel_shuffle_check(mode, s, in, out);
  if (s.numel() == 0) return;
  const int64_t r = s.r, rr = r * r, lh = s.large_h(), lw = s.large_w();
  const bool parallel = s.numel() >= kParallelGrain;
  if (mode == PixelShuffleMode::Shuffle) {
    parallel_for(s.planes * lh, parallel, [&](int64_t row) {
      const int64_t p = row / lh, oh = row % lh, h = oh / r, i = oh % r;
      float* dst = out + row * lw;
      for (int64_t j = 0; j < r; ++j) {
        const float* src = in + ((p * rr + i * r + j) * s.h + h) * s.w;
        for (int64_t w = 0; w < s.w; ++w)
          dst[w * r + j] = src[w];
      }
    });
  } else {
    parallel_for(s.planes * rr * s.h, parallel, [&](int64_t row) {
      const int64_t q = row / s.h, h = row % s.h, p = q / rr, i = q % rr / r, j = q % r;
      const float* src = in + (p * lh + h * r + i) * lw + j;
      float* dst = out + row * s.w;
      for (int64_t w = 0; w < s.w; ++w)
        dst[w] = src[w * r];
    });
  }
}

}  // namespace ge::kernels::cpu
