#pragma once
// Minibatch discrimination as a layer (Salimans et al. 2016): features [N, A] -> [N, A + B], the
// input followed by its closeness to the rest of the batch under B learned kernels of C
// dimensions (ge::minibatch_discrimination). The parameter T [A, B, C] starts N(0, 0.05^2), as
// the paper's code initialises it.
#include <cstdint>

#include "ganengine/nn/module.h"
#include "ganengine/random.h"

namespace ge::nn {

class MinibatchDiscrimination : public Module {
 public:
  MinibatchDiscrimination(int64_t in_features, int64_t kernels, int64_t kernel_dim,
                          Generator* generator = nullptr);
  std::string name() const override { return "MinibatchDiscrimination"; }
  Tensor forward(const Tensor& x) override;
  Tensor T;
  const int64_t in_features, kernels, kernel_dim;
};

}  // namespace ge::nn
