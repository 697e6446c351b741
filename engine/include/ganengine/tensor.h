#pragma once
// ge::Tensor: a shared handle to storage + shape + strides + offset + dtype + device, with
// autograd metadata. Copying a Tensor copies the handle (like torch::Tensor).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/device.h"
#include "ganengine/dtype.h"
#include "ganengine/shape.h"
#include "ganengine/tensor_options.h"

namespace ge {

class TensorImpl;
namespace autograd {
class Node;
}

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl);

  bool defined() const { return impl_ != nullptr; }
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

  // --- metadata
  const Shape& shape() const;
  const Shape& sizes() const { return shape(); }
  int64_t size(int64_t dim) const;  // negative dims count from the end
  const Shape& strides() const;     // in elements
  int64_t stride(int64_t dim) const;
  int64_t storage_offset() const;  // in elements
  int64_t dim() const;
  int64_t numel() const;
  Dtype dtype() const;
  Device device() const;
  TensorOptions options() const;
  bool is_contiguous() const;
  // Typed pointer to the first element (device memory for cuda tensors).
  float* data_ptr() const;

  // --- host transfer and conversion
  Tensor to(Device device) const;  // differentiable; returns *this when already there
  Tensor cpu() const { return to(kCPU); }
  Tensor cuda() const { return to(kCUDA); }
  Tensor contiguous() const;             // differentiable; returns *this when already contiguous
  Tensor clone() const;                  // differentiable copy with its own storage
  float item() const;                    // numel must be 1
  std::vector<float> to_vector() const;  // row-major copy to the host

  // --- views (share storage; differentiable)
  Tensor view(const Shape& shape) const;     // requires a viewable layout; one dim may be -1
  Tensor reshape(const Shape& shape) const;  // view when possible, else a copy
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // 2-D transpose
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;  // removes dim
  Tensor expand(const Shape& shape) const;          // -1 keeps a size
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;

  // --- reductions (sugar for the free functions in ops.h)
  Tensor sum() const;
  Tensor sum(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor max() const;
  Tensor max(const std::vector<int64_t>& dims, bool keepdim = false) const;

  // --- autograd
  bool requires_grad() const;
  Tensor& requires_grad_(bool requires_grad = true);  // leaves only
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward reaches this leaf
  void set_grad(const Tensor& grad) const;
  void zero_grad() const;  // drops .grad (like set_to_none=True)
  // torch.Tensor.register_post_accumulate_grad_hook, leaves only: hook(leaf) runs after each
  // backward() has added this leaf's gradient into .grad (not for grad(), which returns its
  // gradients instead). Returns an id for remove_post_accumulate_grad_hook.
  uint64_t register_post_accumulate_grad_hook(std::function<void(const Tensor&)> hook) const;
  void remove_post_accumulate_grad_hook(uint64_t id) const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  // backward() of a non-scalar needs grad_output. Gradients accumulate into leaves' .grad.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;
  Tensor detach() const;     // shares storage, no history
  uint64_t version() const;  // bumped by every in-place op

  // --- in-place (not recorded by autograd; refused on tensors that require grad unless under
  // NoGradGuard). Used by optimizers, initialisers and data loading.
  Tensor& copy_(const Tensor& src);  // any device to any device, same numel and shape
  Tensor& fill_(float value);
  Tensor& zero_();
  Tensor& add_(const Tensor& other, float alpha = 1.f);  // this += alpha * other (broadcast)
  Tensor& mul_(float value);

  std::string str() const;  // shape, device and (small tensors) values

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Arithmetic operators (differentiable, broadcasting).
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, float b);
Tensor operator-(const Tensor& a, float b);
Tensor operator*(const Tensor& a, float b);
Tensor operator/(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(float a, const Tensor& b);
Tensor operator-(const Tensor& a);

}  // namespace ge
