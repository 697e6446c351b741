// CPU strided copy: memcpy when both sides are contiguous, otherwise an odometer over the outer
// dims with a strided innermost loop. Large copies are cut into blocks of whole rows (of
// contiguous spans when dense) spread over the threads.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/strided.h"
#include "cpu/parallel.h"
#include "ganengine/kernels/copy.h"

namespace ge::kernels::cpu {
namespace {

// Rows [row_begin, row_end) of the plan's [outer dims..., inner] layout.
void copy_rows(const CopyPlan& plan, const float* src, float* dst, int64_t row_begin,
               int64_t row_end) {
  const StridedShape& s = plan.shape;
  const Strides(&st)[2] = plan.strides;
  const int last = s.ndim - 1;
  const int64_t inner = s.shape[last], ss = st[0].v[last], ds = st[1].v[last];
  // The odometer starts from row_begin's outer index.
  int64_t idx[kMaxDims] = {};
  int64_t s_off = 0, d_off = 0;
  for (int64_t d = last - 1, rest = row_begin; d >= 0; --d) {
    idx[d] = rest % s.shape[d];
    rest /= s.shape[d];
    s_off += idx[d] * st[0].v[d];
    d_off += idx[d] * st[1].v[d];
  }
  for (int64_t o = row_begin; o < row_end; ++o) {
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

}  // namespace

void strided_copy(const float* src, const Strides& src_strides, float* dst,
                  const Strides& dst_strides, const StridedShape& shape) {
  const CopyPlan plan = plan_strided_copy(src, src_strides, dst, dst_strides, shape);
  const int64_t n = plan.numel;
  if (n == 0) return;
  // A copy is bandwidth-bound: a second thread only pays off once the buffers leave L2.
  const bool parallel = n >= 8 * kParallelGrain;
  if (plan.dense) {
    constexpr int64_t kSpan = int64_t{1} << 16;
    parallel_for((n + kSpan - 1) / kSpan, parallel, [&](int64_t b) {
      const int64_t begin = b * kSpan, count = std::min(kSpan, n - begin);
      std::memcpy(dst + begin, src + begin, static_cast<size_t>(count) * sizeof(float));
    });
    return;
  }
  const int64_t inner = plan.shape.shape[plan.shape.ndim - 1], rows = n / inner;
  const int64_t rows_per_block = std::max<int64_t>(1, (int64_t{1} << 14) / inner);
  parallel_for((rows + rows_per_block - 1) / rows_per_block, parallel && rows > 1, [&](int64_t b) {
    const int64_t begin = b * rows_per_block;
    copy_rows(plan, src, dst, begin, std::min(rows, begin + rows_per_block));
  });
}

}  // namespace ge::kernels::cpu
