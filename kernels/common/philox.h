#pragma once
// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and the
// float transforms of random.h. The CPU loops and CUDA kernels share this code, so both devices
// draw the same bits; only the float transforms may differ by an ulp or two on a real GPU.
#include <cmath>
#include <cstdint>

#include "common/macros.h"

namespace ge::kernels {

struct Philox4 {
  uint32_t v[4];
};

GE_HOST_DEVICE Philox4 philox4x32_10(Philox4 ctr, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kMul0) * ctr.v[0];
    const uint64_t p1 = static_cast<uint64_t>(kMul1) * ctr.v[2];
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    ctr = Philox4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return ctr;
}

// The four words for elements [4 * g, 4 * g + 4) of a call at `offset`: counter offset + g.
GE_HOST_DEVICE Philox4 philox_block(uint64_t seed, uint64_t offset, uint64_t g) {
  const uint64_t c = offset + g;
  return philox4x32_10(Philox4{{static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), 0u, 0u}},
                       static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// [0, 1) from the top 24 bits: every value is exact in float.
GE_HOST_DEVICE float uniform01(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.f / 16777216.f);
}

// (0, 1]: the argument of Box-Muller's log never is 0.
GE_HOST_DEVICE float uniform01_open_low(uint32_t bits) {
  return static_cast<float>((bits >> 8) + 1u) * (1.f / 16777216.f);
}

// lo + (hi - lo) * u can round up to hi; that case maps to the largest float below hi.
GE_HOST_DEVICE float uniform_transform(uint32_t bits, float lo, float hi) {
  const float v = lo + (hi - lo) * uniform01(bits);
  return (v < hi || lo == hi) ? v : nextafterf(hi, lo);
}

// Box-Muller on the word pair (w[2j], w[2j+1]) gives elements 2j and 2j+1 of the block.
GE_HOST_DEVICE void box_muller(uint32_t b0, uint32_t b1, float mean, float stddev, float* out0,
                               float* out1) {
  constexpr float kTwoPi = 6.2831853071795864769f;
  const float radius = sqrtf(-2.f * logf(uniform01_open_low(b0)));
  const float theta = kTwoPi * uniform01(b1);
  *out0 = mean + stddev * (radius * cosf(theta));
  *out1 = mean + stddev * (radius * sinf(theta));
}

}  // namespace ge::kernels
