// CUDA im2col / col2im: grid-stride, one thread per output element. col2im gathers (each image
// element sums the columns that read it) instead of scattering column entries with atomics, so
// it is race-free and deterministic. Both count in I: int with multiply-shift division by the
// launch's sizes (DivBy<int>) below 2^31 elements, int64_t with plain division above.
#include <algorithm>
#include <cstdint>

#include "common/grid.h"
#include "common/im2col.h"
#include "cuda/channel_of.cuh"
#include "cuda/launch.cuh"
#include "ganengine/kernels/im2col.h"

namespace ge::kernels::cuda {
namespace {

// The divisors of one launch: a flat column index is ((n * rows + r) * col_h + oy) * col_w + ox
// with r = (c * kernel_h + ki) * kernel_w + kj; a flat image index is
// ((n * channels + c) * height + y) * width + x.
template <typename I>
struct Im2colDivs {
  DivBy<I> by_col_w, by_col_h, by_kernel_w, by_kernel_h, by_rows;
  DivBy<I> by_width, by_height, by_channels, by_stride_h, by_stride_w;
  explicit Im2colDivs(const Im2colArgs& a)
      : by_col_w(std::max<int64_t>(a.col_w, 1)),
        by_col_h(std::max<int64_t>(a.col_h, 1)),
        by_kernel_w(a.kernel_w),
        by_kernel_h(a.kernel_h),
        by_rows(a.channels * a.kernel_h * a.kernel_w),
        by_width(a.width),
        by_height(a.height),
        by_channels(a.channels),
        by_stride_h(a.stride_h),
        by_stride_w(a.stride_w) {}
};

template <typename I>
__global__ void im2col_kernel(Im2colArgs a, const float* im, float* col, I total, Im2colDivs<I> d) {
  const I width = static_cast<I>(a.width), height = static_cast<I>(a.height);
  for (I i = first_index<I>(); i < total; i += grid_stride<I>()) {
    I ox, oy, kj, ki, r;
    const I n = d.by_rows.divmod(d.by_col_h.divmod(d.by_col_w.divmod(i, ox), oy), r);
    const I c = d.by_kernel_h.divmod(d.by_kernel_w.divmod(r, kj), ki);
    const I y = oy * static_cast<I>(a.stride_h) - static_cast<I>(a.pad_h) +
                ki * static_cast<I>(a.dilation_h);
    const I x = ox * static_cast<I>(a.stride_w) - static_cast<I>(a.pad_w) +
                kj * static_cast<I>(a.dilation_w);
    const bool inside = y >= 0 && y < height && x >= 0 && x < width;
    col[n * static_cast<I>(a.col_sample_stride) + r * static_cast<I>(a.col_row_stride) +
        oy * static_cast<I>(a.col_w) + ox] =
        inside ? im[((n * static_cast<I>(a.channels) + c) * height + y) * width + x] : 0.f;
  }
}

// One axis of col2im: the column position o that kernel tap k reads image coordinate v from,
// or -1 when no position does (o * stride = v + pad - k * dilation must be on the grid).
template <typename I>
__device__ __forceinline__ I col2im_source(I v, I k, I pad, I dilation, I cols,
                                           const DivBy<I>& by_stride) {
  const I t = v + pad - k * dilation;
  if (t < 0) return -1;
  I rem;
  const I o = by_stride.divmod(t, rem);
  return rem == 0 && o < cols ? o : -1;
}

template <typename I>
__global__ void col2im_kernel(Im2colArgs a, const float* col, const float* bias, float* im, I total,
                              Im2colDivs<I> d) {
  const I kernel_h = static_cast<I>(a.kernel_h), kernel_w = static_cast<I>(a.kernel_w);
  for (I i = first_index<I>(); i < total; i += grid_stride<I>()) {
    I x, y, c;
    const I n = d.by_channels.divmod(d.by_height.divmod(d.by_width.divmod(i, x), y), c);
    const float* sample = col + n * static_cast<I>(a.col_sample_stride);
    float sum = 0.f;
    for (I ki = 0; ki < kernel_h; ++ki) {
      const I oy = col2im_source<I>(y, ki, static_cast<I>(a.pad_h), static_cast<I>(a.dilation_h),
                                    static_cast<I>(a.col_h), d.by_stride_h);
      if (oy < 0) continue;
      for (I kj = 0; kj < kernel_w; ++kj) {
        const I ox = col2im_source<I>(x, kj, static_cast<I>(a.pad_w), static_cast<I>(a.dilation_w),
                                      static_cast<I>(a.col_w), d.by_stride_w);
        if (ox < 0) continue;
        const I r = (c * kernel_h + ki) * kernel_w + kj;
        sum += sample[r * static_cast<I>(a.col_row_stride) + oy * static_cast<I>(a.col_w) + ox];
      }
    }
    im[i] = bias != nullptr ? sum + bias[c] : sum;
  }
}

// A bound on every index either kernel forms: flat offsets into the image and the columns, and
// the image coordinates o * stride - pad + k * dilation along each axis.
int64_t im2col_extent(const Im2colArgs& a) {
  const int64_t image = a.batch * a.channels * a.height * a.width;
  const int64_t rows = a.channels * a.kernel_h * a.kernel_w;
  const int64_t columns =
      (a.batch - 1) * a.col_sample_stride + (rows - 1) * a.col_row_stride + a.col_h * a.col_w;
  const int64_t reach_y = a.col_h * a.stride_h + a.kernel_h * a.dilation_h + a.pad_h + a.height;
  const int64_t reach_x = a.col_w * a.stride_w + a.kernel_w * a.dilation_w + a.pad_w + a.width;
  return std::max({image, columns, a.batch * rows * a.col_h * a.col_w, reach_y, reach_x});
}

}  // namespace

void im2col(const Im2colArgs& args, const float* im, float* col, Stream stream) {
  Im2colArgs a = args;
  if (prepare_im2col_args(a, "im2col")) return;
  const int64_t total = a.batch * a.channels * a.kernel_h * a.kernel_w * a.col_h * a.col_w;
  if (narrow_index(im2col_extent(a)))
    GE_LAUNCH(im2col_kernel<int>, grid_for(total), kBlock, 0, stream, a, im, col,
              static_cast<int>(total), Im2colDivs<int>(a));
  else
    GE_LAUNCH(im2col_kernel<int64_t>, grid_for(total), kBlock, 0, stream, a, im, col, total,
              Im2colDivs<int64_t>(a));
}

void col2im(const Im2colArgs& args, const float* col, const float* bias, float* im, Stream stream) {
  Im2colArgs a = args;
  const bool empty_columns = prepare_im2col_args(a, "col2im");
  const int64_t total = a.batch * a.channels * a.height * a.width;
  if (total == 0) return;
  if (empty_columns) {
    // Every column-grid position is out of range, so the kernel writes bias (or zero) only.
    a.col_h = 0;
    a.col_w = 0;
  }
  if (narrow_index(im2col_extent(a)))
    GE_LAUNCH(col2im_kernel<int>, grid_for(total), kBlock, 0, stream, a, col, bias, im,
              static_cast<int>(total), Im2colDivs<int>(a));
  else
    GE_LAUNCH(col2im_kernel<int64_t>, grid_for(total), kBlock, 0, stream, a, col, bias, im, total,
              Im2colDivs<int64_t>(a));
}

}  // namespace ge::kernels::cuda
