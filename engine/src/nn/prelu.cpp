#include "ganengine/nn/prelu.h"

#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "ganengine/prelu.h"

namespace ge::nn {

namespace {

int64_t checked_parameters(int64_t num_parameters) {
  GE_CHECK(num_parameters >= 1, "PReLU: expected num_parameters >= 1, got ", num_parameters);
  return num_parameters;
}

}  // namespace

PReLU::PReLU(int64_t num_parameters, float init)
    : num_parameters(checked_parameters(num_parameters)) {
  weight = full({num_parameters}, init);
  register_parameter("weight", weight);
}

Tensor PReLU::forward(const Tensor& x) {
  return prelu(x, weight);
}

}  // namespace ge::nn
