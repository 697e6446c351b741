#pragma once
#include "ganengine/nn/module.h"

namespace ge::nn {

// torch.nn.InstanceNorm2d with track_running_stats=False: weight (ones) and bias (zeros) only
// when affine, no buffers; train and eval both normalise with each plane's own statistics.
class InstanceNorm2d : public Module {
 public:
  explicit InstanceNorm2d(int64_t num_features, float eps = 1e-5f, bool affine = false);
  std::string name() const override { return "InstanceNorm2d"; }
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  const int64_t num_features;
  const float eps;
};

}  // namespace ge::nn
