#pragma once
// Recording differentiable ops. An op computes its outputs without history, then, when
// autograd::needs_grad(inputs) is true, calls autograd::record with a backward function written
// with differentiable ops (so create_graph gives higher-order gradients):
//
//   Tensor out = /* kernel call */;
//   if (autograd::needs_grad({x, w})) {
//     autograd::record("MyOpBackward", {x, w}, {out},
//         [](autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
//           const Tensor& x = ctx.saved(0);
//           const Tensor& y = ctx.saved(1);  // the saved output
//           return std::vector<Tensor>{g[0] * y, ctx.needs_input_grad(1) ? g[0] * x : Tensor()};
//         },
//         /*saved=*/{x}, /*saved_outputs=*/{0});
//   }
//
// Backward functions get one gradient per output (zeros where none arrived) and return one
// per input (undefined for none). They capture non-tensor data by value and tensors only
// through `saved`, so that saved tensors are version-checked and freed after backward.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/autograd.h"

namespace ge::autograd {

// A tensor kept for backward. An op's own output is stored without its grad_fn (the saving
// node), which avoids a node -> output -> node reference cycle; unpack() restores it.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& tensor, bool is_output);
  // Throws ge::Error naming `node` when the tensor was released by an earlier backward or
  // modified in place since it was saved.
  Tensor unpack(const std::shared_ptr<Node>& owner, const std::string& node) const;
  void release();

 private:
  Tensor data_;
  uint64_t saved_version_ = 0;
  uint32_t output_nr_ = 0;
  bool is_output_ = false;
  bool was_defined_ = false;
  bool released_ = false;
};

class BackwardContext {
 public:
  BackwardContext(std::vector<Tensor> saved, std::vector<bool> needs_input_grad)
      : saved_(std::move(saved)), needs_input_grad_(std::move(needs_input_grad)) {}
  // Saved inputs first, then saved outputs, in the order given to record().
  const Tensor& saved(size_t i) const;
  size_t num_saved() const { return saved_.size(); }
  // False for inputs that do not require grad: their gradient may be left undefined.
  bool needs_input_grad(size_t i) const;

 private:
  std::vector<Tensor> saved_;
  std::vector<bool> needs_input_grad_;
};

using BackwardFn =
    std::function<std::vector<Tensor>(BackwardContext& ctx, const std::vector<Tensor>& grads)>;

// Metadata of a tensor that a node checks gradients against.
struct TensorMeta {
  Shape shape;
  Device device;
};

// The node recorded by record(): a named backward function plus its saved tensors.
class FunctionNode : public Node {
 public:
  FunctionNode(std::string name, BackwardFn backward, std::vector<TensorMeta> inputs,
               std::vector<TensorMeta> outputs);
  std::string name() const override { return name_; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;
  void release_saved() override;
  void save(const Tensor& tensor, bool is_output) { saved_.emplace_back(tensor, is_output); }

 private:
  std::string name_;
  BackwardFn backward_;
  std::vector<TensorMeta> inputs_;
  std::vector<TensorMeta> outputs_;
  std::vector<SavedTensor> saved_;
};

// True when grad mode is on and some defined tensor in `inputs` requires grad.
bool needs_grad(const std::vector<Tensor>& inputs);

// Where the gradient of `t` goes: its grad_fn's slot, a leaf's accumulator, or an invalid
// edge for tensors that do not require grad.
Edge gradient_edge(const Tensor& t);

// Connects `outputs` (fresh results of the op, no history yet) to a new FunctionNode whose
// next edges are the inputs' gradient edges. `saved` holds tensors the op did not produce
// (usually inputs); `saved_outputs` indexes `outputs`. Returns the node.
std::shared_ptr<FunctionNode> record(std::string name, const std::vector<Tensor>& inputs,
                                     const std::vector<Tensor>& outputs, BackwardFn backward,
                                     const std::vector<Tensor>& saved = {},
                                     const std::vector<size_t>& saved_outputs = {});

}  // namespace ge::autograd
