// CPU pixel_norm: row sums in double. With inner > 1 the rows are strided, so the loops walk a
// tile of up to kTile neighbouring rows at once: unit-stride reads of each channel's slice, and
// the tile's sums live on the stack.
#include "common/pixel_norm.h"

#include <algorithm>
#include <cmath>

#include "ganengine/kernels/pixel_norm.h"

namespace ge::kernels::cpu {
namespace {

constexpr int64_t kTile = 64;

template <bool Backward>
void run(const float* x, const float* dy, float* out, const PixelNormShape& s, float eps) {
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t i0 = 0; i0 < s.inner; i0 += kTile) {
      const int64_t width = std::min(kTile, s.inner - i0);
      const int64_t base = o * s.r * s.inner + i0;
      double sq[kTile] = {}, dyx[kTile] = {};
      for (int64_t j = 0; j < s.r; ++j) {
        const int64_t at = base + j * s.inner;
        for (int64_t i = 0; i < width; ++i) {
          sq[i] += static_cast<double>(x[at + i]) * x[at + i];
          if constexpr (Backward) dyx[i] += static_cast<double>(dy[at + i]) * x[at + i];
        }
      }
      float rs[kTile], mean_dyx[kTile];
      for (int64_t i = 0; i < width; ++i) {
        rs[i] = static_cast<float>(1.0 / std::sqrt(sq[i] / static_cast<double>(s.r) + eps));
        mean_dyx[i] = static_cast<float>(dyx[i] / static_cast<double>(s.r));
      }
      for (int64_t j = 0; j < s.r; ++j) {
        const int64_t at = base + j * s.inner;
        for (int64_t i = 0; i < width; ++i)
          out[at + i] = pixel_norm_apply<Backward>(x[at + i], Backward ? dy[at + i] : 0.f, rs[i],
                                                   mean_dyx[i]);
      }
    }
  }
}

}  // namespace

void pixel_norm_forward(const float* x, float* y, const PixelNormShape& s, float eps) {
  pixel_norm_check("pixel_norm_forward", s, eps, x, nullptr, y, false);
  if (s.numel() == 0) return;
  run<false>(x, nullptr, y, s, eps);
}

void pixel_norm_backward(const float* dy, const float* x, float* dx, const PixelNormShape& s,
                         float eps) {
  pixel_norm_check("pixel_norm_backward", s, eps, x, dy, dx, true);
  if (s.numel() == 0) return;
  run<true>(x, dy, dx, s, eps);
}

}  // namespace ge::kernels::cpu
