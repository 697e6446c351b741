#pragma once
// The clamp and EMA loops, written once and compiled per instruction set: optim.cpp includes
// them for the baseline, optim_avx512.cpp inside an AVX-512 region (Adam's and RMSprop's
// baseline loops are optim.cpp's own; their AVX-512 ones are intrinsics). The buffers of
// one tensor never overlap, which lets each loop vectorize. Internal linkage: no copy compiled
// for one set can stand in for another's at link time.
#include <cstdint>

#include "common/optim.h"

namespace ge::kernels::cpu {
namespace {

// Each loop runs blocks of 16 fixed-width iterations, which -O2 vectorizes whole, then the tail.
constexpr int64_t kVectorBlock = 16;

void clamp_loop(float lo, float hi, float* __restrict x, int64_t n) {
  int64_t i = 0;
  for (; i + kVectorBlock <= n; i += kVectorBlock)
    for (int64_t u = 0; u < kVectorBlock; ++u)
      x[i + u] = clamp_update(x[i + u], lo, hi);
  for (; i < n; ++i)
    x[i] = clamp_update(x[i], lo, hi);
}

void ema_loop(float decay, float* __restrict avg, const float* __restrict src, int64_t n) {
  int64_t i = 0;
  for (; i + kVectorBlock <= n; i += kVectorBlock)
    for (int64_t u = 0; u < kVectorBlock; ++u)
      avg[i + u] = ema_update(avg[i + u], src[i + u], decay);
  for (; i < n; ++i)
    avg[i] = ema_update(avg[i], src[i], decay);
}

}  // namespace

// The AVX-512 instances (optim_avx512.cpp).
void adam_loop_avx512(const AdamScalars& s, float* param, const float* grad, float* m, float* v,
                      int64_t n);
void rmsprop_loop_avx512(const RmspropParams& p, float* param, const float* grad, float* v,
                         int64_t n);
void clamp_loop_avx512(float lo, float hi, float* x, int64_t n);
void ema_loop_avx512(float decay, float* avg, const float* src, int64_t n);

}  // namespace ge::kernels::cpu
