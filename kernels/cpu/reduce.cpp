// CPU reductions over the middle axis of [outer, r, inner]. Every output is combined by one
// thread in a fixed order, so results do not depend on the thread count: the work is split
// over whole rows (inner == 1) or over tiles of columns (inner > 1), never along r.
#include <algorithm>
#include <cstdint>

#include "common/reduce.h"
#include "cpu/parallel.h"
#include "cpu/vec4.h"
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

using namespace vec4;

// Reducer<Op>::combine, lane by lane, with the same float operations.
template <ReduceOp Op>
F4 combine4(F4 acc, F4 v) {
  if constexpr (Op == ReduceOp::Sum || Op == ReduceOp::Mean) {
    return acc + v;
  } else {
    const M4 keep = (Op == ReduceOp::Max ? acc > v : acc < v) | (acc != acc);
    return select(keep, acc, v);
  }
}

// acc[i] = combine(acc[i], x[i]) for i in [0, n).
template <ReduceOp Op>
void combine_into(float* __restrict acc, const float* __restrict x, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    store(acc + i, combine4<Op>(load(acc + i), load(x + i)));
  for (; i < n; ++i)
    acc[i] = Reducer<Op>::combine(acc[i], x[i]);
}

// Work items of about this many input elements; tiles of this many columns.
constexpr int64_t kTaskElems = int64_t{1} << 14;
constexpr int64_t kTileCols = 512;

}  // namespace

void reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t r, int64_t inner) {
  check_reduce_args(op, x, y, outer, r, inner);
  if (outer == 0 || inner == 0) return;
  const bool parallel = outer * r * inner >= 2 * kParallelGrain;
  dispatch_reduce(op, [&]<ReduceOp Op>() {
    using R = Reducer<Op>;
    if (inner == 1) {
      const int64_t rows_per_task = std::max<int64_t>(1, kTaskElems / std::max<int64_t>(r, 1));
      const int64_t tasks = (outer + rows_per_task - 1) / rows_per_task;
      parallel_for(tasks, parallel, [&](int64_t t) {
        const int64_t end = std::min(outer, (t + 1) * rows_per_task);
        for (int64_t o = t * rows_per_task; o < end; ++o)
          y[o] = R::finalize(reduce_row<Op>(x + o * r, r), r);
      });
      return;
    }
    // Whole rows of a tile at a time: unit-stride reads, and the combine runs on vectors.
    const int64_t tiles = (inner + kTileCols - 1) / kTileCols;
    parallel_for(outer * tiles, parallel, [&](int64_t t) {
      const int64_t o = t / tiles, c0 = (t % tiles) * kTileCols;
      const int64_t cols = std::min(kTileCols, inner - c0);
      float acc[kTileCols];
      std::fill_n(acc, cols, R::identity());
      for (int64_t j = 0; j < r; ++j)
        combine_into<Op>(acc, x + (o * r + j) * inner + c0, cols);
      float* yo = y + o * inner + c0;
      for (int64_t i = 0; i < cols; ++i)
        yo[i] = R::finalize(acc[i], r);
    });
  });
}

}  // namespace cpu
}  // namespace ge::kernels
