#pragma once
// In-place parameter initialisers (no history), as torch.nn.init. Generator: default when null.
#include "ganengine/random.h"
#include "ganengine/tensor.h"

namespace ge::nn::init {

void normal_(Tensor& t, float mean = 0.f, float std = 1.f, Generator* generator = nullptr);
void uniform_(Tensor& t, float lo = 0.f, float hi = 1.f, Generator* generator = nullptr);
void zeros_(Tensor& t);
void ones_(Tensor& t);
// fan_in of a weight: size(1) * prod(size(2:)) (PyTorch's rule; conv_transpose weights too).
int64_t fan_in(const Tensor& weight);

}  // namespace ge::nn::init
