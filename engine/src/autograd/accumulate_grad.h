#pragma once
// The node that ends every path at a leaf: adds the arriving gradient into the leaf's .grad.
#include <memory>

#include "ganengine/autograd.h"

namespace ge {
class TensorImpl;
}

namespace ge::autograd {

class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf) : leaf_(leaf) {}
  std::string name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;

 private:
  // Weak: with create_graph the leaf's .grad has history that ends in this node, and a strong
  // reference would close a leaf -> grad -> ... -> AccumulateGrad -> leaf cycle. A leaf
  // nobody holds any more has no observable .grad, so its gradient is dropped.
  std::weak_ptr<TensorImpl> leaf_;
};

// The leaf's accumulator, created on first use and shared while any graph references it.
std::shared_ptr<Node> grad_accumulator(const Tensor& leaf);

}  // namespace ge::autograd
