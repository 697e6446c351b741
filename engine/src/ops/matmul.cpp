// Batched matrix products on the GEMM launcher, and linear on top of them.
#include <algorithm>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/matmul.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

// One GEMM operand: a pointer, whether GEMM must transpose it, its leading dimension and the
// distance between batch matrices (0: one matrix shared by the whole batch).
struct Operand {
  Tensor storage;  // keeps a materialised copy alive during the call
  bool trans = false;
  int64_t ld = 0;
  int64_t batch_stride = 0;
};

// x is [..., rows, cols]. A single matrix (every batch dim 1) is used in place when it is
// row-major or a transposed row-major matrix (e.g. weight.t()), else it is copied.
Operand prepare(const Tensor& x, const Shape& batch, int64_t rows, int64_t cols) {
  Operand op;
  const Shape xb(x.shape().begin(), x.shape().end() - 2);
  if (numel(xb) == 1) {
    const int64_t sr = x.stride(-2), sc = x.stride(-1);
    if ((sc == 1 || cols == 1) && (rows == 1 || sr >= std::max<int64_t>(cols, 1))) {
      op.storage = x;
      op.ld = rows == 1 ? std::max<int64_t>(cols, 1) : sr;
      return op;
    }
    if ((sr == 1 || rows == 1) && (cols == 1 || sc >= std::max<int64_t>(rows, 1))) {
      op.storage = x;
      op.trans = true;
      op.ld = cols == 1 ? std::max<int64_t>(rows, 1) : sc;
      return op;
    }
    op.storage = detail::contiguous_kernel(x);
    op.ld = std::max<int64_t>(cols, 1);
    return op;
  }
  Shape full = batch;
  full.push_back(rows);
  full.push_back(cols);
  {
    NoGradGuard no_grad;  // temporaries of the forward computation carry no history
    op.storage = detail::contiguous_kernel(x.detach().expand(full));
  }
  op.ld = std::max<int64_t>(cols, 1);
  op.batch_stride = rows * cols;
  return op;
}

Tensor matmul_forward(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const Shape ba(a.shape().begin(), a.shape().end() - 2);
  const Shape bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(ba, bb, "matmul");
  } catch (const Error&) {
    fail("matmul: shapes ", to_string(a.shape()), " and ", to_string(b.shape()),
         " cannot be broadcast in their batch dims (", to_string(ba), " vs ", to_string(bb), ")");
  }
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = detail::empty_raw(out_shape, a.device());
  if (out.numel() == 0) return out;
  if (k == 0) {
    detail::fill_kernel(out, 0.f);
    return out;
  }
  const Operand pa = prepare(a, batch, m, k);
  const Operand pb = prepare(b, batch, k, n);
  kernels::GemmArgs args;
  args.trans_a = pa.trans;
  args.trans_b = pb.trans;
  args.m = m;
  args.n = n;
  args.k = k;
  args.a = pa.storage.data_ptr();
  args.lda = pa.ld;
  args.stride_a = pa.batch_stride;
  args.b = pb.storage.data_ptr();
  args.ldb = pb.ld;
  args.stride_b = pb.batch_stride;
  args.c = out.data_ptr();
  args.ldc = n;
  args.stride_c = m * n;
  args.batch = numel(batch);
  detail::gemm_kernel(args, a.device());
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  detail::check_operand(a, "matmul");
  detail::check_operand(b, "matmul");
  detail::check_same_device(a, b, "matmul");
  GE_CHECK(a.dim() >= 2 && b.dim() >= 2,
           "matmul: expected operands with at least 2 dims, got "
           "shapes ",
           to_string(a.shape()), " and ", to_string(b.shape()));
  GE_CHECK(a.size(-1) == b.size(-2), "matmul: shapes ", to_string(a.shape()), " and ",
           to_string(b.shape()), " cannot be multiplied (", a.size(-1), " vs ", b.size(-2), ")");
  Tensor out = matmul_forward(a, b);
  if (autograd::needs_grad({a, b})) {
    autograd::record("MatmulBackward", {a, b}, {out},
                     [](BackwardContext& ctx, const Grads& g) {
                       const Tensor& x = ctx.saved(0);
                       const Tensor& y = ctx.saved(1);
                       Tensor ga, gb;
                       if (ctx.needs_input_grad(0))
                         ga = sum_to(matmul(g[0], y.transpose(-1, -2)), x.shape());
                       if (ctx.needs_input_grad(1))
                         gb = sum_to(matmul(x.transpose(-1, -2), g[0]), y.shape());
                       return Grads{ga, gb};
                     },
                     {a, b});
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  detail::check_operand(x, "linear");
  detail::check_operand(weight, "linear");
  detail::check_same_device(x, weight, "linear");
  GE_CHECK(weight.dim() == 2, "linear: expected a 2-D weight [out, in], got shape ",
           to_string(weight.shape()));
  GE_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input of shape ",
           to_string(x.shape()), " does not match weight of shape ", to_string(weight.shape()),
           " (expected the last input dim to be ", weight.size(1), ")");
  if (bias.defined()) {
    detail::check_operand(bias, "linear");
    detail::check_same_device(x, bias, "linear");
    GE_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0),
             "linear: expected a bias of "
             "shape [",
             weight.size(0), "], got ", to_string(bias.shape()));
  }
  if (x.dim() == 1) return linear(x.unsqueeze(0), weight, bias).squeeze(0);
  const Tensor y = matmul(x, weight.t());
  return bias.defined() ? y + bias : y;
}

}  // namespace ge
