#pragma once
// Spectral normalisation (Miyato et al. 2018, as torch.nn.utils.spectral_norm), float32. The
// power iteration works on W, the weight laid out as a contiguous matrix [h, w] with the
// normalised dim first; the scaled output is written in the weight's own layout.
//
//   forward   n_iterations of  v = normalize(W^T u), u = normalize(W v),  normalize(x) =
//             x / max(||x||, eps), written back into u and v; then sigma = u^T W v and
//             out = weight / sigma. n_iterations = 0 uses the stored u, v as they are (eval).
//   backward  d(weight / sigma) / d weight with u, v constant, in matrix layout:
//             dw = g / sigma - (<g, W> / sigma^2) u v^T
// Sums run in a fixed order on both devices (no atomics), so results are reproducible.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

struct SpectralNormArgs {
  const float* mat = nullptr;     // W [h, w]
  const float* weight = nullptr;  // h * w elements in the weight's layout; may equal mat
  float* u = nullptr;             // [h], updated in place when n_iterations > 0
  float* v = nullptr;             // [w], likewise
  float* u_copy = nullptr;        // optional [h]: receives the u that sigma was taken with
  float* v_copy = nullptr;        // optional [w]: likewise for v
  float* sigma = nullptr;         // [1]
  float* out = nullptr;           // optional [h * w]: weight / sigma
  float* workspace = nullptr;     // CUDA: spectral_norm_workspace(h, w) floats; CPU: unused
  int64_t h = 0;
  int64_t w = 0;
  int n_iterations = 1;
  float eps = 1e-12f;
};

struct SpectralNormGradArgs {
  const float* grad = nullptr;   // g [h, w]
  const float* mat = nullptr;    // W [h, w]
  const float* u = nullptr;      // [h]
  const float* v = nullptr;      // [w]
  const float* sigma = nullptr;  // [1]
  float* out = nullptr;          // dw [h, w]
  float* workspace = nullptr;    // CUDA: spectral_norm_grad_workspace(h, w) floats; CPU: unused
  int64_t h = 0;
  int64_t w = 0;
};

// Floats of device workspace the CUDA launchers need (the CPU ones need none).
GE_CUDA_LAUNCHER int64_t spectral_norm_workspace(int64_t h, int64_t w);
GE_CUDA_LAUNCHER int64_t spectral_norm_grad_workspace(int64_t h, int64_t w);

namespace cpu {
void spectral_norm(const SpectralNormArgs& a);
void spectral_norm_grad(const SpectralNormGradArgs& a);
}  // namespace cpu
namespace cuda {
GE_CUDA_LAUNCHER void spectral_norm(const SpectralNormArgs& a, Stream stream);
GE_CUDA_LAUNCHER void spectral_norm_grad(const SpectralNormGradArgs& a, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
