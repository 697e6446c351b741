#pragma once
#include "ganengine/nn/module.h"

namespace ge::nn {

// torch.nn.BatchNorm2d: weight (ones), bias (zeros), buffers running_mean (zeros), running_var
// (ones), num_batches_tracked (a float32 scalar here; PyTorch's int64 loads into it and back).
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t num_features, float eps = 1e-5f, float momentum = 0.1f,
                       bool affine = true);
  std::string name() const override { return "BatchNorm2d"; }
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  const int64_t num_features;
  const float eps, momentum;
};

}  // namespace ge::nn
