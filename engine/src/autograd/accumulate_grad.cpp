#include "autograd/accumulate_grad.h"

#include <mutex>

#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge::autograd {

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
  Tensor g = grads.empty() ? Tensor() : grads[0];
  const std::shared_ptr<TensorImpl> leaf = leaf_.lock();
  if (!g.defined() || !leaf) return {};
  GE_CHECK(g.shape() == leaf->shape, "AccumulateGrad: expected a gradient of shape ",
           to_string(leaf->shape), ", got ", to_string(g.shape()));
  GE_CHECK(g.device() == leaf->device, "AccumulateGrad: expected a gradient on ",
           leaf->device.str(), ", got ", g.device().str());
  // Out of place, so a .grad handed out earlier (or aliasing a user's grad_output) is never
  // modified behind its holder's back. Under create_graph (grad mode on) the sum keeps
  // history; otherwise the stored gradient is detached.
  Tensor& current = leaf->grad;
  Tensor next = current.defined() ? current + g : g;
  current = is_grad_enabled() ? next : next.detach();
  // A copy: a hook may register or remove hooks.
  const auto hooks = leaf->post_accumulate_grad_hooks;
  for (const auto& [id, hook] : hooks)
    hook(Tensor(leaf));
  return {};
}

std::shared_ptr<Node> grad_accumulator(const Tensor& leaf) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  TensorImpl& impl = *leaf.impl();
  std::shared_ptr<Node> acc = impl.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(leaf.impl());
    impl.grad_accumulator = acc;
  }
  return acc;
}

}  // namespace ge::autograd
