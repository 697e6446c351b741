#pragma once
// What the evaluations share: real images in batches and what the MNIST classifier reads in them.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "ganengine/models/classifier.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/ops.h"

namespace ge::models::detail {

// The first `count` samples of `ds` in batches of `batch` on `device`: consume(first, images).
template <class Consume>
void real_batches(const data::Dataset& ds, int64_t count, int64_t batch, Device device,
                  Consume&& consume) {
  const Shape shape = ds.sample_shape();
  const int64_t per_sample = numel(shape);
  for (int64_t start = 0; start < count; start += batch) {
    const int64_t n = std::min(batch, count - start);
    std::vector<float> buffer(static_cast<size_t>(n * per_sample));
    for (int64_t i = 0; i < n; ++i)
      ds.get(start + i, buffer.data() + i * per_sample);
    Shape batch_shape = {n};
    batch_shape.insert(batch_shape.end(), shape.begin(), shape.end());
    consume(start, from_vector(buffer, batch_shape, device));
  }
}

// What the classifier reads in a set of images: class probabilities (softmax in double) and the
// penultimate features, both [N, ...] row-major.
struct Readings {
  int64_t count = 0;
  std::vector<float> probs;
  std::vector<float> features;
  std::vector<int64_t> labels;  // argmax of probs

  // Reads `images` ([N, 1, 32, 32], clamped to [-1, 1] first) without autograd.
  void add(MnistClassifier& net, const Tensor& images);
  Tensor probs_tensor() const;     // [count, 10] on the CPU
  Tensor features_tensor() const;  // [count, kFeatureDim] on the CPU
};

}  // namespace ge::models::detail
