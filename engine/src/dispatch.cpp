#include "dispatch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cuda/runtime.h"
#include "ganengine/error.h"
#include "ganengine/kernels/copy.h"
#include "ganengine/precision.h"
#include "tensor_impl.h"

namespace ge::detail {

namespace k = ge::kernels;

void check_defined(const Tensor& t, const char* op) {
  GE_CHECK(t.defined(), op, ": expected a defined tensor, got an undefined one");
}

void check_float(const Tensor& t, const char* op) {
  GE_CHECK(t.dtype() == Dtype::Float32, op, ": expected dtype float32, got ", name(t.dtype()));
}

void check_operand(const Tensor& t, const char* op) {
  check_defined(t, op);
  check_float(t, op);
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  GE_CHECK(a.device() == b.device(), op, ": expected all tensors on the same device, got ",
           a.device().str(), " and ", b.device().str());
}

k::StridedShape strided_shape(const Shape& shape, const char* op) {
  GE_CHECK(shape.size() <= static_cast<size_t>(k::kMaxDims), op, ": expected at most ", k::kMaxDims,
           " dims, got ", shape.size(), " (shape ", to_string(shape), ")");
  k::StridedShape s;
  // Kernels see a 0-d tensor as one element of a 1-d tensor.
  if (shape.empty()) {
    s.ndim = 1;
    s.shape[0] = 1;
    return s;
  }
  s.ndim = static_cast<int>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i)
    s.shape[i] = shape[i];
  return s;
}

k::Strides broadcast_strides(const Tensor& t, const Shape& out, const char* op) {
  k::Strides s;
  const Shape& shape = t.shape();
  GE_CHECK(shape.size() <= out.size(), op, ": cannot read shape ", to_string(shape), " as ",
           to_string(out));
  const size_t lead = out.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    s.v[lead + i] = shape[i] == 1 ? 0 : t.strides()[i];
  }
  return s;
}

namespace {

k::Strides plain_strides(const Tensor& t) {
  k::Strides s;
  for (size_t i = 0; i < t.strides().size(); ++i)
    s.v[i] = t.strides()[i];
  return s;
}

k::Stream stream_of(Device d) {
  return cuda_rt::stream(d);
}

}  // namespace

Tensor unary_kernel(k::UnaryOp op, const Tensor& x, k::UnaryParams p) {
  const Tensor src = x.is_contiguous() ? x : contiguous_kernel(x);
  Tensor out = empty_raw(x.shape(), x.device());
  const int64_t n = out.numel();
  if (n == 0) return out;
  if (x.device().is_cuda()) {
    k::cuda::unary(op, p, src.data_ptr(), out.data_ptr(), n, stream_of(x.device()));
  } else {
    k::cpu::unary(op, p, src.data_ptr(), out.data_ptr(), n);
  }
  return out;
}

Tensor binary_kernel(k::BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_operand(a, name);
  check_operand(b, name);
  check_same_device(a, b, name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty_raw(shape, a.device());
  if (out.numel() == 0) return out;
  const k::StridedShape ss = strided_shape(shape, name);
  const k::Strides sa = broadcast_strides(a, shape, name);
  const k::Strides sb = broadcast_strides(b, shape, name);
  if (a.device().is_cuda()) {
    k::cuda::binary(op, a.data_ptr(), sa, b.data_ptr(), sb, out.data_ptr(), ss,
                    stream_of(a.device()));
  } else {
    k::cpu::binary(op, a.data_ptr(), sa, b.data_ptr(), sb, out.data_ptr(), ss);
  }
  return out;
}

// Adjacent reduced dims merge into one [outer, r, inner] call, so a bias gradient's sum over
// {0, 2, 3} of [N, C, H, W] is one pass over the data (r = H * W) and one over the small
// [N, C] partial (r = N). Runs go from the last dim back, each call's output feeding the next.
Tensor reduce_kernel(k::ReduceOp op, const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  Tensor cur = x.is_contiguous() ? x : contiguous_kernel(x);
  Shape shape = x.shape();
  if (dims.empty()) {
    for (size_t d = 0; d < shape.size(); ++d)
      dims.push_back(static_cast<int64_t>(d));
  }
  std::sort(dims.begin(), dims.end(), std::greater<>());
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  if (shape.empty()) {
    // A 0-d tensor reduces to itself (as a copy: results never alias inputs).
    Tensor out = empty_raw(shape, x.device());
    copy_kernel(cur, out);
    return out;
  }
  for (int64_t d : dims) {
    GE_CHECK(
        shape[static_cast<size_t>(d)] > 0 || (op != k::ReduceOp::Max && op != k::ReduceOp::Min),
        name(op), ": cannot reduce an empty dim (shape ", to_string(x.shape()), ", dim ", d, ")");
  }
  bool reduced = false;
  for (size_t i = 0; i < dims.size();) {
    const int64_t hi = dims[i];
    int64_t lo = hi;
    while (++i < dims.size() && dims[i] == lo - 1)
      lo = dims[i];
    int64_t outer = 1, r = 1, inner = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
      const auto dim = static_cast<int64_t>(d);
      if (dim < lo) {
        outer *= shape[d];
      } else if (dim > hi) {
        inner *= shape[d];
      } else {
        r *= shape[d];
        shape[d] = 1;
      }
    }
    // Size-1 dims reduce to themselves: nothing to run.
    if (r == 1) continue;
    Tensor next = empty_raw(shape, x.device());
    if (next.numel() > 0) {
      if (r == 0) {
        fill_kernel(next, op == k::ReduceOp::Mean ? std::nanf("") : 0.f);
      } else if (x.device().is_cuda()) {
        k::cuda::reduce(op, cur.data_ptr(), next.data_ptr(), outer, r, inner,
                        stream_of(x.device()));
      } else {
        k::cpu::reduce(op, cur.data_ptr(), next.data_ptr(), outer, r, inner);
      }
    }
    cur = next;
    reduced = true;
  }
  if (!reduced && cur.data_ptr() == x.data_ptr()) {
    // Only size-1 dims were reduced: the values are x's own, copied (results never alias inputs).
    Tensor out = empty_raw(shape, x.device());
    copy_kernel(cur, out);
    cur = out;
  }
  if (!keepdim) {
    Shape kept;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (std::find(dims.begin(), dims.end(), static_cast<int64_t>(i)) == dims.end()) {
        kept.push_back(shape[i]);
      }
    }
    cur = alias(cur, kept, contiguous_strides(kept), cur.storage_offset());
  }
  return cur;
}

void copy_kernel(const Tensor& src, const Tensor& dst) {
  GE_CHECK(src.device() == dst.device(), "copy: expected tensors on one device, got ",
           src.device().str(), " and ", dst.device().str());
  GE_CHECK(src.shape() == dst.shape(), "copy: expected equal shapes, got ", to_string(src.shape()),
           " and ", to_string(dst.shape()));
  if (dst.numel() == 0) return;
  const k::StridedShape ss = strided_shape(dst.shape(), "copy");
  k::Strides s_src = plain_strides(src), s_dst = plain_strides(dst);
  if (src.dim() == 0) s_src.v[0] = s_dst.v[0] = 1;
  if (src.device().is_cuda()) {
    k::cuda::strided_copy(src.data_ptr(), s_src, dst.data_ptr(), s_dst, ss,
                          stream_of(src.device()));
  } else {
    k::cpu::strided_copy(src.data_ptr(), s_src, dst.data_ptr(), s_dst, ss);
  }
}

Tensor contiguous_kernel(const Tensor& x) {
  Tensor out = empty_raw(x.shape(), x.device(), x.dtype());
  check_float(x, "contiguous");
  copy_kernel(x, out);
  return out;
}

Tensor transfer(const Tensor& x, Device device) {
  check_float(x, "to");
  const Tensor src = x.is_contiguous() ? x : contiguous_kernel(x);
  Tensor out = empty_raw(x.shape(), device);
  const size_t bytes = static_cast<size_t>(x.numel()) * sizeof(float);
  if (bytes == 0) return out;
  if (x.device().is_cpu() && device.is_cpu()) {
    std::memcpy(out.data_ptr(), src.data_ptr(), bytes);
  } else if (x.device().is_cpu()) {
    upload(src.data_ptr(), out);
  } else if (device.is_cpu()) {
    cuda_rt::copy_to_host(out.data_ptr(), src.data_ptr(), bytes, x.device());
  } else {
    // Between two CUDA devices: through the host, ordered on both engine streams.
    const Tensor host = transfer(src, kCPU);
    out = transfer(host, device);
  }
  return out;
}

void upload(const float* host, const Tensor& dst) {
  const size_t bytes = static_cast<size_t>(dst.numel()) * sizeof(float);
  if (bytes == 0) return;
  if (dst.device().is_cpu()) {
    std::memcpy(dst.data_ptr(), host, bytes);
    return;
  }
  cuda_rt::copy_from_host(dst.data_ptr(), host, bytes, dst.device());
}

void fill_kernel(const Tensor& dst, float value) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  k::UnaryParams p;
  p.a = value;
  if (dst.device().is_cuda()) {
    k::cuda::unary(k::UnaryOp::Fill, p, nullptr, dst.data_ptr(), n, stream_of(dst.device()));
  } else {
    k::cpu::unary(k::UnaryOp::Fill, p, nullptr, dst.data_ptr(), n);
  }
}

void gemm_kernel(const k::GemmArgs& args, Device device) {
  if (device.is_cuda()) {
    k::cuda::gemm(args, stream_of(device),
                  allow_tf32_matmul() ? k::cuda::GemmMath::Tf32 : k::cuda::GemmMath::Fp32);
  } else {
    k::cpu::gemm(args);
  }
}

}  // namespace ge::detail
