#pragma once
// Index math and argument checks for im2col / col2im, shared by the CPU loops and CUDA kernels.
#include <cstdint>

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

// The image coordinate a column position reads along one axis (may fall in the padding).
GE_HOST_DEVICE int64_t im2col_source(int64_t o, int64_t k, int64_t stride, int64_t pad,
                                     int64_t dilation) {
  return o * stride - pad + k * dilation;
}

// Column element `flat` of the logical [batch, rows, col_h * col_w] order.
GE_HOST_DEVICE float im2col_element(const Im2colArgs& a, const float* im, int64_t flat) {
  const int64_t l_count = a.col_h * a.col_w;
  const int64_t l = flat % l_count;
  const int64_t rest = flat / l_count;
  const int64_t rows = a.channels * a.kernel_h * a.kernel_w;
  const int64_t r = rest % rows, n = rest / rows;
  const int64_t kj = r % a.kernel_w, ki = r / a.kernel_w % a.kernel_h;
  const int64_t c = r / (a.kernel_w * a.kernel_h);
  const int64_t y = im2col_source(l / a.col_w, ki, a.stride_h, a.pad_h, a.dilation_h);
  const int64_t x = im2col_source(l % a.col_w, kj, a.stride_w, a.pad_w, a.dilation_w);
  if (y < 0 || y >= a.height || x < 0 || x >= a.width) return 0.f;
  return im[((n * a.channels + c) * a.height + y) * a.width + x];
}

GE_HOST_DEVICE int64_t im2col_offset(const Im2colArgs& a, int64_t n, int64_t r, int64_t l) {
  return n * a.col_sample_stride + r * a.col_row_stride + l;
}

// The value of image element `flat` ([batch, channels, height, width] order): the sum of the
// column entries that read it, in a fixed (ki, kj) order, plus the channel's bias.
GE_HOST_DEVICE float col2im_element(const Im2colArgs& a, const float* col, const float* bias,
                                    int64_t flat) {
  const int64_t x = flat % a.width;
  const int64_t y = flat / a.width % a.height;
  const int64_t c = flat / (a.width * a.height) % a.channels;
  const int64_t n = flat / (a.width * a.height * a.channels);
  float sum = 0.f;
  for (int64_t ki = 0; ki < a.kernel_h; ++ki) {
    // oy * stride = y + pad - ki * dilation must land on the column grid.
    const int64_t ty = y + a.pad_h - ki * a.dilation_h;
    if (ty < 0 || ty % a.stride_h != 0) continue;
    const int64_t oy = ty / a.stride_h;
    if (oy >= a.col_h) continue;
    for (int64_t kj = 0; kj < a.kernel_w; ++kj) {
      const int64_t tx = x + a.pad_w - kj * a.dilation_w;
      if (tx < 0 || tx % a.stride_w != 0) continue;
      const int64_t ox = tx / a.stride_w;
      if (ox >= a.col_w) continue;
      const int64_t r = (c * a.kernel_h + ki) * a.kernel_w + kj;
      sum += col[im2col_offset(a, n, r, oy * a.col_w + ox)];
    }
  }
  return bias != nullptr ? sum + bias[c] : sum;
}

}  // namespace ge::kernels
