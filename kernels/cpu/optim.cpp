// CPU Adam, RMSprop, clamp and EMA: one flat loop per tensor over the shared element math.
#include "common/optim.h"

#include "ganengine/kernels/optim.h"

namespace ge::kernels::cpu {

void adam(const AdamParams& p, const AdamTensor* tensors, int64_t count) {
  adam_check(p, tensors, count);
  const AdamScalars s = adam_scalars(p);
  for (int64_t t = 0; t < count; ++t) {
    const AdamTensor& a = tensors[t];
    // Restrict: the four buffers of one tensor never overlap, which lets the loop vectorize.
    float* __restrict__ param = a.param;
    const float* __restrict__ grad = a.grad;
    float* __restrict__ m = a.exp_avg;
    float* __restrict__ v = a.exp_avg_sq;
    for (int64_t i = 0; i < a.n; ++i)
      adam_update(s, param[i], m[i], v[i], grad[i]);
  }
}

void rmsprop(const RmspropParams& p, const RmspropTensor* tensors, int64_t count) {
  rmsprop_check(p, tensors, count);
  for (int64_t t = 0; t < count; ++t) {
    const RmspropTensor& a = tensors[t];
    float* __restrict__ param = a.param;
    const float* __restrict__ grad = a.grad;
    float* __restrict__ v = a.square_avg;
    for (int64_t i = 0; i < a.n; ++i)
      rmsprop_update(p, param[i], v[i], grad[i]);
  }
}

void clamp(float lo, float hi, const InPlaceTensor* tensors, int64_t count) {
  clamp_check(lo, hi, tensors, count);
  for (int64_t t = 0; t < count; ++t) {
    float* __restrict__ x = tensors[t].data;
    for (int64_t i = 0; i < tensors[t].n; ++i)
      x[i] = clamp_update(x[i], lo, hi);
  }
}

void ema(float decay, const EmaTensor* tensors, int64_t count) {
  ema_check(decay, tensors, count);
  for (int64_t t = 0; t < count; ++t) {
    float* __restrict__ avg = tensors[t].average;
    const float* __restrict__ src = tensors[t].source;
    for (int64_t i = 0; i < tensors[t].n; ++i)
      avg[i] = ema_update(avg[i], src[i], decay);
  }
}

}  // namespace ge::kernels::cpu
