#pragma once
// Fused logistic losses: the elementwise loss and its reduction in one kernel launch, with a
// deterministic reduction order. Differentiable to any order (the backward is one fused kernel
// whose own backward is written with differentiable ops).
#include <cstdint>
#include <vector>

#include "ganengine/tensor.h"

namespace ge {

enum class Reduction { None, Mean, Sum };

// PyTorch's F.binary_cross_entropy_with_logits, computed stably as
// max(x, 0) - x * t + log1p(exp(-|x|)). target: the logits' shape and device; it may require
// grad (d loss / dt = -x). The float overload uses one target for every element: 1 for real
// and 0 for fake give the non-saturating GAN losses mean(softplus(-x)) and mean(softplus(x)),
// and values in between give smoothed labels.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::Mean);
Tensor binary_cross_entropy_with_logits(const Tensor& logits, float target,
                                        Reduction reduction = Reduction::Mean);

// softplus(sign * x), reduced (the logistic GAN loss terms: softplus(-D(real)) with sign -1,
// softplus(D(fake)) with sign 1); Reduction::None gives the elementwise values.
Tensor softplus_loss(const Tensor& x, float sign = 1.f, Reduction reduction = Reduction::Mean);

// PyTorch's F.mse_loss: (input - target)^2, reduced (mean by default). target: the input's
// shape and device; it may require grad (d loss / dt = -d loss / dx). The float overload uses
// one target for every element: the least-squares GAN losses mse_loss(D(x), 1.f) and
// mse_loss(D(G(z)), 0.f). Differentiable to any order.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor mse_loss(const Tensor& input, float target, Reduction reduction = Reduction::Mean);

// PyTorch's F.l1_loss: |input - target|, reduced, with the same target rules as mse_loss. The
// gradient is sign(input - target), 0 where input == target (as PyTorch), and the second
// derivative is 0.
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, float target, Reduction reduction = Reduction::Mean);

// log(softmax(x)) along `dim` (may be negative), computed as (x - m) - log(sum(exp(x - m))) with
// the row maximum m held constant, so large logits neither overflow nor lose the small terms.
// Differentiable to any order.
Tensor log_softmax(const Tensor& x, int64_t dim);
Tensor softmax(const Tensor& x, int64_t dim);

// PyTorch's F.cross_entropy for logits [N, K] and class indices `targets` (N of them, each in
// [0, K)): -log_softmax(logits, 1)[i, targets[i]], per sample (None, [N]) or reduced. Mean
// divides by N. Differentiable to any order in the logits.
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& targets,
                     Reduction reduction = Reduction::Mean);

}  // namespace ge
