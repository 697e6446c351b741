// adam_step, Adam and ema_update: list validation, then one multi-tensor kernel call for the
// device the lists live on. The kernels write through raw pointers, outside autograd, so the
// version counters of everything written are bumped here.
#include "ganengine/optim.h"

#include <map>
#include <string>
#include <utility>

#include "dispatch.h"
#include "list_checks.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/kernels/optim.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge::optim {

namespace {

namespace k = kernels;
using checks::check_entry;
using checks::check_lengths;

void check_adam_options(const char* op, const AdamOptions& o) {
  GE_CHECK(o.lr >= 0.f, op, ": expected lr >= 0, got ", o.lr);
  GE_CHECK(o.beta1 >= 0.f && o.beta1 < 1.f, op, ": expected beta1 in [0, 1), got ", o.beta1);
  GE_CHECK(o.beta2 >= 0.f && o.beta2 < 1.f, op, ": expected beta2 in [0, 1), got ", o.beta2);
  GE_CHECK(o.eps >= 0.f, op, ": expected eps >= 0, got ", o.eps);
  GE_CHECK(o.weight_decay >= 0.f, op, ": expected weight_decay >= 0, got ", o.weight_decay);
}

}  // namespace

void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
               int64_t step, const AdamOptions& options) {
  const char* op = "adam_step";
  check_lengths(op, "params", params.size(), "grads", grads.size());
  check_lengths(op, "params", params.size(), "exp_avg", exp_avg.size());
  check_lengths(op, "params", params.size(), "exp_avg_sq", exp_avg_sq.size());
  GE_CHECK(step >= 1, op, ": expected step >= 1 (the 1-based step number), got ", step);
  check_adam_options(op, options);
  if (params.empty()) return;
  GE_CHECK(params[0].defined(), op, ": expected params[0] to be a defined tensor, got undefined");
  const Device device = params[0].device();

  std::vector<k::AdamTensor> table;
  table.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    check_entry(op, params[i], "params", i, params[i], "params", device, true);
    check_entry(op, grads[i], "grads", i, params[i], "params", device, true);
    check_entry(op, exp_avg[i], "exp_avg", i, params[i], "params", device, true);
    check_entry(op, exp_avg_sq[i], "exp_avg_sq", i, params[i], "params", device, true);
    k::AdamTensor t;
    t.param = params[i].data_ptr();
    t.grad = grads[i].data_ptr();
    t.exp_avg = exp_avg[i].data_ptr();
    t.exp_avg_sq = exp_avg_sq[i].data_ptr();
    t.n = params[i].numel();
    table.push_back(t);
  }

  const k::AdamParams p{.lr = options.lr,
                        .beta1 = options.beta1,
                        .beta2 = options.beta2,
                        .eps = options.eps,
                        .weight_decay = options.weight_decay,
                        .decoupled_weight_decay = options.decoupled_weight_decay,
                        .step = step};
  const auto count = static_cast<int64_t>(table.size());
  detail::run_kernel(device, k::cpu::adam, k::cuda::adam, p, table.data(), count);
  for (size_t i = 0; i < params.size(); ++i) {
    detail::bump_version(params[i]);
    detail::bump_version(exp_avg[i]);
    detail::bump_version(exp_avg_sq[i]);
  }
}

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Optimizer(std::move(params), "Adam"), options_(options) {
  check_adam_options(name_, options_);
  exp_avg_ = zeros_like_params();
  exp_avg_sq_ = zeros_like_params();
}

std::vector<std::pair<std::string, std::vector<Tensor>>> Adam::state_buffers() const {
  return {{"exp_avg", exp_avg_}, {"exp_avg_sq", exp_avg_sq_}};
}

void Adam::step() {
  NoGradGuard no_grad;
  // Params that share a device and a step count share one adam_step call: in the usual case
  // (every param has a gradient every step) that is one launch for the whole model.
  struct Group {
    std::vector<Tensor> params, grads, exp_avg, exp_avg_sq;
    std::vector<size_t> index;
  };
  std::map<std::pair<std::string, int64_t>, Group> groups;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    GE_CHECK(g.shape() == p.shape() && g.device() == p.device(), "Adam: expected the grad of ",
             "params[", i, "] of shape ", to_string(p.shape()), " on ", p.device().str(),
             ", got shape ", to_string(g.shape()), " on ", g.device().str());
    Group& group = groups[{p.device().str(), param_steps_[i] + 1}];
    group.params.push_back(p);
    group.grads.push_back(g.contiguous());
    group.exp_avg.push_back(exp_avg_[i]);
    group.exp_avg_sq.push_back(exp_avg_sq_[i]);
    group.index.push_back(i);
  }
  for (auto& [key, group] : groups) {
    adam_step(group.params, group.grads, group.exp_avg, group.exp_avg_sq, key.second, options_);
    for (size_t i : group.index)
      ++param_steps_[i];
  }
  ++steps_;
}

void ema_update(const std::vector<Tensor>& averages, const std::vector<Tensor>& sources,
                float decay) {
  const char* op = "ema_update";
  check_lengths(op, "averages", averages.size(), "sources", sources.size());
  GE_CHECK(decay >= 0.f && decay <= 1.f, op, ": expected decay in [0, 1], got ", decay);
  if (averages.empty()) return;
  GE_CHECK(averages[0].defined(), op,
           ": expected averages[0] to be a defined tensor, got undefined");
  const Device device = averages[0].device();

  std::vector<Tensor> dense_sources;  // keeps contiguous copies alive through the launch
  std::vector<k::EmaTensor> table;
  dense_sources.reserve(sources.size());
  for (size_t i = 0; i < averages.size(); ++i) {
    check_entry(op, averages[i], "averages", i, averages[i], "averages", device, true);
    check_entry(op, sources[i], "sources", i, averages[i], "averages", device, false);
    dense_sources.push_back(detail::contiguous_operand(sources[i]));
    k::EmaTensor t;
    t.average = averages[i].data_ptr();
    t.source = dense_sources.back().data_ptr();
    t.n = averages[i].numel();
    table.push_back(t);
  }
  const auto count = static_cast<int64_t>(table.size());
  detail::run_kernel(device, k::cpu::ema, k::cuda::ema, decay, table.data(), count);
  for (const Tensor& a : averages)
    detail::bump_version(a);
}

}  // namespace ge::optim
