#include "ganengine/nn/minibatch_discrimination.h"

#include "ganengine/error.h"
#include "ganengine/minibatch_discrimination.h"
#include "ganengine/ops.h"

namespace ge::nn {

namespace {

constexpr float kInitStd = 0.05f;

int64_t checked(int64_t in_features, int64_t kernels, int64_t kernel_dim) {
  GE_CHECK(in_features >= 1 && kernels >= 1 && kernel_dim >= 1,
           "MinibatchDiscrimination: ", "expected in_features, kernels and kernel_dim >= 1, got ",
           in_features, ", ", kernels, " and ", kernel_dim);
  return in_features;
}

}  // namespace

MinibatchDiscrimination::MinibatchDiscrimination(int64_t in, int64_t b, int64_t c,
                                                 Generator* generator)
    : in_features(checked(in, b, c)), kernels(b), kernel_dim(c) {
  T = randn({in, b, c}, {}, generator) * kInitStd;
  register_parameter("T", T);
}

Tensor MinibatchDiscrimination::forward(const Tensor& x) {
  GE_CHECK(x.dim() == 2 && x.size(1) == in_features, "MinibatchDiscrimination: expected ",
           "features [N, ", in_features, "], got shape ", to_string(x.shape()));
  return cat({x, minibatch_discrimination(x, T)}, 1);
}

}  // namespace ge::nn
