#pragma once
// torch.nn.PReLU: a learned slope for negative inputs, one shared (num_parameters 1) or one per
// channel (dim 1), all starting at `init`. The parameter is named `weight`, as PyTorch names it,
// so state dicts match.
#include <cstdint>

#include "ganengine/nn/module.h"

namespace ge::nn {

class PReLU : public Module {
 public:
  explicit PReLU(int64_t num_parameters = 1, float init = 0.25f);
  std::string name() const override { return "PReLU"; }
  Tensor forward(const Tensor& x) override;
  Tensor weight;
  const int64_t num_parameters;
};

}  // namespace ge::nn
