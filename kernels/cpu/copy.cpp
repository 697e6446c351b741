// CPU strided copy: memcpy when both sides are contiguous, otherwise an odometer over the outer
// dims with a strided innermost loop.
#include <cstring>

#include "common/strided.h"
#include "ganengine/kernels/copy.h"

namespace ge::kernels::cpu {

void strided_copy(const float* src, const Strides& src_strides, float* dst,
                  const Strides& dst_strides, const StridedShape& shape) {
  check_shape("strided_copy", shape);
  const int64_t n = shape.numel();
  if (n == 0) return;
  check_copy_args(src, dst, dst_strides, shape);
  StridedShape s = shape;
  Strides st[2] = {src_strides, dst_strides};
  order_by_strides(s, st, 1);
  coalesce(s, st);
  if (s.ndim == 0 || (s.ndim == 1 && st[0].v[0] == 1 && st[1].v[0] == 1)) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  const int last = s.ndim - 1;
  const int64_t inner = s.shape[last], ss = st[0].v[last], ds = st[1].v[last];
  int64_t idx[kMaxDims] = {};
  int64_t s_off = 0, d_off = 0;
  for (int64_t o = 0, rows = n / inner; o < rows; ++o) {
    const float* sr = src + s_off;
    float* dr = dst + d_off;
    if (ss == 1 && ds == 1) {
      std::memcpy(dr, sr, static_cast<size_t>(inner) * sizeof(float));
    } else {
      for (int64_t j = 0; j < inner; ++j)
        dr[j * ds] = sr[j * ss];
    }
    for (int d = last - 1; d >= 0; --d) {
      s_off += st[0].v[d];
      d_off += st[1].v[d];
      if (++idx[d] < s.shape[d]) break;
      s_off -= st[0].v[d] * s.shape[d];
      d_off -= st[1].v[d] * s.shape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace ge::kernels::cpu
