#pragma once
// The WGAN-GP gradient penalty (Gulrajani et al. 2017): lambda * E[(||grad_x D(x_hat)||_2 - 1)^2]
// at points x_hat between real and fake samples.
#include <functional>

#include "ganengine/random.h"
#include "ganengine/tensor.h"

namespace ge {

// x_hat = real + alpha[n] * (fake - real); alpha [N] (one per sample; [N, 1, ..., 1] is accepted
// too). Differentiable wrt real, fake and alpha. One fused kernel.
Tensor gradient_penalty_interpolate(const Tensor& real, const Tensor& fake, const Tensor& alpha);

// lambda * mean_n((||grad[n]||_2 - 1)^2) for grad [N, ...]: per-sample norm reduction, penalty
// and its gradient fused; differentiable to second order (its backward is itself differentiable)
// so d(penalty)/d(critic params) flows through the whole critic. A sample whose gradient is
// exactly zero gets the norm's subgradient 0 (as PyTorch's norm), so it contributes lambda / N to
// the penalty and nothing to the gradient.
Tensor gradient_penalty(const Tensor& grad, float lambda = 10.f);

// The WGAN-GP term: alpha ~ U[0,1) per sample (Philox generator, default when null), x_hat,
// out = critic(x_hat), g = ge::grad({sum(out)}, {x_hat}, create_graph=true), penalty(g).
Tensor wgan_gradient_penalty(const std::function<Tensor(const Tensor&)>& critic, const Tensor& real,
                             const Tensor& fake, float lambda = 10.f,
                             Generator* generator = nullptr);
// The same with the interpolation weights given: alpha [N], one per sample in [0, 1] (a
// data-parallel process passes its rows of the global batch's draw).
Tensor wgan_gradient_penalty(const std::function<Tensor(const Tensor&)>& critic, const Tensor& real,
                             const Tensor& fake, float lambda, const Tensor& alpha);

}  // namespace ge
