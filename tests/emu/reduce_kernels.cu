#include "reduce_kernels.h"

#include "cuda/launch.cuh"
#include "test_support.h"

namespace ge::emu_test {
namespace {

template <Barriers kBarriers>
__device__ __forceinline__ void block_barrier() {
  if constexpr (kBarriers == Barriers::present) __syncthreads();
}

template <Barriers kBarriers>
__global__ void block_sum_kernel(const float* x, int n, float* out) {
  GE_DYNAMIC_SHARED(float, partial);
  const unsigned tid = threadIdx.x;
  float sum = 0.0f;
  for (int i = static_cast<int>(tid); i < n; i += blockDim.x)
    sum += x[i];
  partial[tid] = sum;
  block_barrier<kBarriers>();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (tid < stride) partial[tid] += partial[tid + stride];
    block_barrier<kBarriers>();
  }
  if (tid == 0) *out = partial[0];
}

__device__ float warp_reduce(float v) {
  for (int offset = warpSize / 2; offset > 0; offset /= 2)
    v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

__global__ void warp_sum_kernel(const float* x, int n, float* out) {
  GE_STATIC_SHARED(float, per_warp, [32]);
  const unsigned tid = threadIdx.x;
  float sum = 0.0f;
  for (int i = static_cast<int>(tid); i < n; i += blockDim.x)
    sum += x[i];
  sum = warp_reduce(sum);
  if (tid % warpSize == 0) per_warp[tid / warpSize] = sum;
  __syncthreads();
  if (tid < warpSize) {
    const unsigned warps = blockDim.x / warpSize;
    float v = tid < warps ? per_warp[tid] : 0.0f;
    for (int mask = warpSize / 2; mask > 0; mask /= 2)
      v += __shfl_xor_sync(0xffffffffu, v, mask);
    if (tid == 0) *out = v;
  }
}

}  // namespace

float block_sum(const std::vector<float>& values, unsigned threads, Barriers barriers) {
  const DeviceVector<float> x(values);
  const DeviceVector<float> out(1);
  const int n = static_cast<int>(values.size());
  if (barriers == Barriers::present) {
    GE_LAUNCH(block_sum_kernel<Barriers::present>, dim3(1), dim3(threads), threads * sizeof(float),
              nullptr, x.data(), n, out.data());
  } else {
    GE_LAUNCH(block_sum_kernel<Barriers::missing>, dim3(1), dim3(threads), threads * sizeof(float),
              nullptr, x.data(), n, out.data());
  }
  return out.get()[0];
}

float warp_sum(const std::vector<float>& values, unsigned threads) {
  const DeviceVector<float> x(values);
  const DeviceVector<float> out(1);
  GE_LAUNCH(warp_sum_kernel, dim3(1), dim3(threads), 0, nullptr, x.data(),
            static_cast<int>(values.size()), out.data());
  return out.get()[0];
}

}  // namespace ge::emu_test
