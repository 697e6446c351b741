#pragma once
// Multi-tensor optimizer updates, float32, contiguous buffers: a whole list of tensors per call.
//   adam  PyTorch's Adam/AdamW step for every (param, grad, exp_avg, exp_avg_sq) in the list:
//           g  = grad + weight_decay * param                 (L2, when not decoupled)
//           param *= 1 - lr * weight_decay                   (AdamW, when decoupled)
//           m  = beta1 * m + (1 - beta1) * g
//           v  = beta2 * v + (1 - beta2) * g * g
//           param -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
//   rmsprop  PyTorch's RMSprop step (momentum 0, not centered: the WGAN critic's optimizer)
//           for every (param, grad, square_avg) in the list:
//           g  = grad + weight_decay * param
//           square_avg = alpha * square_avg + (1 - alpha) * g * g
//           param -= lr * g / (sqrt(square_avg) + eps)
//   clamp  param = min(max(param, lo), hi) for every param in the list (WGAN's weight clipping).
//   ema   average = source + decay * (average - source) for every pair in the list.
// The CUDA launchers cover the list in as few launches as the kernel-parameter table allows
// (kAdamTensorsPerLaunch / kEmaTensorsPerLaunch tensors each), all on one stream.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

// The hyper-parameters of one step. step is 1-based.
struct AdamParams {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.f;
  bool decoupled_weight_decay = false;
  int64_t step = 1;
};

// One parameter and its state, n elements each. grad is read only.
struct AdamTensor {
  float* param = nullptr;
  const float* grad = nullptr;
  float* exp_avg = nullptr;
  float* exp_avg_sq = nullptr;
  int64_t n = 0;
};

struct RmspropParams {
  float lr = 1e-2f;
  float alpha = 0.99f;
  float eps = 1e-8f;
  float weight_decay = 0.f;
};

// One parameter and its running mean of squared gradients, n elements each. grad is read only.
struct RmspropTensor {
  float* param = nullptr;
  const float* grad = nullptr;
  float* square_avg = nullptr;
  int64_t n = 0;
};

// n elements updated in place.
struct InPlaceTensor {
  float* data = nullptr;
  int64_t n = 0;
};

struct EmaTensor {
  float* average = nullptr;
  const float* source = nullptr;
  int64_t n = 0;
};

inline constexpr int kAdamTensorsPerLaunch = 56;
inline constexpr int kRmspropTensorsPerLaunch = 72;
inline constexpr int kClampTensorsPerLaunch = 96;
inline constexpr int kEmaTensorsPerLaunch = 96;

namespace cpu {
void adam(const AdamParams& p, const AdamTensor* tensors, int64_t count);
void rmsprop(const RmspropParams& p, const RmspropTensor* tensors, int64_t count);
void clamp(float lo, float hi, const InPlaceTensor* tensors, int64_t count);
void ema(float decay, const EmaTensor* tensors, int64_t count);
}  // namespace cpu
namespace cuda {
GE_CUDA_LAUNCHER void adam(const AdamParams& p, const AdamTensor* tensors, int64_t count,
                           Stream stream);
GE_CUDA_LAUNCHER void rmsprop(const RmspropParams& p, const RmspropTensor* tensors, int64_t count,
                              Stream stream);
GE_CUDA_LAUNCHER void clamp(float lo, float hi, const InPlaceTensor* tensors, int64_t count,
                            Stream stream);
GE_CUDA_LAUNCHER void ema(float decay, const EmaTensor* tensors, int64_t count, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
