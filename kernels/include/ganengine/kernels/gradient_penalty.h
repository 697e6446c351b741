#pragma once
// The WGAN-GP gradient penalty (Gulrajani et al. 2017), float32, on contiguous [n, d] buffers
// (n samples of d elements each):
//   interpolate  out[k, i] = real[k, i] + alpha[k] * (fake[k, i] - real[k, i])
//   forward      norms[k] = ||x[k, :]||_2,  out[0] = lambda / n * sum_k (norms[k] - 1)^2
//   backward     dx[k, i] = gout[0] * lambda * 2 / n * c(norms[k]) * x[k, i],
//                c(r) = (r - 1) / r, and c(0) = 0: at a zero gradient the norm's subgradient 0
//                is taken, as PyTorch's norm backward does.
// gout is read from memory (the incoming gradient is a device scalar). Per-sample and final sums
// run in a fixed order on both devices, so results are reproducible.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

namespace cpu {
void gradient_penalty_interpolate(const float* real, const float* fake, const float* alpha,
                                  float* out, int64_t n, int64_t d);
void gradient_penalty_forward(const float* x, float* norms, float* out, int64_t n, int64_t d,
                              float lambda);
void gradient_penalty_backward(const float* x, const float* norms, const float* gout, float* dx,
                               int64_t n, int64_t d, float lambda);
}  // namespace cpu
namespace cuda {
GE_CUDA_LAUNCHER void gradient_penalty_interpolate(const float* real, const float* fake,
                                                   const float* alpha, float* out, int64_t n,
                                                   int64_t d, Stream stream);
// Slices per sample of the forward's sums of squares (1: a block or a warp per sample, from the
// shape and the device's SM count), and the workspace floats that gradient_penalty_forward needs
// for their partial sums (0 with one slice).
GE_CUDA_LAUNCHER int64_t gradient_penalty_splits(int64_t n, int64_t d);
GE_CUDA_LAUNCHER int64_t gradient_penalty_workspace(int64_t n, int64_t d);
GE_CUDA_LAUNCHER void gradient_penalty_forward(const float* x, float* norms, float* out, int64_t n,
                                               int64_t d, float lambda, float* workspace,
                                               int64_t workspace_size, Stream stream);
GE_CUDA_LAUNCHER void gradient_penalty_backward(const float* x, const float* norms,
                                                const float* gout, float* dx, int64_t n, int64_t d,
                                                float lambda, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
