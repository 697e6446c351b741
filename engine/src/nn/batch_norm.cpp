#include "ganengine/nn/batch_norm.h"

#include "ganengine/autograd.h"
#include "ganengine/batch_norm.h"
#include "ganengine/distributed.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "nn/sync_batch_norm.h"

namespace ge::nn {

namespace {

int64_t checked_features(int64_t num_features) {
  GE_CHECK(num_features > 0, "BatchNorm2d: expected num_features > 0, got ", num_features);
  return num_features;
}

}  // namespace

BatchNorm2d::BatchNorm2d(int64_t num_features, float eps, float momentum, bool affine)
    : num_features(checked_features(num_features)), eps(eps), momentum(momentum) {
  GE_CHECK(eps > 0.f, "BatchNorm2d: expected eps > 0, got ", eps);
  GE_CHECK(momentum >= 0.f && momentum <= 1.f, "BatchNorm2d: expected momentum in [0, 1], got ",
           momentum);
  if (affine) {
    weight = ones({num_features});
    bias = zeros({num_features});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
  running_mean = zeros({num_features});
  running_var = ones({num_features});
  num_batches_tracked = scalar_tensor(0.f);
  register_buffer("running_mean", running_mean);
  register_buffer("running_var", running_var);
  register_buffer("num_batches_tracked", num_batches_tracked);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  GE_CHECK(x.defined(), "BatchNorm2d: expected a defined input");
  GE_CHECK(x.dim() == 4 && x.size(1) == num_features, "BatchNorm2d: expected an input [N, ",
           num_features, ", H, W], got shape ", to_string(x.shape()));
  const bool global =
      sync && is_training() && distributed::is_initialized() && distributed::get_world_size() > 1;
  Tensor y =
      global
          ? detail::sync_batch_norm2d(x, weight, bias, running_mean, running_var, momentum, eps)
          : batch_norm2d(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
  if (is_training()) {
    NoGradGuard no_grad;
    num_batches_tracked.copy_(num_batches_tracked + 1.f);
  }
  return y;
}

int64_t convert_sync_batchnorm(Module& module) {
  int64_t converted = 0;
  if (auto* bn = dynamic_cast<BatchNorm2d*>(&module)) {
    bn->sync = true;
    ++converted;
  }
  for (auto& [name, child] : module.named_children())
    converted += convert_sync_batchnorm(*child);
  return converted;
}

}  // namespace ge::nn
