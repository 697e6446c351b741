// CPU resize: the per-axis tables built on the host, then the two passes as row loops. Every
// element is a gather in tap order, so the threads split rows without changing any sum.
#include "common/resize.h"

#include <vector>

#include "cpu/parallel.h"
#include "ganengine/kernels/resize.h"

namespace ge::kernels::cpu {
namespace {

struct Tables {
  ResizeAxis h, w;
  AxisTableLayout lh, lw;
  std::vector<float> data;
};

void fill(const ResizeAxis& a, const AxisTableLayout& l, float* base) {
  auto* tap_first = reinterpret_cast<int32_t*>(base + l.tap_first);
  auto* tap_count = reinterpret_cast<int32_t*>(base + l.tap_count);
  for (int32_t o = 0; o < a.out; ++o)
    build_taps(o, a, tap_first, tap_count, base + l.tap_weight);
  for (int32_t i = 0; i < a.in; ++i)
    build_readers(i, a, tap_first, tap_count, base + l.tap_weight,
                  reinterpret_cast<int32_t*>(base + l.reader_first),
                  reinterpret_cast<int32_t*>(base + l.reader_count), base + l.reader_weight);
}

Tables tables_for(const ResizeShape& s) {
  Tables t;
  t.h = resize_axis(s.in_h, s.out_h, s.align_corners, s.antialias);
  t.w = resize_axis(s.in_w, s.out_w, s.align_corners, s.antialias);
  t.lh = axis_table_layout(t.h, 0);
  t.lw = axis_table_layout(t.w, t.lh.end);
  t.data.resize(static_cast<size_t>(t.lw.end));
  fill(t.h, t.lh, t.data.data());
  fill(t.w, t.lw, t.data.data());
  return t;
}

// dst[r][e] = entry e of t over src row r (rows of t.src floats).
void along_w(const PassTable& t, const float* src, float* dst, int64_t rows) {
  parallel_for(rows, rows * t.out >= kParallelGrain, [&](int64_t r) {
    const float* in = src + r * t.src;
    float* out = dst + r * t.out;
    for (int32_t e = 0; e < t.out; ++e)
      out[e] = pass_entry(t, e, in, 1);
  });
}

// dst[p][e][j] = entry e of t over the column j of plane p (planes of t.src rows of `width`);
// taps outermost so that the row loop vectorises, with each element's sum still in tap order.
void along_h(const PassTable& t, const float* src, float* dst, int64_t planes, int64_t width) {
  parallel_for(planes * t.out, planes * t.out * width >= kParallelGrain, [&](int64_t row) {
    const int64_t p = row / t.out;
    const int32_t e = static_cast<int32_t>(row - p * t.out);
    const float* in = src + p * t.src * width;
    float* out = dst + row * width;
    for (int64_t j = 0; j < width; ++j)
      out[j] = 0.f;
    for (int32_t k = 0; k < t.count[e]; ++k) {
      const float wk = t.weight[static_cast<int64_t>(k) * t.out + e];
      const float* r = in + clamp_index(t.first[e] + k, t.src) * width;
      for (int64_t j = 0; j < width; ++j)
        out[j] += wk * r[j];
    }
  });
}

}  // namespace

void resize_bicubic2d(const float* x, float* y, const ResizeShape& s) {
  resize_check("resize_bicubic2d", s, x, y);
  if (s.planes == 0) return;
  const Tables t = tables_for(s);
  std::vector<float> mid(static_cast<size_t>(s.mid_numel()));
  along_w(taps_of(t.data.data(), t.lw, t.w), x, mid.data(), s.planes * s.in_h);
  along_h(taps_of(t.data.data(), t.lh, t.h), mid.data(), y, s.planes, s.out_w);
}

void resize_bicubic2d_backward(const float* dy, float* dx, const ResizeShape& s) {
  resize_check("resize_bicubic2d_backward", s, dy, dx);
  if (s.planes == 0) return;
  const Tables t = tables_for(s);
  std::vector<float> mid(static_cast<size_t>(s.mid_numel()));
  along_h(readers_of(t.data.data(), t.lh, t.h), dy, mid.data(), s.planes, s.out_w);
  along_w(readers_of(t.data.data(), t.lw, t.w), mid.data(), dx, s.planes * s.in_h);
}

}  // namespace ge::kernels::cpu
