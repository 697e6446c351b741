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
  // torch.nn.SyncBatchNorm: in training, the batch statistics are those of the global batch of
  // ge::distributed's default group (the same forward on every rank); with one process, or in
  // eval mode, it is the plain layer.
  bool sync = false;
};

// torch.nn.SyncBatchNorm.convert_sync_batchnorm: turns on `sync` for every BatchNorm2d in
// `module`'s tree; returns how many.
int64_t convert_sync_batchnorm(Module& module);

}  // namespace ge::nn
