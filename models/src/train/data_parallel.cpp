#include "data_parallel.h"

#include "ganengine/autograd.h"
#include "ganengine/distributed.h"
#include "ganengine/error.h"

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

float average_gradients(const std::vector<Tensor>& params, const Tensor& loss) {
  NoGradGuard no_grad;
  Tensor mean_loss = loss.detach().reshape({1}).clone();
  if (!data_parallel()) return mean_loss.item();
  std::vector<Tensor> bucket;
  int64_t bytes = 0;
  auto flush = [&] {
    if (!bucket.empty()) distributed::all_reduce_coalesced(bucket, distributed::ReduceOp::Avg);
    bucket.clear();
    bytes = 0;
  };
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    bucket.push_back(g);
    bytes += g.numel() * static_cast<int64_t>(sizeof(float));
    if (bytes >= kBucketBytes) flush();
  }
  bucket.push_back(mean_loss);
  flush();
  return mean_loss.item();
}

}  // namespace ge::models::train::detail
