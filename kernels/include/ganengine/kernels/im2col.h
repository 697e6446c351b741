#pragma once
// im2col / col2im: the data movement that turns a 2-D convolution into GEMM.
//
// The image is [batch, channels, height, width], contiguous. The columns hold, for every sample n,
// row r = (c * kernel_h + ki) * kernel_w + kj and column l = oy * col_w + ox, the image value at
//   y = oy * stride_h - pad_h + ki * dilation_h,  x = ox * stride_w - pad_w + kj * dilation_w
// (0 outside the image), at col[n * col_sample_stride + r * col_row_stride + l].
// The default strides (0) give [batch, channels*kernel_h*kernel_w, col_h*col_w]; the engine also
// uses [channels*kernel_h*kernel_w, batch, col_h*col_w] (sample stride col_h*col_w, row stride
// batch*col_h*col_w) so that one GEMM covers the whole batch.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

struct Im2colArgs {
  int64_t batch = 1, channels = 0, height = 0, width = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t col_h = 0, col_w = 0;   // the column grid (a convolution's output size)
  int64_t col_sample_stride = 0;  // 0: channels * kernel_h * kernel_w * col_h * col_w
  int64_t col_row_stride = 0;     // 0: col_h * col_w
};

namespace cpu {
// col = im2col(im); every column element is written.
void im2col(const Im2colArgs& args, const float* im, float* col);
// im[n, c, y, x] = bias[c] (0 when bias is null) + the sum of every column element that
// im2col would have read from (n, c, y, x); every image element is written.
void col2im(const Im2colArgs& args, const float* col, const float* bias, float* im);
}  // namespace cpu
namespace cuda {
GE_CUDA_LAUNCHER void im2col(const Im2colArgs& args, const float* im, float* col, Stream stream);
// One thread per image element gathers its contributions: no atomics, no write races, and the
// summation order is fixed, so results do not depend on thread order.
GE_CUDA_LAUNCHER void col2im(const Im2colArgs& args, const float* col, const float* bias, float* im,
                             Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
