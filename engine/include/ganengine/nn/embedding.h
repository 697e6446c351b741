#pragma once
#include "ganengine/nn/module.h"
#include "ganengine/random.h"

namespace ge::nn {

// One-hot rows: labels [N] holding class ids 0..num_classes-1 as float32 -> [N, num_classes] on
// the labels' device. A label that is not an integer in range is an error naming it.
Tensor one_hot(const Tensor& labels, int64_t num_classes);

// torch.nn.Embedding: weight [num_embeddings, dim] ~ N(0, 1); forward(labels [N]) -> [N, dim],
// differentiable wrt weight.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator* generator = nullptr);
  std::string name() const override { return "Embedding"; }
  Tensor forward(const Tensor& labels) override;
  Tensor weight;
  const int64_t num_embeddings, embedding_dim;
};

}  // namespace ge::nn
