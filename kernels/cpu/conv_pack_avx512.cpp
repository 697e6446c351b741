// The AVX-512 packers of cpu/conv_pack.h. A panel holds 48 columns of B, three vectors of 16
// lanes; each step of the panel gathers its three vectors from the image with the lanes' 32-bit
// offsets (a masked load where a vector's offsets are consecutive), the lanes whose tap falls in
// the padding (or past the block's last column) masked to zero. The offset and the padding test of
// a lane are sums of a per-lane part, set once per panel, and a per-step part, updated
// incrementally: no division in the step loop.
#include <immintrin.h>

#include "cpu/conv_pack.h"

#define GE_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))

namespace ge::kernels::cpu {
namespace {

constexpr int kLanes = 16, kVecs = kConvPackWidth / kLanes;

// What every lane adds to its offset, row and column to read the image.
struct Lanes {
  alignas(64) int32_t offset[kConvPackWidth];  // into the chunk's group image
  alignas(64) int32_t row[kConvPackWidth];     // image row, before the step's part
  alignas(64) int32_t col[kConvPackWidth];     // image column, before the step's part
  // Vector v's offsets are consecutive: one masked load reads it (the common case of stride-1
  // rows, and of a transposed convolution's phases), not a gather.
  bool consecutive[kVecs];
  void find_consecutive() {
    for (int v = 0; v < kVecs; ++v) {
      consecutive[v] = true;
      for (int i = 1; i < kLanes; ++i)
        consecutive[v] = consecutive[v] && offset[kLanes * v + i] == offset[kLanes * v] + i;
    }
  }
};

// One step: vector v of the panel from the lanes plus the step's offset, row and column.
GE_TARGET_AVX512 inline void gather_step(const Lanes& lanes, const __mmask16* live,
                                         const float* image, int32_t offset, int32_t row,
                                         int32_t col, int32_t height, int32_t width, float* out) {
  const __m512i h = _mm512_set1_epi32(height), w = _mm512_set1_epi32(width);
#pragma GCC unroll 3
  for (int v = 0; v < kVecs; ++v) {
    const __m512i y =
        _mm512_add_epi32(_mm512_load_si512(lanes.row + kLanes * v), _mm512_set1_epi32(row));
    const __m512i x =
        _mm512_add_epi32(_mm512_load_si512(lanes.col + kLanes * v), _mm512_set1_epi32(col));
    // Unsigned: a negative row or column is as far outside as one past the end.
    const __mmask16 inside =
        _mm512_mask_cmplt_epu32_mask(_mm512_cmplt_epu32_mask(y, h), x, w) & live[v];
    if (lanes.consecutive[v]) {
      // Masked-off lanes do not fault, so the padding around the image is never touched.
      _mm512_store_ps(out + kLanes * v,
                      _mm512_maskz_loadu_ps(inside, image + lanes.offset[kLanes * v] + offset));
      continue;
    }
    const __m512i at =
        _mm512_add_epi32(_mm512_load_si512(lanes.offset + kLanes * v), _mm512_set1_epi32(offset));
    _mm512_store_ps(out + kLanes * v,
                    _mm512_mask_i32gather_ps(_mm512_setzero_ps(), inside, at, image, 4));
  }
}

// The lanes of a block's columns [j, j + cols) that exist.
void live_lanes(int64_t cols, __mmask16* live) {
  for (int v = 0; v < kVecs; ++v) {
    const int64_t left = cols - kLanes * v;
    live[v] = left >= kLanes ? __mmask16(0xFFFF) : left <= 0 ? 0 : __mmask16((1u << left) - 1);
  }
}

const float* group_image(const ConvColumns& c) {
  const ConvShape& s = *c.shape;
  return c.x + (c.n0 * s.in_c + c.g * (s.in_c / s.groups)) * s.in_h * s.in_w;
}

// col[p][j]: lanes over the positions j, steps over the taps p = (c, ki, kj).
GE_TARGET_AVX512 void pack_columns(const void* source, int64_t j0, int64_t nc, int64_t p0,
                                   int64_t kc, float* out) {
  const ConvColumns& c = *static_cast<const ConvColumns*>(source);
  const ConvShape& s = *c.shape;
  const float* image = group_image(c);
  const int64_t plane = s.in_h * s.in_w, l_count = s.out_h * s.out_w;
  for (int64_t jr = 0; jr < nc; jr += kConvPackWidth, out += kc * kConvPackWidth) {
    Lanes lanes;
    // Lane i is column j0 + jr + i, position (sample, oy, ox); lanes past the last column (which
    // are masked) go on into the next sample.
    const int64_t first = j0 + jr;
    int64_t sample = first / l_count, oy = first % l_count / s.out_w, ox = first % s.out_w;
    for (int i = 0; i < kConvPackWidth; ++i) {
      const int64_t y = oy * s.stride_h - s.pad_h, x = ox * s.stride_w - s.pad_w;
      lanes.offset[i] = static_cast<int32_t>(sample * s.in_c * plane + y * s.in_w + x);
      lanes.row[i] = static_cast<int32_t>(y);
      lanes.col[i] = static_cast<int32_t>(x);
      if (++ox == s.out_w) {
        ox = 0;
        if (++oy == s.out_h) oy = 0, ++sample;
      }
    }
    lanes.find_consecutive();
    __mmask16 live[kVecs];
    live_lanes(nc - jr, live);
    int64_t ch = p0 / (s.kh * s.kw), ki = p0 / s.kw % s.kh, kj = p0 % s.kw;
    for (int64_t p = 0; p < kc; ++p) {
      gather_step(lanes, live, image, static_cast<int32_t>(ch * plane + ki * s.in_w + kj),
                  static_cast<int32_t>(ki), static_cast<int32_t>(kj), static_cast<int32_t>(s.in_h),
                  static_cast<int32_t>(s.in_w), out + p * kConvPackWidth);
      if (++kj == s.kw) {
        kj = 0;
        if (++ki == s.kh) ki = 0, ++ch;
      }
    }
  }
}

// col^T[p][j] = col[j][p]: lanes over the taps j = (c, ki, kj), steps over the positions p.
GE_TARGET_AVX512 void pack_columns_transposed(const void* source, int64_t j0, int64_t nc,
                                              int64_t p0, int64_t kc, float* out) {
  const ConvColumns& c = *static_cast<const ConvColumns*>(source);
  const ConvShape& s = *c.shape;
  const float* image = group_image(c);
  const int64_t plane = s.in_h * s.in_w, taps = s.kh * s.kw;
  const int64_t l_count = s.out_h * s.out_w;
  for (int64_t jr = 0; jr < nc; jr += kConvPackWidth, out += kc * kConvPackWidth) {
    Lanes lanes;
    // Lane i is tap j0 + jr + i, (ch, ki, kj); lanes past the last tap (masked) go on.
    const int64_t first = j0 + jr;
    int64_t ch = first / taps, ki = first / s.kw % s.kh, kj = first % s.kw;
    for (int i = 0; i < kConvPackWidth; ++i) {
      lanes.offset[i] = static_cast<int32_t>(ch * plane + ki * s.in_w + kj);
      lanes.row[i] = static_cast<int32_t>(ki);
      lanes.col[i] = static_cast<int32_t>(kj);
      if (++kj == s.kw) {
        kj = 0;
        if (++ki == s.kh) ki = 0, ++ch;
      }
    }
    lanes.find_consecutive();
    __mmask16 live[kVecs];
    live_lanes(nc - jr, live);
    int64_t sample = p0 / l_count, oy = p0 % l_count / s.out_w, ox = p0 % s.out_w;
    for (int64_t p = 0; p < kc; ++p) {
      const int64_t y = oy * s.stride_h - s.pad_h, x = ox * s.stride_w - s.pad_w;
      gather_step(lanes, live, image,
                  static_cast<int32_t>(sample * s.in_c * plane + y * s.in_w + x),
                  static_cast<int32_t>(y), static_cast<int32_t>(x), static_cast<int32_t>(s.in_h),
                  static_cast<int32_t>(s.in_w), out + p * kConvPackWidth);
      if (++ox == s.out_w) {
        ox = 0;
        if (++oy == s.out_h) oy = 0, ++sample;
      }
    }
  }
}

// A phase's B: lanes over the phase's positions (sample, m_y, m_x), steps over (o, t, u); the
// output row read is m_y - t, its column m_x - u.
GE_TARGET_AVX512 void pack_phase(const void* source, int64_t j0, int64_t nc, int64_t p0, int64_t kc,
                                 float* out) {
  const PhaseColumns& c = *static_cast<const PhaseColumns*>(source);
  const ConvShape& s = *c.shape;
  const int64_t l_count = s.out_h * s.out_w, cout_g = s.out_c / s.groups;
  const float* image = c.y + (c.n0 * s.out_c + c.g * cout_g) * l_count;
  const int64_t per_sample = c.rows.count * c.cols.count, tap_count = c.rows.taps * c.cols.taps;
  for (int64_t jr = 0; jr < nc; jr += kConvPackWidth, out += kc * kConvPackWidth) {
    Lanes lanes;
    const int64_t first = j0 + jr;
    int64_t sample = first / per_sample, my = first % per_sample / c.cols.count,
            mx = first % c.cols.count;
    for (int i = 0; i < kConvPackWidth; ++i) {
      const int64_t qy = c.rows.m_lo + my, qx = c.cols.m_lo + mx;
      lanes.offset[i] = static_cast<int32_t>(sample * s.out_c * l_count + qy * s.out_w + qx);
      lanes.row[i] = static_cast<int32_t>(qy);
      lanes.col[i] = static_cast<int32_t>(qx);
      if (++mx == c.cols.count) {
        mx = 0;
        if (++my == c.rows.count) my = 0, ++sample;
      }
    }
    lanes.find_consecutive();
    __mmask16 live[kVecs];
    live_lanes(nc - jr, live);
    int64_t o = p0 / tap_count, t = p0 / c.cols.taps % c.rows.taps, u = p0 % c.cols.taps;
    for (int64_t p = 0; p < kc; ++p) {
      gather_step(lanes, live, image, static_cast<int32_t>(o * l_count - t * s.out_w - u),
                  static_cast<int32_t>(-t), static_cast<int32_t>(-u), static_cast<int32_t>(s.out_h),
                  static_cast<int32_t>(s.out_w), out + p * kConvPackWidth);
      if (++u == c.cols.taps) {
        u = 0;
        if (++t == c.rows.taps) t = 0, ++o;
      }
    }
  }
}

}  // namespace

GemmPackB conv_pack_phase_avx512(const PhaseColumns& columns) {
  return {pack_phase, &columns};
}

GemmPackB conv_pack_columns_avx512(const ConvColumns& columns) {
  return {pack_columns, &columns};
}

GemmPackB conv_pack_columns_transposed_avx512(const ConvColumns& columns) {
  return {pack_columns_transposed, &columns};
}

}  // namespace ge::kernels::cpu
