#pragma once
// Fused logistic losses: the elementwise loss and its reduction in one kernel launch, with a
// deterministic reduction order. Differentiable to any order (the backward is one fused kernel
// whose own backward is written with differentiable ops).
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

}  // namespace ge
