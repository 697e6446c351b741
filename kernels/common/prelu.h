#pragma once
// PReLU's per-element math and argument checks, shared by the CPU loops and the CUDA kernels.
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/prelu.h"

namespace ge::kernels {

// v is x in Forward and g otherwise; w is the element's slope (read in Forward and Backward).
template <PreluMode M>
GE_HOST_DEVICE float prelu_apply(float v, float x, float w) {
  if constexpr (M == PreluMode::Forward) {
    return x > 0.f ? x : w * x;
  } else if constexpr (M == PreluMode::Backward) {
    return x > 0.f ? v : w * v;
  } else if constexpr (M == PreluMode::WeightTerms) {
    return x > 0.f ? 0.f : v * x;
  } else {
    return x > 0.f ? 0.f : v;
  }
}

constexpr bool prelu_reads_weight(PreluMode m) {
  return m == PreluMode::Forward || m == PreluMode::Backward;
}

// f.template operator()<M>() with the mode as a compile-time constant.
template <typename F>
void dispatch_prelu(PreluMode mode, F&& f) {
  switch (mode) {
    case PreluMode::Forward:
      return f.template operator()<PreluMode::Forward>();
    case PreluMode::Backward:
      return f.template operator()<PreluMode::Backward>();
    case PreluMode::WeightTerms:
      return f.template operator()<PreluMode::WeightTerms>();
    case PreluMode::NegativeMask:
      return f.template operator()<PreluMode::NegativeMask>();
  }
}

inline void prelu_check(PreluMode mode, const PreluArgs& a) {
  const int m = static_cast<int>(mode);
  GE_CHECK(m >= 0 && m <= static_cast<int>(PreluMode::NegativeMask),
           "prelu: expected a PreluMode, got ", m);
  GE_CHECK(a.n >= 0 && a.channels >= 1 && a.inner >= 1, "prelu_", name(mode),
           ": expected n >= 0, channels >= 1, inner >= 1, got n ", a.n, ", channels ", a.channels,
           ", inner ", a.inner);
  if (a.n == 0) return;
  GE_CHECK(a.x != nullptr && a.out != nullptr, "prelu_", name(mode),
           ": expected non-null x and out for ", a.n, " elements");
  GE_CHECK(mode == PreluMode::Forward || a.g != nullptr, "prelu_", name(mode),
           ": expected a non-null g");
  GE_CHECK(!prelu_reads_weight(mode) || a.weight != nullptr, "prelu_", name(mode),
           ": expected a non-null weight of ", a.channels, " slopes");
}

}  // namespace ge::kernels
