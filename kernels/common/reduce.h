#pragma once
// Reduction operators shared by the CPU loops and CUDA kernels: identity, combine, finalize.
#include <cmath>
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/reduce.h"

namespace ge::kernels {

template <ReduceOp Op>
struct Reducer {
  static GE_HOST_DEVICE float identity() {
    if constexpr (Op == ReduceOp::Max) {
      return -INFINITY;
    } else if constexpr (Op == ReduceOp::Min) {
      return INFINITY;
    } else {
      return 0.f;
    }
  }
  // Max/Min keep a NaN from either side, as torch.max does.
  static GE_HOST_DEVICE float combine(float acc, float v) {
    if constexpr (Op == ReduceOp::Max) {
      return (acc > v || acc != acc) ? acc : v;
    } else if constexpr (Op == ReduceOp::Min) {
      return (acc < v || acc != acc) ? acc : v;
    } else {
      return acc + v;
    }
  }
  // Mean multiplies by 1/r (r == 0 gives NaN, as the mean of nothing in PyTorch).
  static GE_HOST_DEVICE float finalize(float acc, int64_t r) {
    if constexpr (Op == ReduceOp::Mean) {
      return acc * (1.f / static_cast<float>(r));
    } else {
      return acc;
    }
  }
};

template <typename F>
void dispatch_reduce(ReduceOp op, F&& f) {
  switch (op) {
    case ReduceOp::Sum:
      f.template operator()<ReduceOp::Sum>();
      return;
    case ReduceOp::Mean:
      f.template operator()<ReduceOp::Mean>();
      return;
    case ReduceOp::Max:
      f.template operator()<ReduceOp::Max>();
      return;
    case ReduceOp::Min:
      f.template operator()<ReduceOp::Min>();
      return;
  }
  ::ge::fail("reduce: unknown ReduceOp value ", static_cast<int>(op));
}

inline void check_reduce_args(ReduceOp op, const float* x, const float* y, int64_t outer, int64_t r,
                              int64_t inner) {
  GE_CHECK(outer >= 0 && r >= 0 && inner >= 0, "reduce(", name(op),
           "): expected non-negative outer, r, inner, got [", outer, ", ", r, ", ", inner, "]");
  if (outer == 0 || inner == 0) return;
  GE_CHECK(y != nullptr, "reduce(", name(op), "): expected a non-null output for [", outer, ", ",
           inner, "] results");
  GE_CHECK(r > 0 || op == ReduceOp::Sum || op == ReduceOp::Mean, "reduce(", name(op),
           "): expected r > 0 (no identity for an empty max/min), got r = 0");
  GE_CHECK(x != nullptr || r == 0, "reduce(", name(op), "): expected a non-null input for [", outer,
           ", ", r, ", ", inner, "]");
}

}  // namespace ge::kernels
