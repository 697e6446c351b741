// pairwise_l1 and its derivative's two maps, each one fused kernel call. The three ops chain
// into one another's backward, so every order of derivative stays exact (almost everywhere):
//   pairwise_l1(m)              backward: pairwise_l1_adjoint(m, g)
//   pairwise_l1_adjoint(m, g)   backward: pairwise_l1_tangent(m, .) for g, zero for m
//   pairwise_l1_tangent(m, h)   backward: pairwise_l1_adjoint(m, .) for h, zero for m
// The maps are linear in their second argument and their coefficients, the signs of
// m[i] - m[j], are piecewise constant in m: no gradient flows to m through them.
#include "ganengine/pairwise_l1.h"

#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/pairwise_l1.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

// m [N, B, C] on its own.
k::PairwiseL1Shape check_rows(const Tensor& m, const char* op) {
  detail::check_operand(m, op);
  GE_CHECK(m.dim() == 3, op, ": expected m of shape [N, B, C], got shape ", to_string(m.shape()));
  return {m.size(0), m.size(1), m.size(2)};
}

// A second operand of `shape` ([N, N, B] or [N, B, C]) on m's device.
void check_second(const Tensor& m, const Tensor& t, const char* name, const Shape& shape,
                  const char* op) {
  detail::check_operand(t, op);
  GE_CHECK(t.device() == m.device(), op, ": expected ", name, " on m's device ", m.device().str(),
           ", got ", t.device().str());
  GE_CHECK(t.shape() == shape, op, ": expected ", name, " of shape ", to_string(shape),
           " for m of shape ", to_string(m.shape()), ", got shape ", to_string(t.shape()));
}

Shape pairs_shape(const k::PairwiseL1Shape& s) {
  return {s.n, s.n, s.b};
}

}  // namespace

Tensor pairwise_l1(const Tensor& m) {
  const k::PairwiseL1Shape s = check_rows(m, "pairwise_l1");
  const Tensor mc = detail::contiguous_operand(m);
  Tensor d = detail::empty_raw(pairs_shape(s), m.device());
  detail::run_kernel(m.device(), k::cpu::pairwise_l1, k::cuda::pairwise_l1, mc.data_ptr(),
                     d.data_ptr(), s);
  if (autograd::needs_grad({m})) {
    autograd::record("PairwiseL1Backward", {m}, {d},
                     [](BackwardContext& ctx, const Grads& g) {
                       return Grads{pairwise_l1_adjoint(ctx.saved(0), g[0])};
                     },
                     {m});
  }
  return d;
}

Tensor pairwise_l1_adjoint(const Tensor& m, const Tensor& g) {
  const char* op = "pairwise_l1_adjoint";
  const k::PairwiseL1Shape s = check_rows(m, op);
  check_second(m, g, "g", pairs_shape(s), op);
  const Tensor mc = detail::contiguous_operand(m), gc = detail::contiguous_operand(g);
  Tensor out = detail::empty_raw(m.shape(), m.device());
  detail::run_kernel(m.device(), k::cpu::pairwise_l1_adjoint, k::cuda::pairwise_l1_adjoint,
                     mc.data_ptr(), gc.data_ptr(), out.data_ptr(), s);
  if (autograd::needs_grad({m, g})) {
    autograd::record("PairwiseL1AdjointBackward", {m, g}, {out},
                     [](BackwardContext& ctx, const Grads& gg) {
                       Tensor d_g;
                       if (ctx.needs_input_grad(1)) d_g = pairwise_l1_tangent(ctx.saved(0), gg[0]);
                       return Grads{Tensor(), d_g};
                     },
                     {m});
  }
  return out;
}

Tensor pairwise_l1_tangent(const Tensor& m, const Tensor& h) {
  const char* op = "pairwise_l1_tangent";
  const k::PairwiseL1Shape s = check_rows(m, op);
  check_second(m, h, "h", m.shape(), op);
  const Tensor mc = detail::contiguous_operand(m), hc = detail::contiguous_operand(h);
  Tensor out = detail::empty_raw(pairs_shape(s), m.device());
  detail::run_kernel(m.device(), k::cpu::pairwise_l1_tangent, k::cuda::pairwise_l1_tangent,
                     mc.data_ptr(), hc.data_ptr(), out.data_ptr(), s);
  if (autograd::needs_grad({m, h})) {
    autograd::record("PairwiseL1TangentBackward", {m, h}, {out},
                     [](BackwardContext& ctx, const Grads& gg) {
                       Tensor d_h;
                       if (ctx.needs_input_grad(1)) d_h = pairwise_l1_adjoint(ctx.saved(0), gg[0]);
                       return Grads{Tensor(), d_h};
                     },
                     {m});
  }
  return out;
}

}  // namespace ge
