// CPU Adam, RMSprop, clamp and EMA: per tensor, blocks of its elements over the team, each
// block one flat loop over the shared element math (optim_loops.h), AVX-512 where the CPU has
// it.
#include "common/optim.h"

#include <algorithm>

#include "cpu/cpu_isa.h"
#include "cpu/optim_loops.h"
#include "cpu/parallel.h"
#include "ganengine/kernels/optim.h"

namespace ge::kernels::cpu {
namespace {

// The portable Adam and RMSprop loops (optim_avx512.cpp has the AVX-512 ones).
void adam_loop(const AdamScalars& scalars, float* __restrict param, const float* __restrict grad,
               float* __restrict m, float* __restrict v, int64_t n) {
  const AdamScalars s = scalars;  // a local: no store through param can change it
  int64_t i = 0;
  for (; i + kVectorBlock <= n; i += kVectorBlock)
    for (int64_t u = 0; u < kVectorBlock; ++u)
      adam_update(s, param[i + u], m[i + u], v[i + u], grad[i + u]);
  for (; i < n; ++i)
    adam_update(s, param[i], m[i], v[i], grad[i]);
}

void rmsprop_loop(const RmspropParams& params, float* __restrict param,
                  const float* __restrict grad, float* __restrict v, int64_t n) {
  const RmspropParams p = params;
  int64_t i = 0;
  for (; i + kVectorBlock <= n; i += kVectorBlock)
    for (int64_t u = 0; u < kVectorBlock; ++u)
      rmsprop_update(p, param[i + u], v[i + u], grad[i + u]);
  for (; i < n; ++i)
    rmsprop_update(p, param[i], v[i], grad[i]);
}

// Elements a block; tensors smaller than kParallelGrain stay on the calling thread.
constexpr int64_t kBlock = int64_t{1} << 14;

// f(begin, count) over blocks of [0, n).
template <typename F>
void for_blocks(int64_t n, F&& f) {
  parallel_for((n + kBlock - 1) / kBlock, n >= kParallelGrain, [&](int64_t b) {
    const int64_t begin = b * kBlock;
    f(begin, std::min(kBlock, n - begin));
  });
}

bool avx512() {
  return active_isa() == CpuIsa::avx512;
}

}  // namespace

void adam(const AdamParams& p, const AdamTensor* tensors, int64_t count) {
  adam_check(p, tensors, count);
  const AdamScalars s = adam_scalars(p);
  const auto loop = avx512() ? adam_loop_avx512 : adam_loop;
  for (int64_t t = 0; t < count; ++t) {
    const AdamTensor& a = tensors[t];
    for_blocks(a.n, [&](int64_t i, int64_t n) {
      loop(s, a.param + i, a.grad + i, a.exp_avg + i, a.exp_avg_sq + i, n);
    });
  }
}

void rmsprop(const RmspropParams& p, const RmspropTensor* tensors, int64_t count) {
  rmsprop_check(p, tensors, count);
  const auto loop = avx512() ? rmsprop_loop_avx512 : rmsprop_loop;
  for (int64_t t = 0; t < count; ++t) {
    const RmspropTensor& a = tensors[t];
    for_blocks(
        a.n, [&](int64_t i, int64_t n) { loop(p, a.param + i, a.grad + i, a.square_avg + i, n); });
  }
}

void clamp(float lo, float hi, const InPlaceTensor* tensors, int64_t count) {
  clamp_check(lo, hi, tensors, count);
  const auto loop = avx512() ? clamp_loop_avx512 : clamp_loop;
  for (int64_t t = 0; t < count; ++t) {
    for_blocks(tensors[t].n, [&](int64_t i, int64_t n) { loop(lo, hi, tensors[t].data + i, n); });
  }
}

void ema(float decay, const EmaTensor* tensors, int64_t count) {
  ema_check(decay, tensors, count);
  const auto loop = avx512() ? ema_loop_avx512 : ema_loop;
  for (int64_t t = 0; t < count; ++t) {
    const EmaTensor& e = tensors[t];
    for_blocks(e.n, [&](int64_t i, int64_t n) { loop(decay, e.average + i, e.source + i, n); });
  }
}

}  // namespace ge::kernels::cpu
