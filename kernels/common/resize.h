#pragma once
// resize's per-axis arithmetic, shared by the CPU loops and the CUDA table kernels, written as
// ATen 1.13 computes it (UpSample.h's area_pixel_compute_scale / _source_index, the bicubic
// coefficients, and UpSampleKernel.cpp's _compute_weights_aa with HelperInterpCubic::aa_filter),
// down to where it rounds to float and where it works in double, so that taps and weights follow
// F.interpolate's float32 path.
//
// Tables, per axis (k-major so that a warp reading one tap of consecutive outputs is coalesced):
//   taps:    first[o], count[o], weight[k * out + o]; output o reads input clamp(first + k).
//   readers: first[i], count[i], weight[r * in + i]; input i is read by outputs first + r, with
//            the sum of the weights of every tap of that output that lands on i (border taps
//            clamp several onto one input).
// The windows [clamp(first), clamp(first + count - 1)] are monotone in o, so the outputs that
// read input i form one run, found by binary search when the table is built.
#include <cmath>
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/resize.h"

namespace ge::kernels {

struct ResizeAxis {
  int32_t in = 0;
  int32_t out = 0;
  float scale = 0.f;     // area_pixel_compute_scale<float>
  float support = 0.f;   // antialias: half the window, in input pixels
  float invscale = 1.f;  // antialias: the filter's stretch, 1 / scale when downscaling
  int32_t taps = 4;      // the most taps one output reads
  int32_t readers = 0;   // the most outputs that read one input
  bool align_corners = false;
  bool antialias = false;
};

struct TapSpan {
  int32_t first;  // may lie outside [0, in) without antialias (its taps are clamped)
  int32_t count;
};

GE_HOST_DEVICE int32_t clamp_index(int32_t i, int32_t n) {
  return i < 0 ? 0 : (i > n - 1 ? n - 1 : i);
}

// Keys' cubic convolution kernel on |x| < 1 and 1 <= |x| < 2.
GE_HOST_DEVICE float cubic_near(float x, float a) {
  return ((a + 2.f) * x - (a + 3.f)) * x * x + 1.f;
}
GE_HOST_DEVICE float cubic_far(float x, float a) {
  return ((a * x - 5.f * a) * x + 8.f * a) * x - 4.f * a;
}

GE_HOST_DEVICE double keys_near(double x, double a) {
  return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
}
GE_HOST_DEVICE double keys_far(double x, double a) {
  return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
}

// PIL's bicubic filter (a = -0.5).
GE_HOST_DEVICE float antialias_filter(float x) {
  x = fabsf(x);
  if (x < 1.f) return cubic_near(x, -0.5f);
  if (x < 2.f) return cubic_far(x, -0.5f);
  return 0.f;
}

// The source coordinate of output o (antialias false), whose floor places the taps.
GE_HOST_DEVICE float cubic_source(int32_t o, const ResizeAxis& a) {
  return a.align_corners ? a.scale * static_cast<float>(o)
                         : a.scale * (static_cast<float>(o) + 0.5f) - 0.5f;
}

GE_HOST_DEVICE float antialias_center(int32_t o, const ResizeAxis& a) {
  return a.scale * (static_cast<float>(o) + 0.5f);
}

GE_HOST_DEVICE TapSpan tap_span(int32_t o, const ResizeAxis& a) {
  if (!a.antialias) {
    const int32_t i0 = static_cast<int32_t>(floorf(cubic_source(o, a)));
    return {(i0 < a.in - 1 ? i0 : a.in - 1) - 1, 4};
  }
  // ATen adds 0.5 in double and truncates toward zero.
  const float c = antialias_center(o, a);
  const int32_t lo = static_cast<int32_t>(static_cast<double>(c - a.support) + 0.5);
  const int32_t hi = static_cast<int32_t>(static_cast<double>(c + a.support) + 0.5);
  const int32_t first = lo > 0 ? lo : 0;
  return {first, (hi < a.in ? hi : a.in) - first};
}

// Output o's span and weights, weight[k * out + o] for k < taps (zero past the span).
GE_HOST_DEVICE void build_taps(int32_t o, const ResizeAxis& a, int32_t* first, int32_t* count,
                               float* weight) {
  const TapSpan span = tap_span(o, a);
  first[o] = span.first;
  count[o] = span.count;
  float* w = weight + o;
  const int64_t stride = a.out;
  for (int32_t k = 0; k < a.taps; ++k)
    w[k * stride] = 0.f;
  if (!a.antialias) {
    // The coefficients in double, rounded once: ATen's CPU build evaluates them with fused
    // multiply-adds, which this reproduces to within rounding (a float evaluation differs from
    // PyTorch's by several ulps, and so by more than the golden tolerance).
    const double src = a.align_corners ? static_cast<double>(a.scale) * o
                                       : static_cast<double>(a.scale) * (o + 0.5) - 0.5;
    double t = src - (span.first + 1);
    t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
    w[0] = static_cast<float>(keys_far(t + 1.0, -0.75));
    w[stride] = static_cast<float>(keys_near(t, -0.75));
    w[2 * stride] = static_cast<float>(keys_near(1.0 - t, -0.75));
    w[3 * stride] = static_cast<float>(keys_far(2.0 - t, -0.75));
    return;
  }
  const float c = antialias_center(o, a);
  float total = 0.f;
  for (int32_t k = 0; k < span.count; ++k) {
    // (j + xmin - center + 0.5) * invscale: the difference in float, the rest in double.
    const float d = static_cast<float>(span.first + k) - c;
    const float x = static_cast<float>((static_cast<double>(d) + 0.5) * a.invscale);
    w[k * stride] = antialias_filter(x);
    total += w[k * stride];
  }
  if (total != 0.f) {
    for (int32_t k = 0; k < span.count; ++k)
      w[k * stride] /= total;
  }
}

// The first output whose window reaches past input i (upper: whose window starts past i).
GE_HOST_DEVICE int32_t first_reader(int32_t i, const ResizeAxis& a, bool upper) {
  int32_t lo = 0, hi = a.out;
  while (lo < hi) {
    const int32_t mid = lo + (hi - lo) / 2;
    const TapSpan s = tap_span(mid, a);
    const bool past =
        upper ? clamp_index(s.first, a.in) > i : clamp_index(s.first + s.count - 1, a.in) >= i;
    if (past) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

GE_HOST_DEVICE TapSpan reader_span(int32_t i, const ResizeAxis& a) {
  const int32_t lo = first_reader(i, a, false);
  return {lo, first_reader(i, a, true) - lo};
}

// Input i's readers from the taps table: the weights of output o's taps that land on i, summed
// in tap order (only the border inputs collect more than one).
GE_HOST_DEVICE void build_readers(int32_t i, const ResizeAxis& a, const int32_t* tap_first,
                                  const int32_t* tap_count, const float* tap_weight, int32_t* first,
                                  int32_t* count, float* weight) {
  const TapSpan span = reader_span(i, a);
  first[i] = span.first;
  count[i] = span.count;
  const int64_t stride = a.in;
  for (int32_t r = 0; r < a.readers; ++r) {
    float w = 0.f;
    if (r < span.count) {
      const int32_t o = span.first + r;
      const int32_t f = tap_first[o], n = tap_count[o];
      int32_t k_lo = i == 0 ? 0 : i - f;
      int32_t k_hi = i == a.in - 1 ? n - 1 : i - f;
      k_lo = k_lo < 0 ? 0 : k_lo;
      k_hi = k_hi > n - 1 ? n - 1 : k_hi;
      for (int32_t k = k_lo; k <= k_hi; ++k)
        w += tap_weight[static_cast<int64_t>(k) * a.out + o];
    }
    weight[r * stride + i] = w;
  }
}

// The host-side constants of one axis; taps and readers size the tables.
inline ResizeAxis resize_axis(int64_t in, int64_t out, bool align_corners, bool antialias) {
  ResizeAxis a;
  a.in = static_cast<int32_t>(in);
  a.out = static_cast<int32_t>(out);
  a.align_corners = align_corners;
  a.antialias = antialias;
  if (align_corners) {
    a.scale = out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.f;
  } else {
    a.scale = static_cast<float>(in) / static_cast<float>(out);
  }
  if (antialias) {
    const bool down = a.scale >= 1.f;
    a.support = static_cast<float>(down ? 2.0 * a.scale : 2.0);
    a.invscale = static_cast<float>(down ? 1.0 / a.scale : 1.0);
    a.taps = static_cast<int32_t>(ceilf(a.support)) * 2 + 1;
  }
  for (int32_t i = 0; i < a.in; ++i) {
    const int32_t n = reader_span(i, a).count;
    a.readers = n > a.readers ? n : a.readers;
  }
  return a;
}

// Offsets (in floats) of one axis's tables inside a workspace; int32 entries share the floats'
// 4-byte slots.
struct AxisTableLayout {
  int64_t tap_first, tap_count, tap_weight, reader_first, reader_count, reader_weight, end;
};

inline AxisTableLayout axis_table_layout(const ResizeAxis& a, int64_t at) {
  AxisTableLayout l;
  l.tap_first = at;
  l.tap_count = l.tap_first + a.out;
  l.tap_weight = l.tap_count + a.out;
  l.reader_first = l.tap_weight + static_cast<int64_t>(a.taps) * a.out;
  l.reader_count = l.reader_first + a.in;
  l.reader_weight = l.reader_count + a.in;
  l.end = l.reader_weight + static_cast<int64_t>(a.readers) * a.in;
  return l;
}

// One pass's view of a table: out entries, each a run of count[e] source indices from first[e]
// (clamped into [0, src)) with weights weight[k * out + e].
struct PassTable {
  const int32_t* first;
  const int32_t* count;
  const float* weight;
  int32_t out;
  int32_t src;
};

inline PassTable taps_of(const float* base, const AxisTableLayout& l, const ResizeAxis& a) {
  return {reinterpret_cast<const int32_t*>(base + l.tap_first),
          reinterpret_cast<const int32_t*>(base + l.tap_count), base + l.tap_weight, a.out, a.in};
}

inline PassTable readers_of(const float* base, const AxisTableLayout& l, const ResizeAxis& a) {
  return {reinterpret_cast<const int32_t*>(base + l.reader_first),
          reinterpret_cast<const int32_t*>(base + l.reader_count), base + l.reader_weight, a.in,
          a.out};
}

// One entry of a pass: sum_k weight[k][e] * src[clamp(first[e] + k) * step], in tap order.
GE_HOST_DEVICE float pass_entry(const PassTable& t, int32_t e, const float* src, int64_t step) {
  const int32_t f = t.first[e], n = t.count[e];
  float acc = 0.f;
  for (int32_t k = 0; k < n; ++k)
    acc += t.weight[static_cast<int64_t>(k) * t.out + e] * src[clamp_index(f + k, t.src) * step];
  return acc;
}

inline void resize_check_sizes(const char* fn, const ResizeShape& s) {
  GE_CHECK(s.planes >= 0, fn, ": expected a non-negative plane count, got ", s.planes);
  GE_CHECK(s.in_h >= 1 && s.in_w >= 1 && s.out_h >= 1 && s.out_w >= 1, fn,
           ": expected sizes >= 1, got ", s.in_h, "x", s.in_w, " -> ", s.out_h, "x", s.out_w);
  GE_CHECK(
      s.in_h <= INT32_MAX && s.in_w <= INT32_MAX && s.out_h <= INT32_MAX && s.out_w <= INT32_MAX,
      fn, ": expected sides below 2^31, got ", s.in_h, "x", s.in_w, " -> ", s.out_h, "x", s.out_w);
}

inline void resize_check(const char* fn, const ResizeShape& s, const float* in, const float* out) {
  resize_check_sizes(fn, s);
  if (s.planes == 0) return;
  GE_CHECK(in != nullptr && out != nullptr, fn, ": expected non-null input and output for ",
           s.planes, " planes");
}

}  // namespace ge::kernels
