// CPU im2col / col2im: one (sample, channel) plane per work item, so threads never share an
// output element; the per-plane loops (common/im2col.h) resolve the padding per column row.
#include <algorithm>
#include <cstdint>

#include "common/im2col.h"
#include "cpu/parallel.h"
#include "ganengine/kernels/im2col.h"

namespace ge::kernels::cpu {

void im2col(const Im2colArgs& args, const float* im, float* col) {
  Im2colArgs a = args;
  if (prepare_im2col_args(a, "im2col")) return;
  const int64_t taps = a.kernel_h * a.kernel_w, plane = a.height * a.width;
  const int64_t col_floats = a.batch * a.channels * taps * a.col_h * a.col_w;
  parallel_for(a.batch * a.channels, col_floats >= kParallelGrain, [&](int64_t i) {
    const int64_t n = i / a.channels, c = i % a.channels;
    im2col_plane(a, im + i * plane, col + im2col_offset(a, n, c * taps, 0), a.col_row_stride);
  });
}

void col2im(const Im2colArgs& args, const float* col, const float* bias, float* im) {
  Im2colArgs a = args;
  const bool empty_columns = prepare_im2col_args(a, "col2im");
  const int64_t taps = a.kernel_h * a.kernel_w, plane = a.height * a.width;
  const int64_t work =
      a.batch * a.channels * (plane + (empty_columns ? 0 : taps * a.col_h * a.col_w));
  parallel_for(a.batch * a.channels, work >= kParallelGrain, [&](int64_t i) {
    const int64_t n = i / a.channels, c = i % a.channels;
    float* dst = im + i * plane;
    std::fill(dst, dst + plane, bias != nullptr ? bias[c] : 0.f);
    if (!empty_columns)
      col2im_plane_add(a, col + im2col_offset(a, n, c * taps, 0), a.col_row_stride, dst);
  });
}

}  // namespace ge::kernels::cpu
