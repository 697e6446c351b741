#pragma once
// Batch normalisation of a contiguous float32 [N, C, HW] tensor, per channel c over its
// M = N * HW values (PyTorch's F.batch_norm on [N, C, H, W]):
//   batch_norm_stats            mean[c], invstd[c] = 1 / sqrt(biased var + eps); when given,
//                               running = (1 - momentum) * running + momentum * stat, with the
//                               unbiased variance M / (M - 1) * var for running_var.
//   batch_norm_forward          y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]
//   batch_norm_backward_reduce  sum_dy[c] = sum dy,  sum_dy_xhat[c] = sum dy * xhat,
//                               xhat = (x - mean[c]) * invstd[c]
//   batch_norm_backward_input   dx = weight[c] * invstd[c] * (dy - sum_dy[c] / M
//                                    - xhat * sum_dy_xhat[c] / M)
// A null weight reads as 1 and a null bias as 0. Every per-channel sum has a fixed combine
// order, so results are bitwise reproducible on a device. On CUDA a channel's values may be cut
// into slices reduced by separate blocks (batch_norm_splits, from the shape and the device's SM
// count), whose partials go to a workspace of batch_norm_workspace(s) floats.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

// The size helpers are constexpr so that kernels can call them too (nvcc's relaxed constexpr).
struct BatchNormShape {
  int64_t n = 0;
  int64_t c = 0;
  int64_t hw = 0;
  constexpr int64_t numel() const { return n * c * hw; }
  constexpr int64_t per_channel() const { return n * hw; }
};

// Running statistics updated in place by batch_norm_stats; either pointer may be null.
struct BatchNormRunning {
  float* mean = nullptr;
  float* var = nullptr;
  float momentum = 0.1f;
};

namespace cpu {
void batch_norm_stats(const float* x, const BatchNormShape& s, float eps, float* mean,
                      float* invstd, const BatchNormRunning& running = {});
void batch_norm_forward(const float* x, const float* mean, const float* invstd, const float* weight,
                        const float* bias, float* y, const BatchNormShape& s);
void batch_norm_backward_reduce(const float* dy, const float* x, const float* mean,
                                const float* invstd, float* sum_dy, float* sum_dy_xhat,
                                const BatchNormShape& s);
void batch_norm_backward_input(const float* dy, const float* x, const float* mean,
                               const float* invstd, const float* weight, const float* sum_dy,
                               const float* sum_dy_xhat, float* dx, const BatchNormShape& s);
}  // namespace cpu

namespace cuda {
// Slices per channel of the CUDA reductions (1: one block per channel), and the workspace floats
// batch_norm_stats and batch_norm_backward_reduce need for them (0 when 1 slice).
GE_CUDA_LAUNCHER int64_t batch_norm_splits(const BatchNormShape& s);
GE_CUDA_LAUNCHER int64_t batch_norm_workspace(const BatchNormShape& s);
GE_CUDA_LAUNCHER void batch_norm_stats(const float* x, const BatchNormShape& s, float eps,
                                       float* mean, float* invstd, const BatchNormRunning& running,
                                       float* workspace, int64_t workspace_size, Stream stream);
GE_CUDA_LAUNCHER void batch_norm_forward(const float* x, const float* mean, const float* invstd,
                                         const float* weight, const float* bias, float* y,
                                         const BatchNormShape& s, Stream stream);
GE_CUDA_LAUNCHER void batch_norm_backward_reduce(const float* dy, const float* x, const float* mean,
                                                 const float* invstd, float* sum_dy,
                                                 float* sum_dy_xhat, const BatchNormShape& s,
                                                 float* workspace, int64_t workspace_size,
                                                 Stream stream);
GE_CUDA_LAUNCHER void batch_norm_backward_input(const float* dy, const float* x, const float* mean,
                                                const float* invstd, const float* weight,
                                                const float* sum_dy, const float* sum_dy_xhat,
                                                float* dx, const BatchNormShape& s, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
