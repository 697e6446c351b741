// Reductions and their gradients (which broadcast the incoming gradient back).
#include <algorithm>

#include "dispatch.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge {

namespace {

using autograd::BackwardContext;
using Grads = std::vector<Tensor>;
using kernels::ReduceOp;

// Wrapped, sorted, duplicate-free dims; empty means all dims.
std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t ndim,
                                    const char* op) {
  std::vector<int64_t> out;
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, ndim, op);
    GE_CHECK(std::find(out.begin(), out.end(), w) == out.end(), op, ": dim ", d,
             " appears more than once in the reduced dims");
    out.push_back(w);
  }
  if (out.empty()) {
    for (int64_t d = 0; d < ndim; ++d)
      out.push_back(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The reduced result's shape with the reduced dims kept as size 1.
Shape keepdim_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape s = shape;
  for (int64_t d : dims)
    s[static_cast<size_t>(d)] = 1;
  return s;
}

// Brings a reduced gradient (or result) back to `shape` by restoring the reduced dims.
Tensor expand_reduced(const Tensor& g, const Shape& shape, const std::vector<int64_t>& dims) {
  return g.reshape(keepdim_shape(shape, dims)).expand(shape);
}

int64_t reduced_count(const Shape& shape, const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= shape[static_cast<size_t>(d)];
  return n;
}

}  // namespace

Tensor sum(const Tensor& x) {
  return sum(x, {}, false);
}

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  detail::check_operand(x, "sum");
  const std::vector<int64_t> d = normalize_dims(dims, x.dim(), "sum");
  Tensor out =
      detail::reduce_kernel(ReduceOp::Sum, x, x.dim() == 0 ? std::vector<int64_t>{} : d, keepdim);
  if (autograd::needs_grad({x})) {
    autograd::record("SumBackward", {x}, {out},
                     [shape = x.shape(), d](BackwardContext&, const Grads& g) {
                       return Grads{expand_reduced(g[0], shape, d)};
                     });
  }
  return out;
}

Tensor mean(const Tensor& x) {
  return mean(x, {}, false);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  detail::check_operand(x, "mean");
  const std::vector<int64_t> d = normalize_dims(dims, x.dim(), "mean");
  Tensor out =
      detail::reduce_kernel(ReduceOp::Mean, x, x.dim() == 0 ? std::vector<int64_t>{} : d, keepdim);
  if (autograd::needs_grad({x})) {
    const float count = static_cast<float>(x.dim() == 0 ? 1 : reduced_count(x.shape(), d));
    autograd::record("MeanBackward", {x}, {out},
                     [shape = x.shape(), d, count](BackwardContext&, const Grads& g) {
                       return Grads{expand_reduced(g[0] / count, shape, d)};
                     });
  }
  return out;
}

Tensor max(const Tensor& x) {
  return max(x, {}, false);
}

Tensor max(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  detail::check_operand(x, "max");
  GE_CHECK(x.numel() > 0, "max: expected a non-empty tensor, got shape ", to_string(x.shape()));
  const std::vector<int64_t> d = normalize_dims(dims, x.dim(), "max");
  Tensor out =
      detail::reduce_kernel(ReduceOp::Max, x, x.dim() == 0 ? std::vector<int64_t>{} : d, keepdim);
  if (autograd::needs_grad({x})) {
    autograd::record("MaxBackward", {x}, {out},
                     [d](BackwardContext& ctx, const Grads& g) {
                       const Tensor& in = ctx.saved(0);
                       const Tensor& y = ctx.saved(1);
                       if (in.dim() == 0) return Grads{g[0]};
                       // Ties share the gradient equally (amax semantics). The mask has no history.
                       const Tensor mask = eq(in, expand_reduced(y.detach(), in.shape(), d));
                       const Tensor count = sum(mask, d, true);
                       return Grads{expand_reduced(g[0], in.shape(), d) * (mask / count)};
                     },
                     {x}, {0});
  }
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  detail::check_operand(x, "sum_to");
  if (x.shape() == shape) return x;
  const Shape& from = x.shape();
  GE_CHECK(shape.size() <= from.size(), "sum_to: cannot sum shape ", to_string(from), " to shape ",
           to_string(shape), " (more dims)");
  const size_t lead = from.size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < from.size(); ++i) {
    if (i < lead) {
      dims.push_back(static_cast<int64_t>(i));
      continue;
    }
    const int64_t target = shape[i - lead];
    GE_CHECK(target == from[i] || target == 1, "sum_to: cannot sum shape ", to_string(from),
             " to shape ", to_string(shape), " (dim ", i, ": ", from[i], " vs ", target, ")");
    if (target == 1 && from[i] != 1) dims.push_back(static_cast<int64_t>(i));
  }
  if (dims.empty()) return x.reshape(shape);
  return sum(x, dims, true).reshape(shape);
}

}  // namespace ge
