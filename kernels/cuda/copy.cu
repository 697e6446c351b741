// CUDA strided copy: cudaMemcpyAsync when both sides are contiguous, otherwise one thread per
// element in destination order with N-d index decomposition over the coalesced dims.
#include <cstdint>

#include "common/grid.h"
#include "common/strided.h"
#include "cuda/launch.cuh"
#include "ganengine/kernels/copy.h"

namespace ge::kernels::cuda {
namespace {

__global__ void strided_copy_kernel(const float* src, Strides ss, float* dst, Strides ds,
                                    StridedShape shape, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const Strides st[2] = {ss, ds};
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const Offsets<2> off = strided_offsets(i, shape, st);
    dst[off.v[1]] = src[off.v[0]];
  }
}

}  // namespace

void strided_copy(const float* src, const Strides& src_strides, float* dst,
                  const Strides& dst_strides, const StridedShape& shape, Stream stream) {
  check_shape("strided_copy", shape);
  const int64_t n = shape.numel();
  if (n == 0) return;
  check_copy_args(src, dst, dst_strides, shape);
  StridedShape s = shape;
  Strides st[2] = {src_strides, dst_strides};
  order_by_strides(s, st, 1);
  coalesce(s, st);
  if (s.ndim == 0 || (s.ndim == 1 && st[0].v[0] == 1 && st[1].v[0] == 1)) {
    GE_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(float),
                                  cudaMemcpyDeviceToDevice, stream));
    return;
  }
  GE_LAUNCH(strided_copy_kernel, grid_for(n), kBlock, 0, stream, src, st[0], dst, st[1], s, n);
}

}  // namespace ge::kernels::cuda
