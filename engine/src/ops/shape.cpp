// Views (share storage, version counter) and the copying shape ops cat and stack.
#include <algorithm>
#include <optional>

#include "dispatch.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

Tensor make_view(const char* name, const Tensor& x, const Shape& shape, const Shape& strides,
                 int64_t offset, autograd::BackwardFn backward) {
  Tensor out = detail::alias(x, shape, strides, offset);
  if (autograd::needs_grad({x})) autograd::record(name, {x}, {out}, std::move(backward));
  return out;
}

// Replaces one -1 by the size that keeps numel.
Shape infer_shape(const Shape& shape, int64_t numel, const char* op) {
  Shape out = shape;
  int64_t known = 1;
  std::optional<size_t> infer;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      GE_CHECK(!infer, op, ": only one dim may be -1, got shape ", to_string(shape));
      infer = i;
    } else {
      GE_CHECK(out[i] >= 0, op, ": invalid size ", out[i], " in shape ", to_string(shape));
      known *= out[i];
    }
  }
  if (infer) {
    GE_CHECK(known != 0 && numel % known == 0, op, ": shape ", to_string(shape),
             " is invalid for a tensor of ", numel, " elements");
    out[*infer] = numel / known;
  }
  GE_CHECK(ge::numel(out) == numel, op, ": shape ", to_string(shape),
           " is invalid for a tensor of ", numel, " elements");
  return out;
}

// Strides that let `shape` view memory laid out as (old_shape, old_strides), if any: dims
// of the new shape must split or merge runs of old dims that are contiguous with each other.
std::optional<Shape> view_strides(const Shape& old_shape, const Shape& old_strides,
                                  const Shape& shape) {
  if (old_shape.empty() || numel(old_shape) == 0) return contiguous_strides(shape);
  Shape strides(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    const size_t ud = static_cast<size_t>(d);
    tensor_numel *= old_shape[ud];
    const bool chunk_ends =
        d == 0 || (old_shape[ud - 1] != 1 && old_strides[ud - 1] != tensor_numel * chunk_base);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || shape[static_cast<size_t>(view_d)] == 1)) {
      strides[static_cast<size_t>(view_d)] = view_numel * chunk_base;
      view_numel *= shape[static_cast<size_t>(view_d)];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_base = old_strides[ud - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

// Gradient of slice: the slice's gradient placed into zeros of the source shape. Its own
// gradient is the slice again, so second order works through it.
Tensor slice_backward(const Tensor& g, const Shape& shape, int64_t dim, int64_t start, int64_t end,
                      int64_t step) {
  Tensor out = zeros(shape, g.device());
  const size_t d = static_cast<size_t>(dim);
  Shape ws = out.shape(), st = out.strides();
  ws[d] = g.shape()[d];
  st[d] *= step;
  detail::copy_kernel(g, detail::alias(out, ws, st, start * out.strides()[d]));
  if (autograd::needs_grad({g})) {
    autograd::record("SliceBackwardBackward", {g}, {out},
                     [dim, start, end, step](BackwardContext&, const Grads& gg) {
                       return Grads{gg[0].slice(dim, start, end, step)};
                     });
  }
  return out;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  detail::check_operand(x, "view");
  const Shape s = infer_shape(shape, x.numel(), "view");
  const std::optional<Shape> strides = view_strides(x.shape(), x.strides(), s);
  GE_CHECK(strides.has_value(), "view: shape ", to_string(s), " is not compatible with the ",
           "layout of the input (shape ", to_string(x.shape()), ", strides ",
           to_string(x.strides()), "); use reshape() to copy");
  return make_view(
      "ViewBackward", x, s, *strides, x.storage_offset(),
      [src = x.shape()](BackwardContext&, const Grads& g) { return Grads{g[0].reshape(src)}; });
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  detail::check_operand(x, "reshape");
  const Shape s = infer_shape(shape, x.numel(), "reshape");
  if (view_strides(x.shape(), x.strides(), s)) return view(x, s);
  return view(x.clone(), s);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  detail::check_operand(x, "permute");
  const int64_t n = x.dim();
  GE_CHECK(static_cast<int64_t>(dims.size()) == n, "permute: expected ", n, " dims, got ",
           dims.size());
  Shape shape(dims.size()), strides(dims.size());
  std::vector<int64_t> inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], n, "permute");
    GE_CHECK(inverse[static_cast<size_t>(d)] == -1, "permute: dims ", to_string(dims),
             " repeat dim ", dims[i], "; expected a permutation of 0..", n - 1);
    inverse[static_cast<size_t>(d)] = static_cast<int64_t>(i);
    shape[i] = x.shape()[static_cast<size_t>(d)];
    strides[i] = x.strides()[static_cast<size_t>(d)];
  }
  return make_view(
      "PermuteBackward", x, shape, strides, x.storage_offset(),
      [inverse](BackwardContext&, const Grads& g) { return Grads{g[0].permute(inverse)}; });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  detail::check_operand(x, "transpose");
  const int64_t a = wrap_dim(dim0, x.dim(), "transpose");
  const int64_t b = wrap_dim(dim1, x.dim(), "transpose");
  if (x.dim() == 0)
    return make_view("TransposeBackward", x, {}, {}, x.storage_offset(),
                     [](BackwardContext&, const Grads& g) { return Grads{g[0]}; });
  Shape shape = x.shape(), strides = x.strides();
  std::swap(shape[static_cast<size_t>(a)], shape[static_cast<size_t>(b)]);
  std::swap(strides[static_cast<size_t>(a)], strides[static_cast<size_t>(b)]);
  return make_view(
      "TransposeBackward", x, shape, strides, x.storage_offset(),
      [a, b](BackwardContext&, const Grads& g) { return Grads{g[0].transpose(a, b)}; });
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  detail::check_operand(x, "slice");
  GE_CHECK(x.dim() > 0, "slice: expected a tensor with at least one dim, got a 0-d tensor");
  GE_CHECK(step > 0, "slice: expected a positive step, got ", step);
  const int64_t d = wrap_dim(dim, x.dim(), "slice");
  const int64_t n = x.shape()[static_cast<size_t>(d)];
  // Negative bounds count from the end; bounds outside the dim are an error rather than
  // silently clamped, since they are almost always an indexing bug.
  const int64_t given_start = start, given_end = end;
  if (start < 0) start += n;
  if (end < 0) end += n;
  GE_CHECK(start >= 0 && start <= end && end <= n, "slice: range [", given_start, ", ", given_end,
           ") is out of bounds for dim ", d, " of size ", n);
  Shape shape = x.shape(), strides = x.strides();
  shape[static_cast<size_t>(d)] = (end - start + step - 1) / step;
  strides[static_cast<size_t>(d)] *= step;
  const int64_t offset = x.storage_offset() + start * x.strides()[static_cast<size_t>(d)];
  return make_view("SliceBackward", x, shape, strides, offset,
                   [src = x.shape(), d, start, end, step](BackwardContext&, const Grads& g) {
                     return Grads{slice_backward(g[0], src, d, start, end, step)};
                   });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  detail::check_operand(x, "expand");
  const Shape& from = x.shape();
  GE_CHECK(shape.size() >= from.size(), "expand: cannot expand shape ", to_string(from), " to ",
           to_string(shape), " (fewer dims)");
  const size_t lead = shape.size() - from.size();
  Shape out(shape.size()), strides(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      GE_CHECK(shape[i] >= 0, "expand: size -1 is not allowed for a new leading dim (shape ",
               to_string(shape), ")");
      out[i] = shape[i];
      continue;
    }
    const int64_t src = from[i - lead];
    const int64_t want = shape[i] == -1 ? src : shape[i];
    GE_CHECK(want == src || src == 1, "expand: cannot expand shape ", to_string(from), " to ",
             to_string(shape), " (dim ", i, ": ", src, " vs ", want, ")");
    out[i] = want;
    strides[i] = want == src ? x.strides()[i - lead] : 0;
  }
  if (out == from) return x;
  return make_view(
      "ExpandBackward", x, out, strides, x.storage_offset(),
      [src = from](BackwardContext&, const Grads& g) { return Grads{sum_to(g[0], src)}; });
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  detail::check_operand(x, "squeeze");
  if (x.dim() == 0) return x;
  const int64_t d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.shape()[static_cast<size_t>(d)] != 1) return x;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return make_view(
      "SqueezeBackward", x, shape, strides, x.storage_offset(),
      [src = x.shape()](BackwardContext&, const Grads& g) { return Grads{g[0].reshape(src)}; });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  detail::check_operand(x, "unsqueeze");
  const int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  const size_t ud = static_cast<size_t>(d);
  const int64_t stride = ud < shape.size() ? shape[ud] * strides[ud] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return make_view(
      "UnsqueezeBackward", x, shape, strides, x.storage_offset(),
      [src = x.shape()](BackwardContext&, const Grads& g) { return Grads{g[0].reshape(src)}; });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  detail::check_operand(x, "flatten");
  if (x.dim() == 0) return x.reshape({1});
  const int64_t s = wrap_dim(start_dim, x.dim(), "flatten");
  const int64_t e = wrap_dim(end_dim, x.dim(), "flatten");
  GE_CHECK(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape shape;
  for (int64_t i = 0; i < s; ++i)
    shape.push_back(x.shape()[static_cast<size_t>(i)]);
  int64_t merged = 1;
  for (int64_t i = s; i <= e; ++i)
    merged *= x.shape()[static_cast<size_t>(i)];
  shape.push_back(merged);
  for (int64_t i = e + 1; i < x.dim(); ++i)
    shape.push_back(x.shape()[static_cast<size_t>(i)]);
  return x.reshape(shape);
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  GE_CHECK(!tensors.empty(), "cat: expected at least one tensor");
  const Tensor& first = tensors[0];
  detail::check_operand(first, "cat");
  GE_CHECK(first.dim() > 0, "cat: expected tensors with at least one dim, got a 0-d tensor");
  const int64_t d = wrap_dim(dim, first.dim(), "cat");
  const size_t ud = static_cast<size_t>(d);
  Shape shape = first.shape();
  shape[ud] = 0;
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    detail::check_operand(t, "cat");
    detail::check_same_device(first, t, "cat");
    bool match = t.dim() == first.dim();
    for (size_t k = 0; match && k < shape.size(); ++k) {
      match = k == ud || t.shape()[k] == first.shape()[k];
    }
    GE_CHECK(match, "cat: tensor ", i, " has shape ", to_string(t.shape()),
             ", expected the shape of tensor 0 (", to_string(first.shape()), ") except in dim ", d);
    sizes.push_back(t.shape()[ud]);
    shape[ud] += t.shape()[ud];
  }
  Tensor out = detail::empty_raw(shape, first.device());
  int64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    Shape part = shape;
    part[ud] = sizes[i];
    detail::copy_kernel(tensors[i],
                        detail::alias(out, part, out.strides(), offset * out.strides()[ud]));
    offset += sizes[i];
  }
  if (autograd::needs_grad(tensors)) {
    autograd::record(
        "CatBackward", tensors, {out}, [d, sizes](BackwardContext& ctx, const Grads& g) {
          Grads result;
          int64_t start = 0;
          for (size_t i = 0; i < sizes.size(); ++i) {
            result.push_back(ctx.needs_input_grad(i) ? g[0].slice(d, start, start + sizes[i])
                                                     : Tensor());
            start += sizes[i];
          }
          return result;
        });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  GE_CHECK(!tensors.empty(), "stack: expected at least one tensor");
  detail::check_operand(tensors[0], "stack");
  const int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    detail::check_operand(tensors[i], "stack");
    GE_CHECK(tensors[i].shape() == tensors[0].shape(), "stack: tensor ", i, " has shape ",
             to_string(tensors[i].shape()), ", expected ", to_string(tensors[0].shape()));
    parts.push_back(tensors[i].unsqueeze(d));
  }
  return cat(parts, d);
}

}  // namespace ge
