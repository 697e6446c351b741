// CUDA Philox fills: one thread per counter block of four values, a float4 store when the
// output is 16-byte aligned.
#include <cstdint>

#include "common/grid.h"
#include "common/random.h"
#include "cuda/launch.cuh"
#include "ganengine/kernels/random.h"

namespace ge::kernels::cuda {
namespace {

template <Distribution D>
__global__ void random_kernel(float* y, int64_t n, uint64_t seed, uint64_t offset, float p0,
                              float p1, bool aligned) {
  const int64_t blocks = (n + 3) / 4;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < blocks;
       g += stride) {
    float v[4];
    random_block<D>(seed, offset, static_cast<uint64_t>(g), p0, p1, v);
    const int64_t base = 4 * g;
    if (aligned && base + 4 <= n) {
      reinterpret_cast<float4*>(y)[g] = make_float4(v[0], v[1], v[2], v[3]);
    } else {
      for (int64_t k = 0; k < 4 && base + k < n; ++k)
        y[base + k] = v[k];
    }
  }
}

template <Distribution D>
void launch_fill(float* y, int64_t n, uint64_t seed, uint64_t offset, float p0, float p1,
                 Stream stream) {
  if (n == 0) return;
  const bool aligned = reinterpret_cast<uintptr_t>(y) % 16 == 0;
  GE_LAUNCH((random_kernel<D>), grid_for((n + 3) / 4), kBlock, 0, stream, y, n, seed, offset, p0,
            p1, aligned);
}

}  // namespace

void uniform(float* y, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi,
             Stream stream) {
  check_uniform_args(y, n, lo, hi);
  launch_fill<Distribution::Uniform>(y, n, seed, offset, lo, hi, stream);
}

void normal(float* y, int64_t n, uint64_t seed, uint64_t offset, float mean, float stddev,
            Stream stream) {
  check_normal_args(y, n, mean, stddev);
  launch_fill<Distribution::Normal>(y, n, seed, offset, mean, stddev, stream);
}

}  // namespace ge::kernels::cuda
