// CUDA strided copy: cudaMemcpyAsync when both sides are contiguous, otherwise one thread per
// element in destination order with N-d index decomposition over the coalesced dims (by
// multiply-shift below 2^31 elements).
#include <cstdint>

#include "common/grid.h"
#include "common/strided.h"
#include "cuda/channel_of.cuh"
#include "cuda/launch.cuh"
#include "ganengine/kernels/copy.h"

namespace ge::kernels::cuda {
namespace {

// Narrow: the index counts in int and is decomposed by multiply-shift (div).
template <bool Narrow>
__global__ void strided_copy_kernel(const float* src, Strides ss, float* dst, Strides ds,
                                    StridedShape shape, ShapeDivisors div, int64_t n) {
  const Strides st[2] = {ss, ds};
  if constexpr (Narrow) {
    const int count = static_cast<int>(n), stride = grid_stride<int>();
    for (int i = first_index<int>(); i < count; i += stride) {
      const Offsets<2> off = strided_offsets(i, shape, div, st);
      dst[off.v[1]] = src[off.v[0]];
    }
  } else {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += stride) {
      const Offsets<2> off = strided_offsets(i, shape, st);
      dst[off.v[1]] = src[off.v[0]];
    }
  }
}

}  // namespace

void strided_copy(const float* src, const Strides& src_strides, float* dst,
                  const Strides& dst_strides, const StridedShape& shape, Stream stream) {
  const CopyPlan plan = plan_strided_copy(src, src_strides, dst, dst_strides, shape);
  const int64_t n = plan.numel;
  if (n == 0) return;
  if (plan.dense) {
    GE_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(float),
                                  cudaMemcpyDeviceToDevice, stream));
    return;
  }
  const ShapeDivisors div = shape_divisors(plan.shape);
  if (narrow_index(n)) {
    GE_LAUNCH(strided_copy_kernel<true>, grid_for(n), kBlock, 0, stream, src, plan.strides[0], dst,
              plan.strides[1], plan.shape, div, n);
  } else {
    GE_LAUNCH(strided_copy_kernel<false>, grid_for(n), kBlock, 0, stream, src, plan.strides[0], dst,
              plan.strides[1], plan.shape, div, n);
  }
}

}  // namespace ge::kernels::cuda
