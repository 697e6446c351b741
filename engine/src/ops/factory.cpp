// Tensor factories. Results are leaves; options.requires_grad() marks them as parameters.
#include "cuda/runtime.h"
#include "dispatch.h"
#include "ganengine/error.h"
#include "ganengine/kernels/random.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

Tensor allocate(const char* op, const Shape& shape, const TensorOptions& options,
                bool float_only = true) {
  GE_CHECK(!float_only || options.dtype() == Dtype::Float32, op, ": expected dtype float32, got ",
           name(options.dtype()));
  for (int64_t s : shape) {
    GE_CHECK(s >= 0, op, ": expected non-negative sizes, got shape ", to_string(shape));
  }
  GE_CHECK(options.device().is_cpu() || cuda_is_available(), op, ": cannot allocate on ",
           options.device().str(), ": ", cuda_rt::unavailable_reason());
  return detail::empty_raw(shape, options.device(), options.dtype());
}

Tensor finish(Tensor t, const TensorOptions& options) {
  if (options.requires_grad()) t.requires_grad_(true);
  return t;
}

}  // namespace

Tensor empty(const Shape& shape, const TensorOptions& options) {
  return finish(allocate("empty", shape, options, false), options);
}

Tensor full(const Shape& shape, float value, const TensorOptions& options) {
  Tensor t = allocate("full", shape, options);
  detail::fill_kernel(t, value);
  return finish(t, options);
}

Tensor zeros(const Shape& shape, const TensorOptions& options) {
  return full(shape, 0.f, options);
}
Tensor ones(const Shape& shape, const TensorOptions& options) {
  return full(shape, 1.f, options);
}
Tensor scalar_tensor(float value, const TensorOptions& options) {
  return full({}, value, options);
}

Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                   const TensorOptions& options) {
  GE_CHECK(static_cast<int64_t>(values.size()) == numel(shape), "from_vector: expected ",
           numel(shape), " values for shape ", to_string(shape), ", got ", values.size());
  Tensor t = allocate("from_vector", shape, options);
  detail::upload(values.data(), t);
  return finish(t, options);
}

Tensor arange(int64_t n, const TensorOptions& options) {
  GE_CHECK(n >= 0, "arange: expected a non-negative count, got ", n);
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    values[static_cast<size_t>(i)] = static_cast<float>(i);
  return from_vector(values, {n}, options);
}

namespace {

enum class Distribution { Uniform, Normal };

Tensor sample(const char* op, Distribution dist, const Shape& shape, const TensorOptions& options,
              Generator* generator) {
  Tensor t = allocate(op, shape, options);
  const int64_t n = t.numel();
  if (n == 0) return finish(t, options);
  Generator& gen = generator ? *generator : default_generator();
  // Counters are reserved before the kernel runs, so concurrent callers draw disjoint numbers.
  const uint64_t offset = gen.advance(kernels::philox_offset_increment(n));
  const uint64_t seed = gen.seed();
  if (t.device().is_cuda()) {
    const kernels::Stream s = cuda_rt::stream(t.device());
    if (dist == Distribution::Uniform) {
      kernels::cuda::uniform(t.data_ptr(), n, seed, offset, 0.f, 1.f, s);
    } else {
      kernels::cuda::normal(t.data_ptr(), n, seed, offset, 0.f, 1.f, s);
    }
  } else if (dist == Distribution::Uniform) {
    kernels::cpu::uniform(t.data_ptr(), n, seed, offset, 0.f, 1.f);
  } else {
    kernels::cpu::normal(t.data_ptr(), n, seed, offset, 0.f, 1.f);
  }
  return finish(t, options);
}

}  // namespace

Tensor rand(const Shape& shape, const TensorOptions& options, Generator* generator) {
  return sample("rand", Distribution::Uniform, shape, options, generator);
}

Tensor randn(const Shape& shape, const TensorOptions& options, Generator* generator) {
  return sample("randn", Distribution::Normal, shape, options, generator);
}

Tensor zeros_like(const Tensor& t) {
  detail::check_defined(t, "zeros_like");
  return zeros(t.shape(), t.options());
}
Tensor ones_like(const Tensor& t) {
  detail::check_defined(t, "ones_like");
  return ones(t.shape(), t.options());
}
Tensor randn_like(const Tensor& t, Generator* generator) {
  detail::check_defined(t, "randn_like");
  return randn(t.shape(), t.options(), generator);
}

}  // namespace ge
