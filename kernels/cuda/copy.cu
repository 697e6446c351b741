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
  const CopyPlan plan = plan_strided_copy(src, src_strides, dst, dst_strides, shape);
  const int64_t n = plan.numel;
  if (n == 0) return;
  if (plan.dense) {
    GE_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(float),
                                  cudaMemcpyDeviceToDevice, stream));
    return;
  }
  GE_LAUNCH(strided_copy_kernel, grid_for(n), kBlock, 0, stream, src, plan.strides[0], dst,
            plan.strides[1], plan.shape, n);
}

}  // namespace ge::kernels::cuda
