#include "data_parallel.h"

#include "ganengine/autograd.h"
#include "ganengine/distributed.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge::models::train::detail {
namespace {

bool data_parallel() {
  return distributed::is_initialized() && distributed::get_world_size() > 1;
}

void broadcast_all(std::vector<Tensor> tensors) {
  NoGradGuard no_grad;
  for (Tensor& t : tensors)
    distributed::broadcast(t, 0);
}

}  // namespace

data::Shard process_shard() {
  if (!distributed::is_initialized()) return {};
  return {distributed::get_rank(), distributed::get_world_size()};
}

void broadcast_model(Model& model) {
  if (!data_parallel()) return;
  std::vector<Tensor> tensors;
  for (auto& [name, net] : model.networks()) {
    for (auto& [key, p] : net->named_parameters())
      tensors.push_back(p);
    for (auto& [key, b] : net->named_buffers())
      tensors.push_back(b);
  }
  broadcast_all(std::move(tensors));
}

void broadcast_buffers(Model& model) {
  if (!data_parallel()) return;
  std::vector<Tensor> tensors;
  for (auto& [name, net] : model.networks())
    for (auto& [key, b] : net->named_buffers())
      tensors.push_back(b);
  broadcast_all(std::move(tensors));
}

GradientReducer::GradientReducer(std::vector<Tensor> params) : params_(std::move(params)) {
  bucket_of_.resize(params_.size());
  int64_t bytes = kBucketBytes;
  for (size_t k = params_.size(); k-- > 0;) {
    if (bytes >= kBucketBytes) {
      buckets_.emplace_back();
      bytes = 0;
    }
    buckets_.back().push_back(k);
    bucket_of_[k] = buckets_.size() - 1;
    bytes += params_[k].numel() * static_cast<int64_t>(sizeof(float));
  }
  for (size_t k = 0; k < params_.size(); ++k)
    hooks_.push_back(
        params_[k].register_post_accumulate_grad_hook([this, k](const Tensor&) { ready(k); }));
}

GradientReducer::~GradientReducer() {
  for (size_t k = 0; k < params_.size(); ++k)
    params_[k].remove_post_accumulate_grad_hook(hooks_[k]);
}

void GradientReducer::prepare() {
  waiting_.clear();
  for (const auto& bucket : buckets_)
    waiting_.push_back(bucket.size());
  reduced_.assign(buckets_.size(), false);
  armed_ = true;
}

void GradientReducer::ready(size_t param) {
  if (!armed_) return;  // a backward outside the trainer's step
  const size_t b = bucket_of_[param];
  if (--waiting_[b] == 0) reduce(b);
}

void GradientReducer::reduce(size_t bucket) {
  reduced_[bucket] = true;
  NoGradGuard no_grad;
  std::vector<size_t> with_grad;
  std::vector<Tensor> flat;
  for (size_t k : buckets_[bucket])
    if (const Tensor g = params_[k].grad(); g.defined()) {
      with_grad.push_back(k);
      flat.push_back(g.detach().reshape({-1}));
    }
  if (flat.empty()) return;  // the same on every rank: the graphs are the same
  Tensor values = cat(flat, 0);
  distributed::all_reduce(values, distributed::ReduceOp::Avg);
  int64_t offset = 0;
  for (size_t k : with_grad) {
    const Tensor& p = params_[k];
    p.set_grad(values.slice(0, offset, offset + p.numel()).view(p.shape()));
    offset += p.numel();
  }
}

float GradientReducer::finish(const Tensor& loss) {
  for (size_t b = 0; b < buckets_.size(); ++b)
    if (!reduced_[b]) reduce(b);
  armed_ = false;
  NoGradGuard no_grad;
  Tensor mean_loss = loss.detach().reshape({1}).clone();
  distributed::all_reduce(mean_loss, distributed::ReduceOp::Avg);
  return mean_loss.item();
}

}  // namespace ge::models::train::detail
