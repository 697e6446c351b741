// CUDA unary and broadcasting binary ops. Contiguous operands that share their alignment mod 16
// bytes go through float4 loads and stores (a scalar head up to the first aligned element and a
// scalar tail); everything else through a grid-stride loop, strided operands through N-d index
// decomposition over coalesced dims.
#include <cstdint>

#include "common/elementwise.h"
#include "common/grid.h"
#include "common/strided.h"
#include "cuda/channel_of.cuh"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/elementwise.h"

namespace ge::kernels::cuda {
namespace {

template <UnaryOp Op>
__device__ __forceinline__ float4 unary4(float4 v, UnaryParams p) {
  return make_float4(unary_apply<Op>(v.x, p), unary_apply<Op>(v.y, p), unary_apply<Op>(v.z, p),
                     unary_apply<Op>(v.w, p));
}

template <UnaryOp Op>
__device__ __forceinline__ float load_x(const float* x, int64_t i) {
  if constexpr (Op == UnaryOp::Fill) {
    return 0.f;  // x may be null
  } else {
    return x[i];
  }
}

// Vec: [head, head + 4 * nvec) is processed as float4 and the rest (at most 3 + 3 elements) by
// the first threads of the grid.
template <UnaryOp Op, bool Vec>
__global__ void unary_kernel(const float* x, float* y, int64_t n, int64_t head, UnaryParams p) {
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  if constexpr (Vec) {
    const int64_t nvec = (n - head) / 4;
    float4* yv = reinterpret_cast<float4*>(y + head);
    for (int64_t i = tid; i < nvec; i += stride) {
      float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
      if constexpr (Op != UnaryOp::Fill) v = reinterpret_cast<const float4*>(x + head)[i];
      yv[i] = unary4<Op>(v, p);
    }
    const int64_t tail = head + 4 * nvec;
    if (tid < head) y[tid] = unary_apply<Op>(load_x<Op>(x, tid), p);
    if (tid < n - tail) y[tail + tid] = unary_apply<Op>(load_x<Op>(x, tail + tid), p);
  } else {
    for (int64_t i = tid; i < n; i += stride)
      y[i] = unary_apply<Op>(load_x<Op>(x, i), p);
  }
}

template <BinaryOp Op, bool Vec>
__global__ void binary_contiguous_kernel(const float* a, const float* b, float* out, int64_t n,
                                         int64_t head) {
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  if constexpr (Vec) {
    const int64_t nvec = (n - head) / 4;
    const float4* av = reinterpret_cast<const float4*>(a + head);
    const float4* bv = reinterpret_cast<const float4*>(b + head);
    float4* ov = reinterpret_cast<float4*>(out + head);
    for (int64_t i = tid; i < nvec; i += stride) {
      const float4 u = av[i], v = bv[i];
      ov[i] = make_float4(binary_apply<Op>(u.x, v.x), binary_apply<Op>(u.y, v.y),
                          binary_apply<Op>(u.z, v.z), binary_apply<Op>(u.w, v.w));
    }
    const int64_t tail = head + 4 * nvec;
    if (tid < head) out[tid] = binary_apply<Op>(a[tid], b[tid]);
    if (tid < n - tail) out[tail + tid] = binary_apply<Op>(a[tail + tid], b[tail + tid]);
  } else {
    for (int64_t i = tid; i < n; i += stride)
      out[i] = binary_apply<Op>(a[i], b[i]);
  }
}

// out is contiguous, so consecutive threads write consecutive elements. Narrow: the index counts
// in int and is decomposed by multiply-shift (div).
template <BinaryOp Op, bool Narrow>
__global__ void binary_strided_kernel(const float* a, Strides as, const float* b, Strides bs,
                                      float* out, StridedShape shape, ShapeDivisors div,
                                      int64_t n) {
  const Strides st[2] = {as, bs};
  if constexpr (Narrow) {
    const int count = static_cast<int>(n), stride = grid_stride<int>();
    for (int i = first_index<int>(); i < count; i += stride) {
      const Offsets<2> off = strided_offsets(i, shape, div, st);
      out[i] = binary_apply<Op>(a[off.v[0]], b[off.v[1]]);
    }
  } else {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += stride) {
      const Offsets<2> off = strided_offsets(i, shape, st);
      out[i] = binary_apply<Op>(a[off.v[0]], b[off.v[1]]);
    }
  }
}

}  // namespace

void unary(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n, Stream stream) {
  GE_CHECK(n >= 0, "unary(", name(op), "): expected n >= 0, got ", n);
  if (n == 0) return;
  GE_CHECK(y != nullptr, "unary(", name(op), "): expected a non-null output for n = ", n);
  GE_CHECK(x != nullptr || op == UnaryOp::Fill, "unary(", name(op),
           "): expected a non-null input for n = ", n);
  const int64_t head = misalignment(y);
  const bool vec = n >= head + 4 && (op == UnaryOp::Fill || misalignment(x) == head);
  dispatch_unary(op, [&]<UnaryOp Op>() {
    if (vec) {
      GE_LAUNCH((unary_kernel<Op, true>), grid_for((n - head) / 4), kBlock, 0, stream, x, y, n,
                head, p);
    } else {
      GE_LAUNCH((unary_kernel<Op, false>), grid_for(n), kBlock, 0, stream, x, y, n, head, p);
    }
  });
}

void binary(BinaryOp op, const float* a, const Strides& a_strides, const float* b,
            const Strides& b_strides, float* out, const StridedShape& shape, Stream stream) {
  check_shape(name(op), shape);
  const int64_t n = shape.numel();
  if (n == 0) return;
  GE_CHECK(a != nullptr && b != nullptr && out != nullptr, "binary(", name(op),
           "): expected non-null a, b and out for ", n, " elements");
  StridedShape s = shape;
  Strides st[3] = {a_strides, b_strides, contiguous_strides(shape)};
  coalesce(s, st);
  const bool contiguous = s.ndim == 0 || (s.ndim == 1 && st[0].v[0] == 1 && st[1].v[0] == 1);
  const int64_t head = misalignment(out);
  const bool vec =
      contiguous && n >= head + 4 && misalignment(a) == head && misalignment(b) == head;
  dispatch_binary(op, [&]<BinaryOp Op>() {
    if (vec) {
      GE_LAUNCH((binary_contiguous_kernel<Op, true>), grid_for((n - head) / 4), kBlock, 0, stream,
                a, b, out, n, head);
    } else if (contiguous) {
      GE_LAUNCH((binary_contiguous_kernel<Op, false>), grid_for(n), kBlock, 0, stream, a, b, out, n,
                head);
    } else if (narrow_index(n)) {
      GE_LAUNCH((binary_strided_kernel<Op, true>), grid_for(n), kBlock, 0, stream, a, st[0], b,
                st[1], out, s, shape_divisors(s), n);
    } else {
      GE_LAUNCH((binary_strided_kernel<Op, false>), grid_for(n), kBlock, 0, stream, a, st[0], b,
                st[1], out, s, shape_divisors(s), n);
    }
  });
}

}  // namespace ge::kernels::cuda
