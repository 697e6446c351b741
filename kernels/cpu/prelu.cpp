// CPU prelu: the flat buffer is cut into chunks spread over the threads; inside a chunk the work
// runs in stretches that share one slope (a row of `inner` elements), so the inner loop is a
// plain select the compiler vectorizes.
#include "common/prelu.h"

#include <algorithm>
#include <cstdint>

#include "cpu/parallel.h"
#include "ganengine/kernels/prelu.h"

namespace ge::kernels {

const char* name(PreluMode mode) {
  switch (mode) {
    case PreluMode::Forward:
      return "forward";
    case PreluMode::Backward:
      return "backward";
    case PreluMode::WeightTerms:
      return "weight_terms";
    case PreluMode::NegativeMask:
      return "negative_mask";
  }
  return "unknown_prelu_mode";
}

namespace cpu {

namespace {

constexpr int64_t kChunk = 1 << 14;

template <PreluMode M>
void run(const PreluArgs& a) {
  const int64_t chunks = (a.n + kChunk - 1) / kChunk;
  parallel_for(chunks, a.n >= kParallelGrain, [&](int64_t b) {
    int64_t i = b * kChunk;
    const int64_t end = std::min(a.n, i + kChunk);
    while (i < end) {
      const int64_t row = i / a.inner;
      const int64_t stop = std::min(end, (row + 1) * a.inner);
      const float w = prelu_reads_weight(M) ? a.weight[row % a.channels] : 0.f;
      const float* v = M == PreluMode::Forward ? a.x : a.g;
      for (; i < stop; ++i)
        a.out[i] = prelu_apply<M>(v[i], a.x[i], w);
    }
  });
}

}  // namespace

void prelu(PreluMode mode, const PreluArgs& a) {
  prelu_check(mode, a);
  if (a.n == 0) return;
  dispatch_prelu(mode, [&]<PreluMode M>() { run<M>(a); });
}

}  // namespace cpu
}  // namespace ge::kernels
