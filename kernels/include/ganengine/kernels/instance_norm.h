#pragma once
// Instance normalisation of a contiguous float32 [N, C, HW] tensor, per plane (n, c) over its HW
// values (PyTorch's F.instance_norm on [N, C, H, W] without running statistics):
//   instance_norm_forward   mean[p], rstd[p] = 1 / sqrt(biased var + eps) for every plane
//                           p = n * C + c, and y = (x - mean[p]) * rstd[p] * weight[c] + bias[c]
//   instance_norm_backward  with xhat = (x - mean[p]) * rstd[p] and <.> the mean over the plane:
//                           dx = weight[c] * rstd[p] * (dy - <dy> - xhat <dy xhat>)
//                           dweight[c] = sum over n and the plane of dy xhat
//                           dbias[c]   = sum over n and the plane of dy
// A null weight reads as 1 and a null bias as 0; a null dweight or dbias is not computed. Every
// sum has a fixed combine order, so results are bitwise reproducible on a device.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

// The size helpers are constexpr so that kernels can call them too (nvcc's relaxed constexpr).
struct InstanceNormShape {
  int64_t n = 0;
  int64_t c = 0;
  int64_t hw = 0;
  constexpr int64_t numel() const { return n * c * hw; }
  constexpr int64_t planes() const { return n * c; }
};

namespace cpu {
void instance_norm_forward(const float* x, const float* weight, const float* bias, float* y,
                           float* mean, float* rstd, const InstanceNormShape& s, float eps);
void instance_norm_backward(const float* dy, const float* x, const float* mean, const float* rstd,
                            const float* weight, float* dx, float* dweight, float* dbias,
                            const InstanceNormShape& s);
}  // namespace cpu

namespace cuda {
GE_CUDA_LAUNCHER void instance_norm_forward(const float* x, const float* weight, const float* bias,
                                            float* y, float* mean, float* rstd,
                                            const InstanceNormShape& s, float eps, Stream stream);
// Floats of workspace instance_norm_backward needs (0 when it computes no dweight or dbias, or
// when N = 1); its contents need not be initialised.
GE_CUDA_LAUNCHER int64_t instance_norm_backward_workspace(const InstanceNormShape& s,
                                                          bool param_grads);
GE_CUDA_LAUNCHER void instance_norm_backward(const float* dy, const float* x, const float* mean,
                                             const float* rstd, const float* weight, float* dx,
                                             float* dweight, float* dbias,
                                             const InstanceNormShape& s, float* workspace,
                                             int64_t workspace_size, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
