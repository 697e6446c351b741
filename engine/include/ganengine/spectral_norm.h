#pragma once
// Spectral normalisation of a weight (Miyato et al. 2018), as torch.nn.utils.spectral_norm.
#include <cstdint>
#include <utility>

#include "ganengine/random.h"
#include "ganengine/tensor.h"

namespace ge {

struct SpectralNormOptions {
  int64_t dim = 0;  // 0 for linear/conv weights, 1 for conv_transpose (as PyTorch)
  int n_power_iterations = 1;
  float eps = 1e-12f;
  bool training = true;  // false: use the stored u, v as they are
};

// W = weight viewed as a matrix [weight.size(dim), numel / size(dim)] (dim moved first).
// Training: n_power_iterations of  v = normalize(W^T u, eps); u = normalize(W v, eps)  update the
// buffers u [h] and v [w] in place (no history, like PyTorch's no_grad block).
// Returns weight / sigma, sigma = u^T W v, u and v constants for autograd (as PyTorch). The
// backward keeps copies of the u and v it used, so later updates of the buffers leave it valid.
// Differentiable to any order.
Tensor spectral_norm(const Tensor& weight, const Tensor& u, const Tensor& v,
                     const SpectralNormOptions& options = {});

// PyTorch's initial buffers (torch.nn.utils.spectral_norm): u = normalize(randn(h)),
// v = normalize(randn(w)), from `generator` (default generator when null).
std::pair<Tensor, Tensor> spectral_norm_buffers(const Tensor& weight, int64_t dim = 0,
                                                Generator* generator = nullptr);

}  // namespace ge
