#pragma once
// Index math and argument checks for im2col / col2im, shared by the CPU loops and CUDA kernels.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/im2col.h"

namespace ge::kernels {

// Resolves the default column strides and validates; true when there is nothing to do.
inline bool prepare_im2col_args(Im2colArgs& a, const char* op) {
  GE_CHECK(a.batch >= 0 && a.channels >= 0 && a.height >= 0 && a.width >= 0 && a.col_h >= 0 &&
               a.col_w >= 0,
           op, ": expected non-negative sizes, got batch ", a.batch, ", channels ", a.channels,
           ", image ", a.height, "x", a.width, ", columns ", a.col_h, "x", a.col_w);
  GE_CHECK(a.kernel_h > 0 && a.kernel_w > 0 && a.stride_h > 0 && a.stride_w > 0 &&
               a.dilation_h > 0 && a.dilation_w > 0 && a.pad_h >= 0 && a.pad_w >= 0,
           op,
           ": expected positive kernel, stride and dilation and non-negative padding, got "
           "kernel ",
           a.kernel_h, "x", a.kernel_w, ", stride ", a.stride_h, "x", a.stride_w, ", dilation ",
           a.dilation_h, "x", a.dilation_w, ", padding ", a.pad_h, "x", a.pad_w);
  if (a.col_row_stride == 0) a.col_row_stride = a.col_h * a.col_w;
  if (a.col_sample_stride == 0)
    a.col_sample_stride = a.channels * a.kernel_h * a.kernel_w * a.col_h * a.col_w;
  return a.batch == 0 || a.channels == 0 || a.height == 0 || a.width == 0 || a.col_h == 0 ||
         a.col_w == 0;
}

// The offset of column row r, position l, of sample n.
GE_HOST_DEVICE int64_t im2col_offset(const Im2colArgs& a, int64_t n, int64_t r, int64_t l) {
  return n * a.col_sample_stride + r * a.col_row_stride + l;
}

// ---- Host loops, shared by the CPU im2col/col2im launchers and the CPU convolutions. ----

// The column positions [lo, hi) along one axis whose source o * stride + offset lies in
// [0, size); offset = k * dilation - pad. Outside it the column reads padding.
inline void im2col_valid_range(int64_t size, int64_t cols, int64_t offset, int64_t stride,
                               int64_t& lo, int64_t& hi) {
  auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); };
  lo = std::clamp<int64_t>(ceil_div(-offset, stride), 0, cols);
  hi = std::clamp<int64_t>(ceil_div(size - offset, stride), lo, cols);
}

// dst[i] += src[i]; blocks of a fixed width let -O2 vectorize what a runtime-length loop
// would leave scalar.
inline void add_floats(float* __restrict dst, const float* __restrict src, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int64_t u = 0; u < 8; ++u)
      dst[i + u] += src[i + u];
  for (; i < n; ++i)
    dst[i] += src[i];
}

// Strided convolutions (dilation 1) with small planes go through "phase rows": for a row phase
// ph < stride_h and a kernel column kj,
//   Q[ph][kj][i][ox] = image(i * stride_h + ph - pad_h, ox * stride_w + kj - pad_w),
// i < col_h + (kernel_h - 1) / stride_h. The column row of tap (ki, kj) is then the contiguous
// slice of Q[ki % stride_h][kj] starting at row ki / stride_h, so the short strided gathers
// (the cost of im2col when rows are a few pixels wide) are done once per phase instead of once
// per tap, and the taps become plain copies (adds, for col2im).
inline constexpr int64_t kPhaseRowsMaxFloats = 4096;  // on the stack

inline int64_t phase_rows_floats(const Im2colArgs& a) {
  if (a.dilation_h != 1 || a.dilation_w != 1 || (a.stride_h == 1 && a.stride_w == 1)) return -1;
  const int64_t rows = a.col_h + (a.kernel_h - 1) / a.stride_h;
  const int64_t floats = std::min(a.stride_h, a.kernel_h) * a.kernel_w * rows * a.col_w;
  return floats <= kPhaseRowsMaxFloats ? floats : -1;
}

// Calls f(q_row, src_row or null for padding, x_lo, x_hi, x_offset) for every row of Q: the
// row's valid columns [x_lo, x_hi) map to src_row[ox * stride_w + x_offset].
template <typename Plane, typename F>
void for_each_phase_row(const Im2colArgs& a, Plane* plane, float* q, F&& f) {
  const int64_t rows = a.col_h + (a.kernel_h - 1) / a.stride_h;
  for (int64_t ph = 0; ph < std::min(a.stride_h, a.kernel_h); ++ph) {
    for (int64_t kj = 0; kj < a.kernel_w; ++kj) {
      const int64_t x_off = kj - a.pad_w;
      int64_t x_lo, x_hi;
      im2col_valid_range(a.width, a.col_w, x_off, a.stride_w, x_lo, x_hi);
      float* qp = q + (ph * a.kernel_w + kj) * rows * a.col_w;
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t y = i * a.stride_h + ph - a.pad_h;
        Plane* src = y >= 0 && y < a.height ? plane + y * a.width : nullptr;
        f(qp + i * a.col_w, src, x_lo, x_hi, x_off);
      }
    }
  }
}

// Where tap (ki, kj)'s column row starts in Q.
inline int64_t phase_rows_tap(const Im2colArgs& a, int64_t ki, int64_t kj) {
  const int64_t rows = a.col_h + (a.kernel_h - 1) / a.stride_h;
  return ((ki % a.stride_h * a.kernel_w + kj) * rows + ki / a.stride_h) * a.col_w;
}

// One kernel tap's window: output rows [y_lo, y_hi) and columns [x_lo, x_hi) read the input
// at row oy * stride_h + y_off, column ox * stride_w + x_off; the rest of the grid is padding.
struct TapWindow {
  int64_t y_lo, y_hi, y_off;
  int64_t x_lo, x_hi, x_off;
};

// Calls f(tap, window) for every kernel tap (ki, kj), tap = ki * kernel_w + kj.
template <typename F>
void for_each_tap(const Im2colArgs& a, F&& f) {
  TapWindow t;
  for (int64_t ki = 0; ki < a.kernel_h; ++ki) {
    t.y_off = ki * a.dilation_h - a.pad_h;
    im2col_valid_range(a.height, a.col_h, t.y_off, a.stride_h, t.y_lo, t.y_hi);
    for (int64_t kj = 0; kj < a.kernel_w; ++kj) {
      t.x_off = kj * a.dilation_w - a.pad_w;
      im2col_valid_range(a.width, a.col_w, t.x_off, a.stride_w, t.x_lo, t.x_hi);
      f(ki * a.kernel_w + kj, t);
    }
  }
}

// The kernel_h * kernel_w column rows of one image plane, row (ki, kj) at
// col + (ki * kernel_w + kj) * row_stride. Bounds are resolved per row, so the inner loops are
// plain (or strided) copies.
inline void im2col_plane(const Im2colArgs& a, const float* plane, float* col, int64_t row_stride) {
  const int64_t l = a.col_h * a.col_w;
  if (phase_rows_floats(a) >= 0) {
    float q[kPhaseRowsMaxFloats];
    for_each_phase_row(a, plane, q,
                       [&](float* out, const float* src, int64_t lo, int64_t hi, int64_t off) {
                         if (src == nullptr) lo = hi = a.col_w;
                         for (int64_t ox = 0; ox < lo; ++ox)
                           out[ox] = 0.f;
                         for (int64_t ox = lo; ox < hi; ++ox)
                           out[ox] = src[ox * a.stride_w + off];
                         for (int64_t ox = hi; ox < a.col_w; ++ox)
                           out[ox] = 0.f;
                       });
    for (int64_t ki = 0; ki < a.kernel_h; ++ki)
      for (int64_t kj = 0; kj < a.kernel_w; ++kj)
        std::memcpy(col + (ki * a.kernel_w + kj) * row_stride, q + phase_rows_tap(a, ki, kj),
                    static_cast<size_t>(l) * sizeof(float));
    return;
  }
  for_each_tap(a, [&](int64_t tap, const TapWindow& t) {
    float* row = col + tap * row_stride;
    std::fill(row, row + t.y_lo * a.col_w, 0.f);
    for (int64_t oy = t.y_lo; oy < t.y_hi; ++oy) {
      float* out = row + oy * a.col_w;
      const float* src = plane + (oy * a.stride_h + t.y_off) * a.width;
      std::fill(out, out + t.x_lo, 0.f);
      if (a.stride_w == 1) {
        if (t.x_hi > t.x_lo)
          std::memcpy(out + t.x_lo, src + t.x_lo + t.x_off,
                      static_cast<size_t>(t.x_hi - t.x_lo) * sizeof(float));
      } else {
        for (int64_t ox = t.x_lo; ox < t.x_hi; ++ox)
          out[ox] = src[ox * a.stride_w + t.x_off];
      }
      std::fill(out + t.x_hi, out + a.col_w, 0.f);
    }
    std::fill(row + t.y_hi * a.col_w, row + l, 0.f);
  });
}

// Adds the kernel_h * kernel_w column rows of one plane (laid out as im2col_plane writes them)
// into the plane.
inline void col2im_plane_add(const Im2colArgs& a, const float* col, int64_t row_stride,
                             float* plane) {
  const int64_t l = a.col_h * a.col_w;
  const int64_t q_floats = phase_rows_floats(a);
  if (q_floats >= 0) {
    float q[kPhaseRowsMaxFloats];
    std::fill(q, q + q_floats, 0.f);
    for (int64_t ki = 0; ki < a.kernel_h; ++ki) {
      for (int64_t kj = 0; kj < a.kernel_w; ++kj) {
        add_floats(q + phase_rows_tap(a, ki, kj), col + (ki * a.kernel_w + kj) * row_stride, l);
      }
    }
    for_each_phase_row(a, plane, q,
                       [&](float* in, float* dst, int64_t lo, int64_t hi, int64_t off) {
                         if (dst == nullptr) return;
                         for (int64_t ox = lo; ox < hi; ++ox)
                           dst[ox * a.stride_w + off] += in[ox];
                       });
    return;
  }
  for_each_tap(a, [&](int64_t tap, const TapWindow& t) {
    const float* row = col + tap * row_stride;
    for (int64_t oy = t.y_lo; oy < t.y_hi; ++oy) {
      const float* in = row + oy * a.col_w;
      float* dst = plane + (oy * a.stride_h + t.y_off) * a.width;
      if (a.stride_w == 1) {
        if (t.x_hi > t.x_lo) add_floats(dst + t.x_lo + t.x_off, in + t.x_lo, t.x_hi - t.x_lo);
      } else {
        for (int64_t ox = t.x_lo; ox < t.x_hi; ++ox)
          dst[ox * a.stride_w + t.x_off] += in[ox];
      }
    }
  });
}

}  // namespace ge::kernels
