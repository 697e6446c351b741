// CUDA upsample, grid-stride kernels, no atomics:
//   nearest, scale 2 (the GAN generator's case), even widths, aligned buffers: a thread per pair
//   of input pixels, one float2 read and two float4 writes (one per output row); its backward
//   reads two float4 (the 2x2 blocks of both pixels) and writes one float2.
//   nearest, any scale: a thread per output pixel (coalesced writes, cached reads); backward a
//   thread per input pixel summing its s x s block.
//   bilinear: a thread per output pixel blending four taps; backward a thread per input pixel
//   gathering the outputs whose taps read it (found per axis in a short window and weighted
//   with the forward's own arithmetic), so the sum has a fixed order.
// The loops count in I (int below 2^31 elements) and split a flat index into plane, row and
// column by multiply-shift (Grid2d).
#include <cstdint>

#include "common/grid.h"
#include "common/upsample.h"
#include "cuda/channel_of.cuh"
#include "cuda/launch.cuh"
#include "ganengine/kernels/upsample.h"

namespace ge::kernels::cuda {
namespace {

bool aligned(const void* p, uintptr_t bytes) {
  return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

#define GE_GRID_STRIDE(i, count) \
  for (I i = first_index<I>(); i < static_cast<I>(count); i += grid_stride<I>())

// A [planes, rows, cols] grid: flat index e -> (plane, row, column).
template <typename I>
struct Grid2d {
  DivBy<I> by_cols, by_rows;
  I cols, rows;
  Grid2d(int64_t rows_, int64_t cols_)
      : by_cols(cols_), by_rows(rows_), cols(static_cast<I>(cols_)), rows(static_cast<I>(rows_)) {}
  __device__ __forceinline__ void split(I e, I& p, I& r, I& c) const {
    const I rest = by_cols(e);
    c = e - rest * cols;
    p = by_rows(rest);
    r = rest - p * rows;
  }
};

// i indexes pairs of input pixels (in_w even); pairs(i) is i's row, plane * in_h + h.
template <typename I>
__global__ void nearest2x_kernel(const float* x, float* y, UpsampleShape s, DivBy<I> pairs) {
  const int64_t pairs_per_row = s.in_w / 2, ow = 2 * s.in_w;
  GE_GRID_STRIDE(i, s.in_numel() / 2) {
    const int64_t row = pairs(i);
    const int64_t w = 2 * (i - row * pairs_per_row);
    const float2 v = reinterpret_cast<const float2*>(x)[i];
    const float4 out = make_float4(v.x, v.x, v.y, v.y);
    float* top = y + 2 * row * ow + 2 * w;  // output row 2h of the same plane
    *reinterpret_cast<float4*>(top) = out;
    *reinterpret_cast<float4*>(top + ow) = out;
  }
}

template <typename I>
__global__ void nearest2x_backward_kernel(const float* dy, float* dx, UpsampleShape s,
                                          DivBy<I> pairs) {
  const int64_t pairs_per_row = s.in_w / 2, ow = 2 * s.in_w;
  GE_GRID_STRIDE(i, s.in_numel() / 2) {
    const int64_t row = pairs(i);
    const int64_t w = 2 * (i - row * pairs_per_row);
    const float* top = dy + 2 * row * ow + 2 * w;
    const float4 a = *reinterpret_cast<const float4*>(top);
    const float4 b = *reinterpret_cast<const float4*>(top + ow);
    reinterpret_cast<float2*>(dx)[i] =
        make_float2((a.x + a.y) + (b.x + b.y), (a.z + a.w) + (b.z + b.w));
  }
}

// out: the output grid.
template <typename I>
__global__ void nearest_kernel(const float* x, float* y, UpsampleShape s, UpsampleAxis ah,
                               UpsampleAxis aw, Grid2d<I> out) {
  GE_GRID_STRIDE(e, s.out_numel()) {
    I p, oh, ow;
    out.split(e, p, oh, ow);
    y[e] = x[(p * s.in_h + nearest_source(oh, ah)) * s.in_w + nearest_source(ow, aw)];
  }
}

// in: the input grid.
template <typename I>
__global__ void nearest_backward_kernel(const float* dy, float* dx, UpsampleShape s,
                                        UpsampleAxis ah, UpsampleAxis aw, Grid2d<I> in) {
  GE_GRID_STRIDE(e, s.in_numel()) {
    I p, h, w;
    in.split(e, p, h, w);
    const float* gp = dy + p * ah.out * aw.out;
    const Window wh = nearest_window(h, ah), ww = nearest_window(w, aw);
    float acc = 0.f;
    for (int64_t oh = wh.lo; oh < wh.hi; ++oh) {
      if (nearest_source(oh, ah) != h) continue;
      for (int64_t ow = ww.lo; ow < ww.hi; ++ow)
        if (nearest_source(ow, aw) == w) acc += gp[oh * aw.out + ow];
    }
    dx[e] = acc;
  }
}

template <typename I>
__global__ void bilinear_kernel(const float* x, float* y, UpsampleShape s, UpsampleAxis ah,
                                UpsampleAxis aw, Grid2d<I> out) {
  GE_GRID_STRIDE(e, s.out_numel()) {
    I p, oh, ow;
    out.split(e, p, oh, ow);
    const LinearTaps th = linear_taps(oh, ah), tw = linear_taps(ow, aw);
    const float* r0 = x + (p * s.in_h + th.i0) * s.in_w;
    const float* r1 = x + (p * s.in_h + th.i1) * s.in_w;
    y[e] = th.l0 * (tw.l0 * __ldg(r0 + tw.i0) + tw.l1 * __ldg(r0 + tw.i1)) +
           th.l1 * (tw.l0 * __ldg(r1 + tw.i0) + tw.l1 * __ldg(r1 + tw.i1));
  }
}

// Up to kReaders outputs per axis read one input (2s for align_corners false, up to 4s - 1 for
// true): their indices and weights are found once per pixel and kept in local arrays, so the
// weight arithmetic runs 2 * kReaders times rather than once per candidate pair.
constexpr int kReaders = 16;

template <typename I>
__global__ void bilinear_backward_kernel(const float* dy, float* dx, UpsampleShape s,
                                         UpsampleAxis ah, UpsampleAxis aw, Grid2d<I> in) {
  GE_GRID_STRIDE(e, s.in_numel()) {
    I p, h, w;
    in.split(e, p, h, w);
    const float* gp = dy + p * ah.out * aw.out;
    int rows[kReaders], cols[kReaders];
    float kr[kReaders], kc[kReaders];
    const int nr = linear_readers<kReaders>(h, ah, rows, kr);
    const int nc = linear_readers<kReaders>(w, aw, cols, kc);
    float acc = 0.f;
    if (nr >= 0 && nc >= 0) {
      for (int i = 0; i < nr; ++i) {
        const float* g = gp + static_cast<int64_t>(rows[i]) * aw.out;
        float row = 0.f;
        for (int j = 0; j < nc; ++j)
          row += kc[j] * __ldg(g + cols[j]);
        acc += kr[i] * row;
      }
    } else {
      // Scales beyond kReaders' reach: the same sum, weights recomputed per candidate.
      const Window wh = linear_window(h, ah), ww = linear_window(w, aw);
      for (int64_t oh = wh.lo; oh < wh.hi; ++oh) {
        const float k = linear_weight(oh, h, ah);
        if (k == 0.f) continue;
        float row = 0.f;
        for (int64_t ow = ww.lo; ow < ww.hi; ++ow) {
          const float kw = linear_weight(ow, w, aw);
          if (kw != 0.f) row += kw * __ldg(gp + oh * aw.out + ow);
        }
        acc += k * row;
      }
    }
    dx[e] = acc;
  }
}

#undef GE_GRID_STRIDE

bool nearest2x_vectorizable(const UpsampleShape& s, const float* in, const float* out,
                            bool backward) {
  const float* small = backward ? out : in;  // the [P, H, W] side moves float2s
  const float* big = backward ? in : out;    // the [P, 2H, 2W] side moves float4s
  return s.scale == 2 && s.in_w % 2 == 0 && aligned(small, 8) && aligned(big, 16);
}

// Runs f.template operator()<I>() with I = int when every flat index of s fits.
template <typename F>
void with_index(const UpsampleShape& s, F&& f) {
  if (narrow_index(s.out_numel())) {
    f.template operator()<int>();
  } else {
    f.template operator()<int64_t>();
  }
}

}  // namespace

void upsample_nearest2d(const float* x, float* y, const UpsampleShape& s, Stream stream) {
  upsample_check("upsample_nearest2d", s, x, y);
  if (s.in_numel() == 0) return;
  with_index(s, [&]<typename I>() {
    if (nearest2x_vectorizable(s, x, y, false)) {
      GE_LAUNCH(nearest2x_kernel<I>, grid_for(s.in_numel() / 2), kBlock, 0, stream, x, y, s,
                DivBy<I>(s.in_w / 2));
      return;
    }
    const UpsampleAxis ah = nearest_axis(s.in_h, s.scale), aw = nearest_axis(s.in_w, s.scale);
    GE_LAUNCH(nearest_kernel<I>, grid_for(s.out_numel()), kBlock, 0, stream, x, y, s, ah, aw,
              Grid2d<I>(ah.out, aw.out));
  });
}

void upsample_nearest2d_backward(const float* dy, float* dx, const UpsampleShape& s,
                                 Stream stream) {
  upsample_check("upsample_nearest2d_backward", s, dy, dx);
  if (s.in_numel() == 0) return;
  with_index(s, [&]<typename I>() {
    if (nearest2x_vectorizable(s, dy, dx, true)) {
      GE_LAUNCH(nearest2x_backward_kernel<I>, grid_for(s.in_numel() / 2), kBlock, 0, stream, dy, dx,
                s, DivBy<I>(s.in_w / 2));
      return;
    }
    GE_LAUNCH(nearest_backward_kernel<I>, grid_for(s.in_numel()), kBlock, 0, stream, dy, dx, s,
              nearest_axis(s.in_h, s.scale), nearest_axis(s.in_w, s.scale),
              Grid2d<I>(s.in_h, s.in_w));
  });
}

void upsample_bilinear2d(const float* x, float* y, const UpsampleShape& s, bool align_corners,
                         Stream stream) {
  upsample_check("upsample_bilinear2d", s, x, y);
  if (s.in_numel() == 0) return;
  const UpsampleAxis ah = bilinear_axis(s.in_h, s.scale, align_corners);
  const UpsampleAxis aw = bilinear_axis(s.in_w, s.scale, align_corners);
  with_index(s, [&]<typename I>() {
    GE_LAUNCH(bilinear_kernel<I>, grid_for(s.out_numel()), kBlock, 0, stream, x, y, s, ah, aw,
              Grid2d<I>(ah.out, aw.out));
  });
}

void upsample_bilinear2d_backward(const float* dy, float* dx, const UpsampleShape& s,
                                  bool align_corners, Stream stream) {
  upsample_check("upsample_bilinear2d_backward", s, dy, dx);
  if (s.in_numel() == 0) return;
  const UpsampleAxis ah = bilinear_axis(s.in_h, s.scale, align_corners);
  const UpsampleAxis aw = bilinear_axis(s.in_w, s.scale, align_corners);
  with_index(s, [&]<typename I>() {
    GE_LAUNCH(bilinear_backward_kernel<I>, grid_for(s.in_numel()), kBlock, 0, stream, dy, dx, s, ah,
              aw, Grid2d<I>(s.in_h, s.in_w));
  });
}

}  // namespace ge::kernels::cuda
