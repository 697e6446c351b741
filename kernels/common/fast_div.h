#pragma once
// The one fast-division helper of the CUDA kernels: per-element index math (channel of a flat
// index, pixel of a GEMM column) divides by sizes fixed for a launch, and a 64-bit integer
// division is a long instruction sequence on a GPU.
#include <cstdint>

#include "common/macros.h"

namespace ge::kernels {

// Unsigned division by a runtime-constant divisor through a multiply-high and a shift (the
// round-up method of Granlund and Montgomery): exact for n < 2^31 and 1 <= d < 2^31. Integer
// division is a long instruction sequence on a GPU; the gathers divide per element.
struct FastDiv {
  uint32_t divisor = 1;
  uint32_t mul = 1;
  uint32_t shift = 0;

  FastDiv() = default;
  GE_HOST_DEVICE explicit FastDiv(uint32_t d) : divisor(d) {
    while (shift < 32 && (uint64_t{1} << shift) < d)
      ++shift;
    mul = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - d)) / d + 1);
  }

  GE_HOST_DEVICE uint32_t div(uint32_t n) const {
#if defined(__CUDA_ARCH__)
    const uint32_t hi = __umulhi(n, mul);
#else
    const uint32_t hi = static_cast<uint32_t>((uint64_t{n} * mul) >> 32);
#endif
    return (hi + n) >> shift;
  }
  // n % divisor.
  GE_HOST_DEVICE uint32_t mod(uint32_t n) const {
    return n - div(n) * divisor;
  }
  // q = n / divisor, r = n % divisor, for int operands in [0, 2^31).
  GE_HOST_DEVICE void divmod(int n, int& q, int& r) const {
    q = static_cast<int>(div(static_cast<uint32_t>(n)));
    r = n - q * static_cast<int>(divisor);
  }
};

}  // namespace ge::kernels
