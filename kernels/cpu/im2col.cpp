// CPU im2col / col2im, both walking one column row at a time so that the inner loop is a
// strided copy (or add) with the row's bounds check hoisted out of it.
#include <algorithm>
#include <cstdint>

#include "common/im2col.h"
#include "ganengine/kernels/im2col.h"

namespace ge::kernels::cpu {

void im2col(const Im2colArgs& args, const float* im, float* col) {
  Im2colArgs a = args;
  if (prepare_im2col_args(a, "im2col")) return;
  const int64_t rows = a.channels * a.kernel_h * a.kernel_w;
  for (int64_t n = 0; n < a.batch; ++n) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t kj = r % a.kernel_w, ki = r / a.kernel_w % a.kernel_h;
      const int64_t c = r / (a.kernel_w * a.kernel_h);
      const float* plane = im + (n * a.channels + c) * a.height * a.width;
      float* dst = col + im2col_offset(a, n, r, 0);
      for (int64_t oy = 0; oy < a.col_h; ++oy) {
        float* out = dst + oy * a.col_w;
        const int64_t y = im2col_source(oy, ki, a.stride_h, a.pad_h, a.dilation_h);
        if (y < 0 || y >= a.height) {
          std::fill(out, out + a.col_w, 0.f);
          continue;
        }
        const float* src = plane + y * a.width;
        for (int64_t ox = 0; ox < a.col_w; ++ox) {
          const int64_t x = im2col_source(ox, kj, a.stride_w, a.pad_w, a.dilation_w);
          out[ox] = x >= 0 && x < a.width ? src[x] : 0.f;
        }
      }
    }
  }
}

void col2im(const Im2colArgs& args, const float* col, const float* bias, float* im) {
  Im2colArgs a = args;
  const bool empty_columns = prepare_im2col_args(a, "col2im");
  const int64_t plane = a.height * a.width;
  for (int64_t i = 0; i < a.batch * a.channels * plane; ++i)
    im[i] = bias != nullptr ? bias[i / plane % a.channels] : 0.f;
  if (empty_columns) return;
  // One thread owns the whole image here, so the scatter form (each column row added along
  // the image row it came from) is race-free and walks memory in order, unlike the per-pixel
  // gather the CUDA kernel needs.
  const int64_t rows = a.channels * a.kernel_h * a.kernel_w;
  for (int64_t n = 0; n < a.batch; ++n) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t kj = r % a.kernel_w, ki = r / a.kernel_w % a.kernel_h;
      const int64_t c = r / (a.kernel_w * a.kernel_h);
      float* dst_plane = im + (n * a.channels + c) * plane;
      const float* src = col + im2col_offset(a, n, r, 0);
      for (int64_t oy = 0; oy < a.col_h; ++oy) {
        const int64_t y = im2col_source(oy, ki, a.stride_h, a.pad_h, a.dilation_h);
        if (y < 0 || y >= a.height) continue;
        float* dst = dst_plane + y * a.width;
        const float* in = src + oy * a.col_w;
        for (int64_t ox = 0; ox < a.col_w; ++ox) {
          const int64_t x = im2col_source(ox, kj, a.stride_w, a.pad_w, a.dilation_w);
          if (x >= 0 && x < a.width) dst[x] += in[ox];
        }
      }
    }
  }
}

}  // namespace ge::kernels::cpu
