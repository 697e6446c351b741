// CPU Philox fills: one counter block of four values at a time.
#include "common/random.h"

#include "ganengine/kernels/random.h"

namespace ge::kernels::cpu {
namespace {

template <Distribution D>
void fill(float* y, int64_t n, uint64_t seed, uint64_t offset, float p0, float p1) {
  const int64_t blocks = static_cast<int64_t>(philox_offset_increment(n));
  for (int64_t g = 0; g < blocks; ++g) {
    float v[4];
    random_block<D>(seed, offset, static_cast<uint64_t>(g), p0, p1, v);
    const int64_t base = 4 * g;
    for (int64_t k = 0; k < 4 && base + k < n; ++k)
      y[base + k] = v[k];
  }
}

}  // namespace

void uniform(float* y, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
  check_uniform_args(y, n, lo, hi);
  fill<Distribution::Uniform>(y, n, seed, offset, lo, hi);
}

void normal(float* y, int64_t n, uint64_t seed, uint64_t offset, float mean, float stddev) {
  check_normal_args(y, n, mean, stddev);
  fill<Distribution::Normal>(y, n, seed, offset, mean, stddev);
}

}  // namespace ge::kernels::cpu
