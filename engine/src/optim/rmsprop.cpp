// rmsprop_step and RMSprop: list validation, then one multi-tensor kernel call for
// the device the lists live on, as adam_step; the versions of everything written are bumped.
#include <string>
#include <utility>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/kernels/optim.h"
#include "ganengine/ops.h"
#include "ganengine/optim.h"
#include "list_checks.h"
#include "tensor_impl.h"

namespace ge::optim {

namespace {

namespace k = kernels;
using checks::check_entry;
using checks::check_lengths;

void check_rmsprop_options(const char* op, const RmspropOptions& o) {
  GE_CHECK(o.lr >= 0.f, op, ": expected lr >= 0, got ", o.lr);
  GE_CHECK(o.alpha >= 0.f && o.alpha <= 1.f, op, ": expected alpha in [0, 1], got ", o.alpha);
  GE_CHECK(o.eps >= 0.f, op, ": expected eps >= 0, got ", o.eps);
  GE_CHECK(o.weight_decay >= 0.f, op, ": expected weight_decay >= 0, got ", o.weight_decay);
}

}  // namespace

void rmsprop_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  const std::vector<Tensor>& square_avg, const RmspropOptions& options) {
  const char* op = "rmsprop_step";
  check_lengths(op, "params", params.size(), "grads", grads.size());
  check_lengths(op, "params", params.size(), "square_avg", square_avg.size());
  check_rmsprop_options(op, options);
  if (params.empty()) return;
  GE_CHECK(params[0].defined(), op, ": expected params[0] to be a defined tensor, got undefined");
  const Device device = params[0].device();

  std::vector<k::RmspropTensor> table;
  table.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    check_entry(op, params[i], "params", i, params[i], "params", device, true);
    check_entry(op, grads[i], "grads", i, params[i], "params", device, true);
    check_entry(op, square_avg[i], "square_avg", i, params[i], "params", device, true);
    k::RmspropTensor t;
    t.param = params[i].data_ptr();
    t.grad = grads[i].data_ptr();
    t.square_avg = square_avg[i].data_ptr();
    t.n = params[i].numel();
    table.push_back(t);
  }
  const k::RmspropParams p{.lr = options.lr,
                           .alpha = options.alpha,
                           .eps = options.eps,
                           .weight_decay = options.weight_decay};
  const auto count = static_cast<int64_t>(table.size());
  detail::run_kernel(device, k::cpu::rmsprop, k::cuda::rmsprop, p, table.data(), count);
  for (size_t i = 0; i < params.size(); ++i) {
    detail::bump_version(params[i]);
    detail::bump_version(square_avg[i]);
  }
}

RMSprop::RMSprop(std::vector<Tensor> params, RmspropOptions options)
    : Optimizer(std::move(params), "RMSprop"), options_(options) {
  check_rmsprop_options(name_, options_);
  square_avg_ = zeros_like_params();
}

std::vector<std::pair<std::string, std::vector<Tensor>>> RMSprop::state_buffers() const {
  return {{"square_avg", square_avg_}};
}

void RMSprop::step() {
  NoGradGuard no_grad;
  // One rmsprop_step per device over the params that have a gradient.
  struct Group {
    std::vector<Tensor> params, grads, square_avg;
    std::vector<size_t> index;
  };
  std::vector<std::pair<std::string, Group>> groups;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    GE_CHECK(g.shape() == p.shape() && g.device() == p.device(), "RMSprop: expected the grad of ",
             "params[", i, "] of shape ", to_string(p.shape()), " on ", p.device().str(),
             ", got shape ", to_string(g.shape()), " on ", g.device().str());
    const std::string device = p.device().str();
    auto it = groups.begin();
    while (it != groups.end() && it->first != device)
      ++it;
    if (it == groups.end()) it = groups.insert(groups.end(), {device, Group{}});
    it->second.params.push_back(p);
    it->second.grads.push_back(g.contiguous());
    it->second.square_avg.push_back(square_avg_[i]);
    it->second.index.push_back(i);
  }
  for (auto& [device, group] : groups) {
    rmsprop_step(group.params, group.grads, group.square_avg, options_);
    for (size_t i : group.index)
      ++param_steps_[i];
  }
  ++steps_;
}

}  // namespace ge::optim
