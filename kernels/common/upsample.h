#pragma once
// upsample's index arithmetic, shared by the CPU loops and the CUDA kernels, written as PyTorch
// computes it (in float, from the same constants), so that taps and weights follow F.interpolate.
//
// Backward windows: both mappings are monotone in the output index, so the outputs that read
// input index i form a short run. For nearest it lies in [i * s - 1, (i + 1) * s + 1); for
// bilinear, with src ~ a * dst + b, the outputs whose taps (i0 or i0 + 1) reach i satisfy
// src in (i - 1, i + 1], i.e. dst in [(i - 1 - b) / a, (i + 1 - b) / a], widened by a couple of
// indices for rounding. Each candidate is then tested with the forward's own arithmetic, so the
// gather sums exactly the forward's weights.
#include <cmath>
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/upsample.h"

namespace ge::kernels {

// The per-axis constants of one call, computed on the host (in double, then rounded to float
// as PyTorch does).
struct UpsampleAxis {
  int64_t in = 0;
  int64_t out = 0;
  float scale = 0.f;   // src per dst: 1/s, or (in - 1) / (out - 1) with align_corners
  float inv = 0.f;     // dst per src (for windows): s, or (out - 1) / (in - 1); 0: every dst
  float offset = 0.f;  // b in src ~ scale * dst + b (before the clamp at 0)
  bool align_corners = false;
};

inline UpsampleAxis nearest_axis(int64_t in, int64_t scale) {
  UpsampleAxis a;
  a.in = in;
  a.out = in * scale;
  a.scale = static_cast<float>(1.0 / static_cast<double>(scale));
  a.inv = static_cast<float>(scale);
  return a;
}

inline UpsampleAxis bilinear_axis(int64_t in, int64_t scale, bool align_corners) {
  UpsampleAxis a;
  a.in = in;
  a.out = in * scale;
  a.align_corners = align_corners;
  if (align_corners) {
    a.scale = a.out > 1 ? static_cast<float>(in - 1) / static_cast<float>(a.out - 1) : 0.f;
    a.inv = in > 1 ? static_cast<float>(static_cast<double>(a.out - 1) / (in - 1)) : 0.f;
  } else {
    a.scale = static_cast<float>(1.0 / static_cast<double>(scale));
    a.inv = static_cast<float>(scale);
    a.offset = 0.5f * a.scale - 0.5f;
  }
  return a;
}

GE_HOST_DEVICE int64_t nearest_source(int64_t dst, const UpsampleAxis& a) {
  const int64_t src = static_cast<int64_t>(floorf(static_cast<float>(dst) * a.scale));
  return src < a.in - 1 ? src : a.in - 1;
}

struct LinearTaps {
  int64_t i0, i1;
  float l0, l1;
};

GE_HOST_DEVICE LinearTaps linear_taps(int64_t dst, const UpsampleAxis& a) {
  float src;
  if (a.align_corners) {
    src = a.scale * static_cast<float>(dst);
  } else {
    src = a.scale * (static_cast<float>(dst) + 0.5f) - 0.5f;
    src = src < 0.f ? 0.f : src;
  }
  int64_t i0 = static_cast<int64_t>(floorf(src));
  i0 = i0 < a.in - 1 ? i0 : a.in - 1;
  float l1 = src - static_cast<float>(i0);
  l1 = l1 < 0.f ? 0.f : (l1 > 1.f ? 1.f : l1);
  return {i0, i0 + (i0 < a.in - 1 ? 1 : 0), 1.f - l1, l1};
}

// The weight with which output dst reads input i along one axis (both taps may be i).
GE_HOST_DEVICE float linear_weight(int64_t dst, int64_t i, const UpsampleAxis& a) {
  const LinearTaps t = linear_taps(dst, a);
  return (t.i0 == i ? t.l0 : 0.f) + (t.i1 == i ? t.l1 : 0.f);
}

struct Window {
  int64_t lo, hi;  // [lo, hi) within [0, out)
};

GE_HOST_DEVICE Window clamp_window(int64_t lo, int64_t hi, int64_t out) {
  return {lo < 0 ? 0 : lo, hi > out ? out : hi};
}

GE_HOST_DEVICE Window nearest_window(int64_t i, const UpsampleAxis& a) {
  const int64_t s = static_cast<int64_t>(a.inv);
  return clamp_window(i * s - 1, (i + 1) * s + 1, a.out);
}

GE_HOST_DEVICE Window linear_window(int64_t i, const UpsampleAxis& a) {
  if (a.inv == 0.f) return {0, a.out};  // a single input: every output reads it
  const float lo = (static_cast<float>(i) - 1.f - a.offset) * a.inv;
  const float hi = (static_cast<float>(i) + 1.f - a.offset) * a.inv;
  return clamp_window(static_cast<int64_t>(floorf(lo)) - 2, static_cast<int64_t>(ceilf(hi)) + 3,
                      a.out);
}

// The outputs along one axis that read input i, in increasing order, with their weights; their
// count, or -1 when there are more than kMax (the caller then walks the window itself).
template <int kMax>
GE_HOST_DEVICE int linear_readers(int64_t i, const UpsampleAxis& a, int* dst, float* weight) {
  const Window w = linear_window(i, a);
  int n = 0;
  for (int64_t o = w.lo; o < w.hi; ++o) {
    const float k = linear_weight(o, i, a);
    if (k == 0.f) continue;
    if (n == kMax) return -1;
    dst[n] = static_cast<int>(o);
    weight[n] = k;
    ++n;
  }
  return n;
}

inline void upsample_check(const char* fn, const UpsampleShape& s, const float* in,
                           const float* out) {
  GE_CHECK(s.planes >= 0 && s.in_h >= 0 && s.in_w >= 0, fn, ": expected non-negative sizes, got [",
           s.planes, ", ", s.in_h, ", ", s.in_w, "]");
  GE_CHECK(s.scale >= 1, fn, ": expected scale >= 1, got ", s.scale);
  GE_CHECK(s.out_h() <= INT32_MAX && s.out_w() <= INT32_MAX, fn,
           ": expected output sides below 2^31, got ", s.out_h(), "x", s.out_w());
  if (s.in_numel() == 0) return;
  GE_CHECK(in != nullptr && out != nullptr, fn, ": expected non-null input and output for ",
           s.in_numel(), " input elements");
}

}  // namespace ge::kernels
