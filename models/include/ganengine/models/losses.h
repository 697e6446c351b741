#pragma once
// GAN objectives on discriminator outputs [N]; each returns a differentiable scalar.
#include <functional>

#include "ganengine/tensor.h"

namespace ge::models {

// Non-saturating logistic loss (Goodfellow et al.; StyleGAN2): D: softplus(-D(real)) with the
// real target `real_label` (< 1: one-sided label smoothing), + softplus(D(fake)); G:
// softplus(-D(fake)).
Tensor nonsaturating_d_loss(const Tensor& real_logits, const Tensor& fake_logits,
                            float real_label = 1.f);
Tensor nonsaturating_g_loss(const Tensor& fake_logits);
// The original minimax generator loss (Goodfellow et al. 2014): mean log(1 - sigmoid(D(fake)))
// = -mean softplus(D(fake)), minimised by G. Its gradient sigmoid(D(fake)) vanishes when D
// rejects the fakes confidently, the failure the non-saturating loss avoids.
Tensor minimax_g_loss(const Tensor& fake_logits);
// Hinge loss (SNGAN): D: mean(relu(1 - D(real))) + mean(relu(1 + D(fake))); G: -mean(D(fake)).
Tensor hinge_d_loss(const Tensor& real_logits, const Tensor& fake_logits);
Tensor hinge_g_loss(const Tensor& fake_logits);
// Wasserstein (WGAN): D: mean(D(fake)) - mean(D(real)); G: -mean(D(fake)).
Tensor wasserstein_d_loss(const Tensor& real_scores, const Tensor& fake_scores);
Tensor wasserstein_g_loss(const Tensor& fake_scores);
// R1 (Mescheder et al. 2018): gamma / 2 * mean_n ||grad_x D(x)[n]||^2 at real x, with graph, so
// its gradient reaches D's parameters.
Tensor r1_penalty(const std::function<Tensor(const Tensor&)>& discriminator, const Tensor& real,
                  float gamma);

}  // namespace ge::models
