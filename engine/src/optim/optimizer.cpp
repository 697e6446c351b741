// The Optimizer base: the parameter checks, zero_grad, the counters and the zero buffers every
// optimizer starts from.
#include <string>
#include <utility>

#include "dispatch.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "ganengine/optim.h"
#include "tensor_impl.h"

namespace ge::optim {

Optimizer::Optimizer(std::vector<Tensor> params, const char* name)
    : params_(std::move(params)), name_(name) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    GE_CHECK(p.defined(), name_, ": expected params[", i,
             "] to be a defined tensor, got undefined");
    detail::check_float(p, name_);
    GE_CHECK(p.is_leaf(), name_, ": expected params[", i, "] to be a leaf tensor (an optimizer ",
             "updates leaves in place), got the output of ", p.grad_fn()->name());
    GE_CHECK(p.is_contiguous(), name_, ": expected params[", i, "] to be contiguous, got shape ",
             to_string(p.shape()), " with strides ", to_string(p.strides()));
    for (size_t j = 0; j < i; ++j) {
      GE_CHECK(params_[j].impl() != p.impl(), name_, ": expected distinct params, got params[", i,
               "] equal to params[", j, "]");
    }
  }
  param_steps_.assign(params_.size(), 0);
}

std::vector<Tensor> Optimizer::zeros_like_params() const {
  std::vector<Tensor> out;
  out.reserve(params_.size());
  for (const Tensor& p : params_)
    out.push_back(zeros(p.shape(), TensorOptions(p.device())));
  return out;
}

void Optimizer::zero_grad() {
  for (const Tensor& p : params_)
    p.zero_grad();
}

void Optimizer::set_counters(int64_t steps, std::vector<int64_t> param_steps) {
  GE_CHECK(steps >= 0, name_, ": expected a step count >= 0, got ", steps);
  GE_CHECK(param_steps.size() == params_.size(), name_, ": expected ", params_.size(),
           " parameter step counts, got ", param_steps.size());
  for (size_t i = 0; i < param_steps.size(); ++i) {
    GE_CHECK(param_steps[i] >= 0 && param_steps[i] <= steps, name_, ": expected params[", i,
             "]'s step count in [0, ", steps, "], got ", param_steps[i]);
  }
  steps_ = steps;
  param_steps_ = std::move(param_steps);
}

}  // namespace ge::optim
