#pragma once
// N-d index arithmetic shared by the strided CPU loops and CUDA kernels (binary broadcast,
// strided copy): validation, dimension coalescing, and linear index -> element offsets.
#include <cstdint>

#include "common/fast_div.h"
#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/types.h"

namespace ge::kernels {

// Element offsets of the row-major linear index `i` of `shape` in NOps operands.
template <int NOps>
struct Offsets {
  int64_t v[NOps];
};

template <int NOps>
GE_HOST_DEVICE Offsets<NOps> strided_offsets(int64_t i, const StridedShape& shape,
                                             const Strides (&strides)[NOps]) {
  Offsets<NOps> out{};
  GE_UNROLL
  for (int d = kMaxDims - 1; d >= 0; --d) {
    if (d >= shape.ndim) continue;
    const int64_t size = shape.shape[d];
    const int64_t q = i / size;
    const int64_t idx = i - q * size;
    i = q;
    GE_UNROLL
    for (int k = 0; k < NOps; ++k)
      out.v[k] += idx * strides[k].v[d];
  }
  return out;
}

// The dims' sizes as multiply-shift divisors: a loop over fewer than 2^31 elements decomposes
// its index with them (strided_offsets below) instead of a 64-bit division per dim.
struct ShapeDivisors {
  FastDiv by[kMaxDims];
};

inline ShapeDivisors shape_divisors(const StridedShape& shape) {
  ShapeDivisors div;
  for (int d = 0; d < shape.ndim; ++d)
    div.by[d] = FastDiv(static_cast<uint32_t>(shape.shape[d] > 0 ? shape.shape[d] : 1));
  return div;
}

// strided_offsets for an index below 2^31 of a shape of fewer than 2^31 elements.
template <int NOps>
GE_HOST_DEVICE Offsets<NOps> strided_offsets(int i, const StridedShape& shape,
                                             const ShapeDivisors& div,
                                             const Strides (&strides)[NOps]) {
  // Over every possible dim with a guard, unrolled: the indices are constants, so the divisors
  // and strides are read from the kernel's parameters, never copied to local memory.
  Offsets<NOps> out{};
  uint32_t rest = static_cast<uint32_t>(i);
  GE_UNROLL
  for (int d = kMaxDims - 1; d >= 0; --d) {
    if (d >= shape.ndim) continue;
    const uint32_t q = div.by[d].div(rest);
    const int64_t idx = rest - q * div.by[d].divisor;
    rest = q;
    GE_UNROLL
    for (int k = 0; k < NOps; ++k)
      out.v[k] += idx * strides[k].v[d];
  }
  return out;
}

inline void check_shape(const char* op, const StridedShape& shape) {
  GE_CHECK(shape.ndim >= 0 && shape.ndim <= kMaxDims, op, ": expected ndim in [0, ", kMaxDims,
           "], got ", shape.ndim);
  for (int d = 0; d < shape.ndim; ++d) {
    GE_CHECK(shape.shape[d] >= 0, op, ": expected non-negative sizes, got size ", shape.shape[d],
             " at dim ", d);
  }
}

// Row-major contiguous strides of `shape`.
inline Strides contiguous_strides(const StridedShape& shape) {
  Strides s;
  int64_t step = 1;
  for (int d = shape.ndim - 1; d >= 0; --d) {
    s.v[d] = step;
    step *= shape.shape[d];
  }
  return s;
}

// True when `s` addresses `shape` row-major contiguously (strides of size-1 dims don't matter).
inline bool is_contiguous(const StridedShape& shape, const Strides& s) {
  int64_t step = 1;
  for (int d = shape.ndim - 1; d >= 0; --d) {
    if (shape.shape[d] != 1 && s.v[d] != step) return false;
    step *= shape.shape[d];
  }
  return true;
}

// Reorders dims so that operand `key`'s strides decrease (stable), e.g. so that a copy walks
// its destination in memory order; size-1 dims are left for coalesce() to drop.
template <int NOps>
void order_by_strides(StridedShape& shape, Strides (&strides)[NOps], int key) {
  auto magnitude = [](int64_t v) { return v < 0 ? -v : v; };
  for (int d = 1; d < shape.ndim; ++d) {
    for (int e = d; e > 0 && magnitude(strides[key].v[e - 1]) < magnitude(strides[key].v[e]); --e) {
      const int64_t size = shape.shape[e];
      shape.shape[e] = shape.shape[e - 1];
      shape.shape[e - 1] = size;
      for (int k = 0; k < NOps; ++k) {
        const int64_t v = strides[k].v[e];
        strides[k].v[e] = strides[k].v[e - 1];
        strides[k].v[e - 1] = v;
      }
    }
  }
}

// Drops size-1 dims and merges adjacent dims that every operand walks as one, so the index
// arithmetic of the strided paths runs over as few dims as possible. Requires numel() > 0.
template <int NOps>
void coalesce(StridedShape& shape, Strides (&strides)[NOps]) {
  StridedShape out;
  Strides out_strides[NOps];
  for (int d = 0; d < shape.ndim; ++d) {
    const int64_t size = shape.shape[d];
    if (size == 1) continue;
    bool merge = out.ndim > 0;
    for (int k = 0; k < NOps && merge; ++k) {
      merge = strides[k].v[d] * size == out_strides[k].v[out.ndim - 1];
    }
    if (merge) {
      out.shape[out.ndim - 1] *= size;
      for (int k = 0; k < NOps; ++k)
        out_strides[k].v[out.ndim - 1] = strides[k].v[d];
    } else {
      out.shape[out.ndim] = size;
      for (int k = 0; k < NOps; ++k)
        out_strides[k].v[out.ndim] = strides[k].v[d];
      ++out.ndim;
    }
  }
  shape = out;
  for (int k = 0; k < NOps; ++k)
    strides[k] = out_strides[k];
}

}  // namespace ge::kernels

namespace ge::kernels {

// The destination of a copy must not broadcast: two elements written to one place would race.
inline void check_copy_args(const float* src, const float* dst, const Strides& dst_strides,
                            const StridedShape& shape) {
  GE_CHECK(src != nullptr && dst != nullptr, "strided_copy: expected non-null src and dst for ",
           shape.numel(), " elements");
  for (int d = 0; d < shape.ndim; ++d) {
    GE_CHECK(shape.shape[d] == 1 || dst_strides.v[d] != 0,
             "strided_copy: expected a non-zero destination stride at dim ", d, " (size ",
             shape.shape[d], "), got 0");
  }
}

// A validated strided copy with its layout simplified: dims in destination memory order,
// adjacent dims merged. `dense` means one flat memcpy of `numel` floats does it.
struct CopyPlan {
  int64_t numel = 0;
  StridedShape shape;
  Strides strides[2];  // [0] source, [1] destination
  bool dense = false;
};

inline CopyPlan plan_strided_copy(const float* src, const Strides& src_strides, const float* dst,
                                  const Strides& dst_strides, const StridedShape& shape) {
  check_shape("strided_copy", shape);
  CopyPlan plan;
  plan.numel = shape.numel();
  if (plan.numel == 0) return plan;
  check_copy_args(src, dst, dst_strides, shape);
  plan.shape = shape;
  plan.strides[0] = src_strides;
  plan.strides[1] = dst_strides;
  order_by_strides(plan.shape, plan.strides, 1);
  coalesce(plan.shape, plan.strides);
  plan.dense = plan.shape.ndim == 0 ||
               (plan.shape.ndim == 1 && plan.strides[0].v[0] == 1 && plan.strides[1].v[0] == 1);
  return plan;
}

}  // namespace ge::kernels
