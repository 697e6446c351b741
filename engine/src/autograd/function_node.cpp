// Node bookkeeping, saved tensors and the generic FunctionNode used by every op.
#include <atomic>

#include "autograd/accumulate_grad.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge::autograd {

namespace {
std::atomic<uint64_t> next_sequence_nr{0};
}

Node::Node() : sequence_nr_(next_sequence_nr.fetch_add(1)) {}

SavedTensor::SavedTensor(const Tensor& tensor, bool is_output)
    : is_output_(is_output), was_defined_(tensor.defined()) {
  if (!was_defined_) return;
  saved_version_ = detail::current_version(tensor);
  if (is_output) {
    output_nr_ = tensor.impl()->output_nr;
    data_ = detail::alias(tensor, tensor.shape(), tensor.strides(), tensor.storage_offset());
  } else {
    data_ = tensor;
  }
}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& owner, const std::string& node) const {
  GE_CHECK(!released_, node,
           ": trying to backward through the graph a second time, but its saved tensors were "
           "already freed by the previous backward()/grad(); the graph was freed, pass "
           "retain_graph=true to the first call to backward through it again");
  if (!was_defined_) return Tensor();
  const uint64_t now = detail::current_version(data_);
  GE_CHECK(now == saved_version_, node, ": a tensor saved for backward (shape ",
           to_string(data_.shape()), ") was modified by an in-place operation: expected version ",
           saved_version_, ", got version ", now);
  if (!is_output_) return data_;
  auto impl = std::make_shared<TensorImpl>(*data_.impl());
  impl->grad_fn = owner;
  impl->output_nr = output_nr_;
  return Tensor(std::move(impl));
}

void SavedTensor::release() {
  data_ = Tensor();
  released_ = true;
}

const Tensor& BackwardContext::saved(size_t i) const {
  GE_CHECK(i < saved_.size(), "BackwardContext::saved: index ", i, " out of range (", saved_.size(),
           " saved tensors)");
  return saved_[i];
}

bool BackwardContext::needs_input_grad(size_t i) const {
  return i < needs_input_grad_.size() && needs_input_grad_[i];
}

FunctionNode::FunctionNode(std::string name, BackwardFn backward, std::vector<TensorMeta> inputs,
                           std::vector<TensorMeta> outputs)
    : name_(std::move(name)),
      backward_(std::move(backward)),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)) {}

std::vector<Tensor> FunctionNode::apply(std::vector<Tensor>&& grads) {
  GE_CHECK(grads.size() == outputs_.size(), name_, ": expected ", outputs_.size(),
           " output gradients, got ", grads.size());
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) grads[i] = zeros(outputs_[i].shape, outputs_[i].device);
  }
  std::vector<Tensor> saved;
  saved.reserve(saved_.size());
  const std::shared_ptr<Node> self = shared_from_this();
  for (const SavedTensor& s : saved_)
    saved.push_back(s.unpack(self, name_));
  std::vector<bool> needs(inputs_.size());
  for (size_t i = 0; i < inputs_.size(); ++i)
    needs[i] = next_edges()[i].valid();
  BackwardContext ctx(std::move(saved), std::move(needs));
  std::vector<Tensor> result = backward_(ctx, grads);
  GE_CHECK(result.size() == inputs_.size(), name_, ": backward returned ", result.size(),
           " gradients, expected one per input (", inputs_.size(), ")");
  for (size_t i = 0; i < result.size(); ++i) {
    if (!next_edges()[i].valid()) {
      result[i] = Tensor();
      continue;
    }
    if (!result[i].defined()) continue;
    GE_CHECK(result[i].shape() == inputs_[i].shape, name_, ": gradient for input ", i,
             " has shape ", to_string(result[i].shape()), ", expected ",
             to_string(inputs_[i].shape));
    GE_CHECK(result[i].device() == inputs_[i].device, name_, ": gradient for input ", i, " is on ",
             result[i].device().str(), ", expected ", inputs_[i].device.str());
  }
  return result;
}

void FunctionNode::release_saved() {
  for (SavedTensor& s : saved_)
    s.release();
  // The backward closure may hold captured state; it stays, since it holds no tensors.
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  const TensorImpl& impl = *t.impl();
  if (impl.grad_fn) return {impl.grad_fn, impl.output_nr};
  if (impl.requires_grad) return {grad_accumulator(t), 0};
  return {};
}

std::shared_ptr<FunctionNode> record(std::string name, const std::vector<Tensor>& inputs,
                                     const std::vector<Tensor>& outputs, BackwardFn backward,
                                     const std::vector<Tensor>& saved,
                                     const std::vector<size_t>& saved_outputs) {
  std::vector<TensorMeta> in_meta, out_meta;
  std::vector<Edge> edges;
  for (const Tensor& t : inputs) {
    in_meta.push_back(t.defined() ? TensorMeta{t.shape(), t.device()} : TensorMeta{{}, kCPU});
    edges.push_back(gradient_edge(t));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    GE_CHECK(outputs[i].defined() && !outputs[i].impl()->grad_fn && !outputs[i].requires_grad(),
             "record(", name, "): output ", i, " must be a fresh tensor without history");
    out_meta.push_back({outputs[i].shape(), outputs[i].device()});
  }
  auto node = std::make_shared<FunctionNode>(name, std::move(backward), std::move(in_meta),
                                             std::move(out_meta));
  node->set_next_edges(std::move(edges));
  node->set_num_outputs(static_cast<uint32_t>(outputs.size()));
  for (size_t i = 0; i < outputs.size(); ++i) {
    outputs[i].impl()->grad_fn = node;
    outputs[i].impl()->output_nr = static_cast<uint32_t>(i);
  }
  for (const Tensor& t : saved)
    node->save(t, false);
  for (size_t j : saved_outputs) {
    GE_CHECK(j < outputs.size(), "record(", name, "): saved output index ", j, " out of range (",
             outputs.size(), " outputs)");
    node->save(outputs[j], true);
  }
  return node;
}

}  // namespace ge::autograd
