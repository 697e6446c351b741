#pragma once
// minibatch_stddev's per-column math and argument checks, shared by the CPU loops and the CUDA
// kernels. A column is one (slot m, channel c, position p): the G values x[g * M + m, c, p].
#include <cmath>
#include <cstdint>
#include <initializer_list>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/minibatch_stddev.h"

namespace ge::kernels {

struct ColumnStats {
  float mean;
  float stddev;  // sqrt(biased variance + 1e-8)
};

// Two passes over the column (its G values are few and cached), so no cancellation.
GE_HOST_DEVICE ColumnStats minibatch_column(const float* x, int64_t stride, int64_t group) {
  float sum = 0.f;
  for (int64_t g = 0; g < group; ++g)
    sum += x[g * stride];
  const float mean = sum / static_cast<float>(group);
  float sq = 0.f;
  for (int64_t g = 0; g < group; ++g) {
    const float d = x[g * stride] - mean;
    sq += d * d;
  }
  return {mean, sqrtf(sq / static_cast<float>(group) + kMinibatchStdEps)};
}

// Offset of x[n, c, p] in the [N, C, HW] input.
GE_HOST_DEVICE int64_t minibatch_at(const MinibatchStdShape& s, int64_t n, int64_t c, int64_t p) {
  return (n * s.c + c) * s.hw + p;
}

inline void minibatch_stddev_check(const char* fn, const MinibatchStdShape& s,
                                   std::initializer_list<const void*> buffers) {
  GE_CHECK(s.n >= 0 && s.c >= 0 && s.hw >= 0, fn, ": expected non-negative sizes, got [", s.n, ", ",
           s.c, ", ", s.hw, "]");
  GE_CHECK(s.group >= 1 && s.n % s.group == 0, fn,
           ": expected a group size G >= 1 dividing N = ", s.n, ", got ", s.group);
  GE_CHECK(s.channels >= 1 && s.c % s.channels == 0, fn,
           ": expected a channel count F >= 1 dividing C = ", s.c, ", got ", s.channels);
  if (s.n * s.out_channels() * s.hw == 0) return;
  for (const void* b : buffers)
    GE_CHECK(b != nullptr, fn, ": expected non-null buffers for shape [", s.n, ", ", s.c, ", ",
             s.hw, "]");
}

}  // namespace ge::kernels
