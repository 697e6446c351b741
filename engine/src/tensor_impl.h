#pragma once
// The shared state behind ge::Tensor handles. Internal to the engine.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/tensor.h"
#include "storage.h"

namespace ge {

// Shared by a tensor and all its views: an in-place write through any alias must invalidate
// tensors saved for backward through any other alias.
using VersionCounter = std::atomic<uint64_t>;

class TensorImpl {
 public:
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  Dtype dtype = Dtype::Float32;
  Device device = kCPU;
  std::shared_ptr<VersionCounter> version = std::make_shared<VersionCounter>(0);

  // Autograd metadata. requires_grad is the leaf flag; a tensor with a grad_fn requires grad
  // through it.
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<autograd::Node> grad_fn;
  uint32_t output_nr = 0;
  // Weak: the leaf must not keep its accumulator (and through it, itself) alive.
  std::weak_ptr<autograd::Node> grad_accumulator;
  // Called by the leaf's AccumulateGrad after each backward's gradient lands in .grad, by id.
  std::vector<std::pair<uint64_t, std::function<void(const Tensor&)>>> post_accumulate_grad_hooks;
};

namespace detail {

// A new contiguous tensor with uninitialised contents and no history.
Tensor empty_raw(const Shape& shape, Device device, Dtype dtype = Dtype::Float32);
// A tensor viewing `base`'s storage with another layout: shares storage and version counter,
// has no autograd metadata.
Tensor alias(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset);
inline uint64_t current_version(const Tensor& t) {
  return t.impl()->version->load();
}
inline void bump_version(const Tensor& t) {
  t.impl()->version->fetch_add(1);
}

}  // namespace detail
}  // namespace ge
