// CPU strided copy: memcpy when both sides are contiguous, otherwise an odometer over the outer
// dims with a strided innermost loop.
#include <cstring>

#include "common/strided.h"
#include "ganengine/kernels/copy.h"

namespace ge::kernels::cpu {

void strided_copy(const float* src, const Strides& src_strides, float* dst,
                  const Strides& dst_strides, const StridedShape& shape) {
  const CopyPlan plan = plan_strided_copy(src, src_strides, dst, dst_strides, shape);
  const int64_t n = plan.numel;
  if (n == 0) return;
  if (plan.dense) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  const StridedShape& s = plan.shape;
  const Strides(&st)[2] = plan.strides;
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
