// CPU reductions over the middle axis of [outer, r, inner].
#include "common/reduce.h"

#include "ganengine/kernels/reduce.h"

namespace ge::kernels {

const char* name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum:
      return "sum";
    case ReduceOp::Mean:
      return "mean";
    case ReduceOp::Max:
      return "max";
    case ReduceOp::Min:
      return "min";
  }
  return "unknown_reduce_op";
}

namespace cpu {
namespace {

// Eight independent accumulators: the loop vectorizes without reassociation flags, and the
// rounding error grows like r/8 rather than r.
template <ReduceOp Op>
float reduce_row(const float* x, int64_t r) {
  using R = Reducer<Op>;
  constexpr int kLanes = 8;
  float acc[kLanes];
  for (float& a : acc)
    a = R::identity();
  int64_t j = 0;
  for (; j + kLanes <= r; j += kLanes) {
    for (int l = 0; l < kLanes; ++l)
      acc[l] = R::combine(acc[l], x[j + l]);
  }
  for (; j < r; ++j)
    acc[0] = R::combine(acc[0], x[j]);
  float total = acc[0];
  for (int l = 1; l < kLanes; ++l)
    total = R::combine(total, acc[l]);
  return total;
}

}  // namespace

void reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t r, int64_t inner) {
  check_reduce_args(op, x, y, outer, r, inner);
  if (outer == 0 || inner == 0) return;
  dispatch_reduce(op, [&]<ReduceOp Op>() {
    using R = Reducer<Op>;
    for (int64_t o = 0; o < outer; ++o) {
      float* yo = y + o * inner;
      if (inner == 1) {
        yo[0] = R::finalize(reduce_row<Op>(x + o * r, r), r);
        continue;
      }
      // Whole rows of `inner` at a time: unit-stride reads, and the loop over i vectorizes.
      for (int64_t i = 0; i < inner; ++i)
        yo[i] = R::identity();
      for (int64_t j = 0; j < r; ++j) {
        const float* xr = x + (o * r + j) * inner;
        for (int64_t i = 0; i < inner; ++i)
          yo[i] = R::combine(yo[i], xr[i]);
      }
      for (int64_t i = 0; i < inner; ++i)
        yo[i] = R::finalize(yo[i], r);
    }
  });
}

}  // namespace cpu
}  // namespace ge::kernels
