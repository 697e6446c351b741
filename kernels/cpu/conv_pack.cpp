// The portable half of cpu/conv_pack.h: the packers' range checks and the phases' geometry and
// weights.
#include "cpu/conv_pack.h"

#include <algorithm>
#include <climits>

namespace ge::kernels::cpu {
namespace {

// Floor division for a positive divisor.
int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

}  // namespace

bool conv_pack_fits(const ConvShape& s, int64_t count) {
  // The largest offset: the chunk's last sample, channel and pixel, plus a tap past the corner.
  const int64_t reach = (count * s.in_c + 1) * s.in_h * s.in_w + (s.kh + s.stride_h) * s.in_w +
                        s.kw + s.stride_w + s.pad_h * s.in_w + s.pad_w;
  return reach < INT_MAX && s.in_h + s.kh + s.stride_h < INT_MAX &&
         s.in_w + s.kw + s.stride_w < INT_MAX;
}

bool conv_phase_fits(const ConvShape& s, int64_t count) {
  // Lanes reach one sample past the chunk, steps one kernel's extent before a row.
  const int64_t reach = (count + 1) * s.out_c * s.out_h * s.out_w + (s.kh + 1) * s.out_w + s.kw +
                        (s.in_h + s.pad_h) * s.out_w + s.in_w + s.pad_w;
  return reach < INT_MAX && s.in_h + s.pad_h + s.kh < INT_MAX && s.in_w + s.pad_w + s.kw < INT_MAX;
}

PhaseAxis phase_axis(int64_t size, int64_t kernel, int64_t stride, int64_t pad, int64_t r) {
  PhaseAxis a;
  a.r = r;
  a.taps = r < kernel ? (kernel - r + stride - 1) / stride : 0;
  // 0 <= r - pad + m * stride < size.
  a.m_lo = floor_div(pad - r + stride - 1, stride);
  const int64_t m_hi = floor_div(size - 1 - r + pad, stride);
  a.count = std::max<int64_t>(0, m_hi - a.m_lo + 1);
  return a;
}

int64_t conv_phase_weights_floats(const ConvShape& s) {
  return s.in_c * (s.out_c / s.groups) * s.kh * s.kw;
}

int64_t conv_phase_weights_offset(const ConvShape& s, int64_t ry, int64_t rx) {
  int64_t offset = 0;
  for (int64_t r = 0; r < s.stride_h; ++r) {
    for (int64_t c = 0; c < s.stride_w; ++c) {
      if (r == ry && c == rx) return offset;
      const int64_t taps_y = phase_axis(s.in_h, s.kh, s.stride_h, s.pad_h, r).taps;
      const int64_t taps_x = phase_axis(s.in_w, s.kw, s.stride_w, s.pad_w, c).taps;
      offset += s.in_c * (s.out_c / s.groups) * taps_y * taps_x;
    }
  }
  return offset;
}

void conv_pack_phase_weights(const ConvShape& s, const float* w, float* out) {
  const int64_t cin_g = s.in_c / s.groups, cout_g = s.out_c / s.groups, taps = s.kh * s.kw;
  for (int64_t ry = 0; ry < s.stride_h; ++ry) {
    for (int64_t rx = 0; rx < s.stride_w; ++rx) {
      const PhaseAxis ay = phase_axis(s.in_h, s.kh, s.stride_h, s.pad_h, ry);
      const PhaseAxis ax = phase_axis(s.in_w, s.kw, s.stride_w, s.pad_w, rx);
      for (int64_t g = 0; g < s.groups; ++g) {
        for (int64_t c = 0; c < cin_g; ++c) {
          for (int64_t o = 0; o < cout_g; ++o) {
            const float* src = w + ((g * cout_g + o) * cin_g + c) * taps;
            for (int64_t t = 0; t < ay.taps; ++t)
              for (int64_t u = 0; u < ax.taps; ++u)
                *out++ = src[(ry + t * s.stride_h) * s.kw + rx + u * s.stride_w];
          }
        }
      }
    }
  }
}

}  // namespace ge::kernels::cpu
