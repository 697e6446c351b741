// CPU upsample: row loops over the output (each output row reads one or two input rows) for
// the forwards and, as scatters in the same order, for the backwards.
#include "common/upsample.h"

#include <algorithm>

#include "ganengine/kernels/upsample.h"

namespace ge::kernels::cpu {

void upsample_nearest2d(const float* x, float* y, const UpsampleShape& s) {
  upsample_check("upsample_nearest2d", s, x, y);
  if (s.in_numel() == 0) return;
  const UpsampleAxis ah = nearest_axis(s.in_h, s.scale), aw = nearest_axis(s.in_w, s.scale);
  for (int64_t p = 0; p < s.planes; ++p) {
    const float* xp = x + p * s.in_h * s.in_w;
    float* yp = y + p * ah.out * aw.out;
    for (int64_t oh = 0; oh < ah.out; ++oh) {
      const float* row = xp + nearest_source(oh, ah) * s.in_w;
      float* out = yp + oh * aw.out;
      for (int64_t ow = 0; ow < aw.out; ++ow)
        out[ow] = row[nearest_source(ow, aw)];
    }
  }
}

// The backwards scatter: one thread walks the outputs in order, so the sums are still in a
// fixed order, and each output costs one (nearest) or four (bilinear) additions.
void upsample_nearest2d_backward(const float* dy, float* dx, const UpsampleShape& s) {
  upsample_check("upsample_nearest2d_backward", s, dy, dx);
  if (s.in_numel() == 0) return;
  const UpsampleAxis ah = nearest_axis(s.in_h, s.scale), aw = nearest_axis(s.in_w, s.scale);
  std::fill(dx, dx + s.in_numel(), 0.f);
  for (int64_t p = 0; p < s.planes; ++p) {
    const float* gp = dy + p * ah.out * aw.out;
    float* dp = dx + p * s.in_h * s.in_w;
    for (int64_t oh = 0; oh < ah.out; ++oh) {
      float* row = dp + nearest_source(oh, ah) * s.in_w;
      const float* g = gp + oh * aw.out;
      for (int64_t ow = 0; ow < aw.out; ++ow)
        row[nearest_source(ow, aw)] += g[ow];
    }
  }
}

void upsample_bilinear2d(const float* x, float* y, const UpsampleShape& s, bool align_corners) {
  upsample_check("upsample_bilinear2d", s, x, y);
  if (s.in_numel() == 0) return;
  const UpsampleAxis ah = bilinear_axis(s.in_h, s.scale, align_corners),
                     aw = bilinear_axis(s.in_w, s.scale, align_corners);
  for (int64_t p = 0; p < s.planes; ++p) {
    const float* xp = x + p * s.in_h * s.in_w;
    float* yp = y + p * ah.out * aw.out;
    for (int64_t oh = 0; oh < ah.out; ++oh) {
      const LinearTaps th = linear_taps(oh, ah);
      const float* r0 = xp + th.i0 * s.in_w;
      const float* r1 = xp + th.i1 * s.in_w;
      for (int64_t ow = 0; ow < aw.out; ++ow) {
        const LinearTaps tw = linear_taps(ow, aw);
        yp[oh * aw.out + ow] = th.l0 * (tw.l0 * r0[tw.i0] + tw.l1 * r0[tw.i1]) +
                               th.l1 * (tw.l0 * r1[tw.i0] + tw.l1 * r1[tw.i1]);
      }
    }
  }
}

void upsample_bilinear2d_backward(const float* dy, float* dx, const UpsampleShape& s,
                                  bool align_corners) {
  upsample_check("upsample_bilinear2d_backward", s, dy, dx);
  if (s.in_numel() == 0) return;
  const UpsampleAxis ah = bilinear_axis(s.in_h, s.scale, align_corners),
                     aw = bilinear_axis(s.in_w, s.scale, align_corners);
  std::fill(dx, dx + s.in_numel(), 0.f);
  for (int64_t p = 0; p < s.planes; ++p) {
    const float* gp = dy + p * ah.out * aw.out;
    float* dp = dx + p * s.in_h * s.in_w;
    for (int64_t oh = 0; oh < ah.out; ++oh) {
      const LinearTaps th = linear_taps(oh, ah);
      float* r0 = dp + th.i0 * s.in_w;
      float* r1 = dp + th.i1 * s.in_w;
      const float* g = gp + oh * aw.out;
      for (int64_t ow = 0; ow < aw.out; ++ow) {
        const LinearTaps tw = linear_taps(ow, aw);
        const float top = th.l0 * g[ow], bottom = th.l1 * g[ow];
        r0[tw.i0] += tw.l0 * top;
        r0[tw.i1] += tw.l1 * top;
        r1[tw.i0] += tw.l0 * bottom;
        r1[tw.i1] += tw.l1 * bottom;
      }
    }
  }
}

}  // namespace ge::kernels::cpu
