#include "ganengine/nn/instance_norm.h"

#include "ganengine/error.h"
#include "ganengine/instance_norm.h"
#include "ganengine/ops.h"

namespace ge::nn {

namespace {

int64_t checked_features(int64_t num_features) {
  GE_CHECK(num_features > 0, "InstanceNorm2d: expected num_features > 0, got ", num_features);
  return num_features;
}

}  // namespace

InstanceNorm2d::InstanceNorm2d(int64_t num_features, float eps, bool affine)
    : num_features(checked_features(num_features)), eps(eps) {
  GE_CHECK(eps > 0.f, "InstanceNorm2d: expected eps > 0, got ", eps);
  if (affine) {
    weight = ones({num_features});
    bias = zeros({num_features});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
}

Tensor InstanceNorm2d::forward(const Tensor& x) {
  GE_CHECK(x.defined(), "InstanceNorm2d: expected a defined input");
  GE_CHECK(x.dim() == 4 && x.size(1) == num_features, "InstanceNorm2d: expected an input [N, ",
           num_features, ", H, W], got shape ", to_string(x.shape()));
  return instance_norm2d(x, weight, bias, eps);
}

}  // namespace ge::nn
