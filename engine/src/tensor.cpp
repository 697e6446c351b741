// ge::Tensor: metadata, host transfer, autograd accessors and in-place updates. Differentiable
// ops live in ops/; the member functions that are sugar for them forward there.
#include "ganengine/tensor.h"

#include <atomic>
#include <sstream>

#include "autograd/accumulate_grad.h"
#include "cuda/runtime.h"
#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace detail {

Tensor empty_raw(const Shape& shape, Device device, Dtype dtype) {
  for (int64_t s : shape) {
    GE_CHECK(s >= 0, "empty: expected non-negative sizes, got shape ", to_string(shape));
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = make_storage(static_cast<size_t>(numel(shape)) * element_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  impl->device = device;
  return Tensor(std::move(impl));
}

Tensor alias(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  const TensorImpl& b = *base.impl();
  impl->storage = b.storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = b.dtype;
  impl->device = b.device;
  impl->version = b.version;
  return Tensor(std::move(impl));
}

}  // namespace detail

namespace {

const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl, const char* what) {
  GE_CHECK(impl != nullptr, what, ": called on an undefined tensor");
  return *impl;
}

// In-place updates are invisible to autograd, so they are refused where they could corrupt a
// gradient: on tensors that require grad while recording.
void check_inplace(const Tensor& t, const char* op) {
  detail::check_operand(t, op);
  GE_CHECK(!(t.requires_grad() && is_grad_enabled()), op,
           ": cannot modify a tensor that requires grad in place (shape ", to_string(t.shape()),
           "); use NoGradGuard (e.g. for optimizer updates) or work on a detach()ed tensor");
}

}  // namespace

Tensor::Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

const Shape& Tensor::shape() const {
  return checked(impl_, "shape").shape;
}
int64_t Tensor::size(int64_t dim) const {
  return shape()[static_cast<size_t>(wrap_dim(dim, this->dim(), "size"))];
}
const Shape& Tensor::strides() const {
  return checked(impl_, "strides").strides;
}
int64_t Tensor::stride(int64_t dim) const {
  return strides()[static_cast<size_t>(wrap_dim(dim, this->dim(), "stride"))];
}
int64_t Tensor::storage_offset() const {
  return checked(impl_, "storage_offset").offset;
}
int64_t Tensor::dim() const {
  return static_cast<int64_t>(shape().size());
}
int64_t Tensor::numel() const {
  return ge::numel(shape());
}
Dtype Tensor::dtype() const {
  return checked(impl_, "dtype").dtype;
}
Device Tensor::device() const {
  return checked(impl_, "device").device;
}
TensorOptions Tensor::options() const {
  return TensorOptions().dtype(dtype()).device(device());
}

bool Tensor::is_contiguous() const {
  const TensorImpl& impl = checked(impl_, "is_contiguous");
  if (ge::numel(impl.shape) == 0) return true;
  int64_t expected = 1;
  for (size_t i = impl.shape.size(); i-- > 0;) {
    if (impl.shape[i] == 1) continue;
    if (impl.strides[i] != expected) return false;
    expected *= impl.shape[i];
  }
  return true;
}

float* Tensor::data_ptr() const {
  const TensorImpl& impl = checked(impl_, "data_ptr");
  GE_CHECK(impl.dtype == Dtype::Float32, "data_ptr: expected dtype float32, got ",
           name(impl.dtype));
  return static_cast<float*>(impl.storage->data()) + impl.offset;
}

Tensor Tensor::to(Device device) const {
  detail::check_operand(*this, "to");
  if (device == this->device()) return *this;
  GE_CHECK(device.is_cpu() || cuda_is_available(), "to: cannot move a tensor to ", device.str(),
           ": ", cuda_rt::unavailable_reason());
  Tensor out = detail::transfer(*this, device);
  if (autograd::needs_grad({*this})) {
    const Device source = this->device();
    autograd::record("ToBackward", {*this}, {out},
                     [source](autograd::BackwardContext&, const std::vector<Tensor>& g) {
                       return std::vector<Tensor>{g[0].to(source)};
                     });
  }
  return out;
}

Tensor Tensor::contiguous() const {
  detail::check_operand(*this, "contiguous");
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::clone() const {
  detail::check_operand(*this, "clone");
  Tensor out = detail::contiguous_kernel(*this);
  if (autograd::needs_grad({*this})) {
    autograd::record("CloneBackward", {*this}, {out},
                     [](autograd::BackwardContext&, const std::vector<Tensor>& g) {
                       return std::vector<Tensor>{g[0]};
                     });
  }
  return out;
}

float Tensor::item() const {
  detail::check_operand(*this, "item");
  GE_CHECK(numel() == 1, "item: expected a tensor with one element, got shape ",
           to_string(shape()));
  return to_vector()[0];
}

std::vector<float> Tensor::to_vector() const {
  detail::check_operand(*this, "to_vector");
  const Tensor host = device().is_cpu() && is_contiguous() ? *this : detail::transfer(*this, kCPU);
  const Tensor flat = host.is_contiguous() ? host : detail::contiguous_kernel(host);
  const float* p = flat.data_ptr();
  return std::vector<float>(p, p + flat.numel());
}

Tensor Tensor::view(const Shape& s) const {
  return ge::view(*this, s);
}
Tensor Tensor::reshape(const Shape& s) const {
  return ge::reshape(*this, s);
}
Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  return ge::permute(*this, dims);
}
Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  return ge::transpose(*this, d0, d1);
}
Tensor Tensor::t() const {
  GE_CHECK(dim() == 2, "t: expected a 2-D tensor, got shape ", to_string(shape()));
  return ge::transpose(*this, 0, 1);
}
Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  return ge::slice(*this, dim, start, end, step);
}
Tensor Tensor::select(int64_t dim, int64_t index) const {
  detail::check_defined(*this, "select");
  const int64_t d = wrap_dim(dim, this->dim(), "select");
  const int64_t n = size(d);
  GE_CHECK(index >= -n && index < n, "select: index ", index, " out of range for dim ", d,
           " of size ", n);
  if (index < 0) index += n;
  return ge::slice(*this, d, index, index + 1).squeeze(d);
}
Tensor Tensor::expand(const Shape& s) const {
  return ge::expand(*this, s);
}
Tensor Tensor::squeeze(int64_t dim) const {
  return ge::squeeze(*this, dim);
}
Tensor Tensor::unsqueeze(int64_t dim) const {
  return ge::unsqueeze(*this, dim);
}
Tensor Tensor::flatten(int64_t s, int64_t e) const {
  return ge::flatten(*this, s, e);
}

Tensor Tensor::sum() const {
  return ge::sum(*this);
}
Tensor Tensor::sum(const std::vector<int64_t>& d, bool k) const {
  return ge::sum(*this, d, k);
}
Tensor Tensor::mean() const {
  return ge::mean(*this);
}
Tensor Tensor::mean(const std::vector<int64_t>& d, bool k) const {
  return ge::mean(*this, d, k);
}
Tensor Tensor::max() const {
  return ge::max(*this);
}
Tensor Tensor::max(const std::vector<int64_t>& d, bool k) const {
  return ge::max(*this, d, k);
}

bool Tensor::requires_grad() const {
  const TensorImpl& impl = checked(impl_, "requires_grad");
  return impl.requires_grad || impl.grad_fn != nullptr;
}

Tensor& Tensor::requires_grad_(bool requires_grad) {
  TensorImpl& impl = const_cast<TensorImpl&>(checked(impl_, "requires_grad_"));
  GE_CHECK(impl.grad_fn == nullptr,
           "requires_grad_: can only change the flag of a leaf tensor; "
           "this one was produced by ",
           impl.grad_fn->name(), " (use detach() first)");
  GE_CHECK(!requires_grad || impl.dtype == Dtype::Float32,
           "requires_grad_: expected dtype float32 for a tensor that requires grad, got ",
           name(impl.dtype));
  impl.requires_grad = requires_grad;
  return *this;
}

bool Tensor::is_leaf() const {
  return checked(impl_, "is_leaf").grad_fn == nullptr;
}
Tensor Tensor::grad() const {
  return checked(impl_, "grad").grad;
}

uint64_t Tensor::register_post_accumulate_grad_hook(std::function<void(const Tensor&)> hook) const {
  TensorImpl& impl = const_cast<TensorImpl&>(checked(impl_, "register_post_accumulate_grad_hook"));
  GE_CHECK(impl.grad_fn == nullptr && impl.requires_grad,
           "register_post_accumulate_grad_hook: expected a leaf that requires grad");
  GE_CHECK(static_cast<bool>(hook), "register_post_accumulate_grad_hook: expected a function");
  static std::atomic<uint64_t> next_id{1};
  const uint64_t id = next_id++;
  impl.post_accumulate_grad_hooks.emplace_back(id, std::move(hook));
  return id;
}

void Tensor::remove_post_accumulate_grad_hook(uint64_t id) const {
  TensorImpl& impl = const_cast<TensorImpl&>(checked(impl_, "remove_post_accumulate_grad_hook"));
  std::erase_if(impl.post_accumulate_grad_hooks,
                [id](const auto& entry) { return entry.first == id; });
}

void Tensor::set_grad(const Tensor& grad) const {
  TensorImpl& impl = const_cast<TensorImpl&>(checked(impl_, "set_grad"));
  if (grad.defined()) {
    GE_CHECK(grad.shape() == impl.shape, "set_grad: expected shape ", to_string(impl.shape),
             ", got ", to_string(grad.shape()));
    GE_CHECK(grad.device() == impl.device, "set_grad: expected a gradient on ", impl.device.str(),
             ", got ", grad.device().str());
  }
  impl.grad = grad;
}

void Tensor::zero_grad() const {
  set_grad(Tensor());
}

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
  return checked(impl_, "grad_fn").grad_fn;
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph, bool create_graph) const {
  checked(impl_, "backward");
  ge::backward({*this},
               grad_output.defined() ? std::vector<Tensor>{grad_output} : std::vector<Tensor>{},
               retain_graph, create_graph);
}

Tensor Tensor::detach() const {
  checked(impl_, "detach");
  return detail::alias(*this, shape(), strides(), storage_offset());
}

uint64_t Tensor::version() const {
  return checked(impl_, "version").version->load();
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace(*this, "copy_");
  detail::check_operand(src, "copy_");
  GE_CHECK(src.shape() == shape(), "copy_: expected a source of shape ", to_string(shape()),
           ", got ", to_string(src.shape()));
  Tensor from = src.device() == device() ? src : detail::transfer(src, device());
  // Source and destination may overlap (e.g. a view of the same storage): go through a copy.
  if (from.impl()->storage == impl_->storage) from = detail::contiguous_kernel(from);
  detail::copy_kernel(from.detach(), *this);
  detail::bump_version(*this);
  return *this;
}

Tensor& Tensor::fill_(float value) {
  check_inplace(*this, "fill_");
  if (is_contiguous()) {
    detail::fill_kernel(*this, value);
  } else {
    Tensor tmp = detail::empty_raw(shape(), device());
    detail::fill_kernel(tmp, value);
    detail::copy_kernel(tmp, *this);
  }
  detail::bump_version(*this);
  return *this;
}

Tensor& Tensor::zero_() {
  return fill_(0.f);
}

Tensor& Tensor::add_(const Tensor& other, float alpha) {
  check_inplace(*this, "add_");
  detail::check_operand(other, "add_");
  detail::check_same_device(*this, other, "add_");
  const Shape out = broadcast_shapes(shape(), other.shape(), "add_");
  GE_CHECK(out == shape(), "add_: the source of shape ", to_string(other.shape()),
           " must broadcast to the destination's shape ", to_string(shape()), ", not to ",
           to_string(out));
  kernels::UnaryParams p;
  p.a = alpha;
  const Tensor scaled =
      alpha == 1.f ? other : detail::unary_kernel(kernels::UnaryOp::MulScalar, other, p);
  const Tensor sum = detail::binary_kernel(kernels::BinaryOp::Add, *this, scaled, "add_");
  detail::copy_kernel(sum, *this);
  detail::bump_version(*this);
  return *this;
}

Tensor& Tensor::mul_(float value) {
  check_inplace(*this, "mul_");
  kernels::UnaryParams p;
  p.a = value;
  const Tensor prod = detail::unary_kernel(kernels::UnaryOp::MulScalar, *this, p);
  detail::copy_kernel(prod, *this);
  detail::bump_version(*this);
  return *this;
}

std::string Tensor::str() const {
  if (!impl_) return "Tensor(undefined)";
  std::ostringstream out;
  out << "Tensor(shape=" << to_string(shape()) << ", device=" << device().str()
      << ", dtype=" << name(dtype());
  if (impl_->grad_fn)
    out << ", grad_fn=" << impl_->grad_fn->name();
  else if (impl_->requires_grad)
    out << ", requires_grad=true";
  if (dtype() == Dtype::Float32 && numel() <= 64) {
    out << ", values=[";
    const std::vector<float> v = to_vector();
    for (size_t i = 0; i < v.size(); ++i)
      out << (i ? ", " : "") << v[i];
    out << "]";
  }
  out << ")";
  return out.str();
}

}  // namespace ge
