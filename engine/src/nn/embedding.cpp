#include "ganengine/nn/embedding.h"

#include <cmath>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/nn/init.h"
#include "ganengine/ops.h"

namespace ge::nn {

Tensor one_hot(const Tensor& labels, int64_t num_classes) {
  GE_CHECK(labels.defined(), "one_hot: expected defined labels");
  GE_CHECK(labels.dim() == 1, "one_hot: expected labels of shape [N], got shape ",
           to_string(labels.shape()));
  GE_CHECK(num_classes > 0, "one_hot: expected num_classes > 0, got ", num_classes);
  const std::vector<float> ids = labels.to_vector();
  std::vector<float> rows(ids.size() * static_cast<size_t>(num_classes), 0.f);
  for (size_t i = 0; i < ids.size(); ++i) {
    const float id = ids[i];
    GE_CHECK(std::isfinite(id) && id == std::floor(id) && id >= 0.f &&
                 id < static_cast<float>(num_classes),
             "one_hot: expected integer labels in [0, ", num_classes, "), got ", id, " at index ",
             i);
    rows[i * static_cast<size_t>(num_classes) + static_cast<size_t>(id)] = 1.f;
  }
  return from_vector(rows, {labels.size(0), num_classes}, labels.device());
}

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator* generator)
    : num_embeddings(num_embeddings), embedding_dim(embedding_dim) {
  GE_CHECK(num_embeddings > 0 && embedding_dim > 0,
           "Embedding: expected positive num_embeddings and embedding_dim, got ", num_embeddings,
           " and ", embedding_dim);
  weight = empty({num_embeddings, embedding_dim});
  init::normal_(weight, 0.f, 1.f, generator);
  register_parameter("weight", weight);
}

// A one-hot matmul rather than a gather: the gradient wrt the weight then comes from matmul's
// backward, which every order of differentiation already covers.
Tensor Embedding::forward(const Tensor& labels) {
  GE_CHECK(labels.defined() && labels.device() == weight.device(),
           "Embedding: expected labels on the weight's device ", weight.device().str(), ", got ",
           labels.defined() ? labels.device().str() : std::string("an undefined tensor"));
  return matmul(one_hot(labels, num_embeddings), weight);
}

}  // namespace ge::nn
