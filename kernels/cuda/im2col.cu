// CUDA im2col / col2im: grid-stride, one thread per output element. col2im gathers (each image
// element sums the columns that read it) instead of scattering column entries with atomics, so
// it is race-free and deterministic.
#include <cstdint>

#include "common/grid.h"
#include "common/im2col.h"
#include "cuda/launch.cuh"
#include "ganengine/kernels/im2col.h"

namespace ge::kernels::cuda {
namespace {

__global__ void im2col_kernel(Im2colArgs a, const float* im, float* col, int64_t total) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t l_count = a.col_h * a.col_w;
  const int64_t rows = a.channels * a.kernel_h * a.kernel_w;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const int64_t l = i % l_count, r = i / l_count % rows, n = i / (l_count * rows);
    col[im2col_offset(a, n, r, l)] = im2col_element(a, im, i);
  }
}

__global__ void col2im_kernel(Im2colArgs a, const float* col, const float* bias, float* im,
                              int64_t total) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    im[i] = col2im_element(a, col, bias, i);
  }
}

}  // namespace

void im2col(const Im2colArgs& args, const float* im, float* col, Stream stream) {
  Im2colArgs a = args;
  if (prepare_im2col_args(a, "im2col")) return;
  const int64_t total = a.batch * a.channels * a.kernel_h * a.kernel_w * a.col_h * a.col_w;
  GE_LAUNCH(im2col_kernel, grid_for(total), kBlock, 0, stream, a, im, col, total);
}

void col2im(const Im2colArgs& args, const float* col, const float* bias, float* im, Stream stream) {
  Im2colArgs a = args;
  const bool empty_columns = prepare_im2col_args(a, "col2im");
  const int64_t total = a.batch * a.channels * a.height * a.width;
  if (total == 0) return;
  if (empty_columns) {
    // Every column-grid loop runs zero times, so the kernel writes bias (or zero) only.
    a.col_h = 0;
    a.col_w = 0;
  }
  GE_LAUNCH(col2im_kernel, grid_for(total), kBlock, 0, stream, a, col, bias, im, total);
}

}  // namespace ge::kernels::cuda
