// spectral_norm. Two differentiable ops chain the kernels so that every order of derivative stays
// available under create_graph:
//   spectral_norm(W)            -> W / sigma     backward: spectral_norm_grad (fused kernel)
//   spectral_norm_grad(g, W)    -> dW            backward: differentiable ops, with sigma
//                                                 recomputed from W as <W, u v^T>
// u and v are constants of both (as in PyTorch, whose power iteration runs under no_grad); the
// backward keeps copies of them, so the caller may update the buffers again before it runs.
#include "ganengine/spectral_norm.h"

#include <cmath>
#include <limits>
#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/spectral_norm.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

// The weight read as the matrix [h, w]: `dim` first, the other dims in order.
struct Layout {
  int64_t dim = 0;
  int64_t h = 0;
  int64_t w = 0;
  Shape shape;                   // the weight's
  std::vector<int64_t> perm;     // dim first
  std::vector<int64_t> inverse;  // perm undone
  Shape permuted;                // shape in perm order
};

Layout layout_of(const Tensor& weight, int64_t dim, const char* op) {
  const int64_t nd = weight.dim();
  GE_CHECK(nd >= 1, op, ": expected a weight with at least 1 dim, got shape ",
           to_string(weight.shape()));
  GE_CHECK(weight.numel() > 0, op, ": expected a non-empty weight, got shape ",
           to_string(weight.shape()));
  GE_CHECK(dim >= -nd && dim < nd, op, ": expected dim in [", -nd, ", ", nd,
           ") for a weight of shape ", to_string(weight.shape()), ", got ", dim);
  Layout l;
  l.dim = dim < 0 ? dim + nd : dim;
  l.shape = weight.shape();
  l.h = weight.size(l.dim);
  l.w = weight.numel() / l.h;
  l.perm.push_back(l.dim);
  for (int64_t d = 0; d < nd; ++d)
    if (d != l.dim) l.perm.push_back(d);
  l.inverse.assign(static_cast<size_t>(nd), 0);
  for (int64_t i = 0; i < nd; ++i) {
    l.inverse[static_cast<size_t>(l.perm[static_cast<size_t>(i)])] = i;
    l.permuted.push_back(l.shape[static_cast<size_t>(l.perm[static_cast<size_t>(i)])]);
  }
  return l;
}

// t's data as the contiguous matrix [h, w], without history.
Tensor to_matrix(const Tensor& t, const Layout& l) {
  const Tensor d = t.detach();
  return detail::contiguous_operand(l.dim == 0 ? d : d.permute(l.perm));
}

// A contiguous matrix [h, w] back in the weight's layout, without history.
Tensor from_matrix(const Tensor& m, const Layout& l) {
  if (l.dim == 0) return m.view(l.shape);
  return detail::contiguous_kernel(m.view(l.permuted).permute(l.inverse));
}

// u v^T in the weight's layout; u and v carry no history, so neither does the result.
Tensor outer_in_layout(const Tensor& u, const Tensor& v, const Layout& l) {
  const Tensor p = u.view({l.h, 1}) * v.view({1, l.w});
  return l.dim == 0 ? p.view(l.shape) : p.view(l.permuted).permute(l.inverse);
}

// Runs a spectral-norm launcher on `device`; on CUDA it gets workspace(h, w) floats of scratch.
template <typename Args>
void run(Device device, Args& a, int64_t (*workspace)(int64_t, int64_t), void (*cpu)(const Args&),
         void (*cuda)(const Args&, k::Stream)) {
  Tensor scratch;
  if (device.is_cuda()) {
    scratch = detail::workspace_floats(workspace(a.h, a.w), device);
    a.workspace = detail::data_or_null(scratch);
  }
  detail::run_kernel(device, cpu, cuda, a);
}

// dW = g / sigma - (<g, W> / sigma^2) u v^T, fused; differentiable in g and W.
Tensor spectral_norm_grad(const Tensor& g, const Tensor& weight, const Tensor& u, const Tensor& v,
                          const Tensor& sigma, const Layout& l) {
  const Device device = weight.device();
  const Tensor gm = to_matrix(g, l), wm = to_matrix(weight, l);
  const Tensor dm = detail::empty_raw({l.h, l.w}, device);
  k::SpectralNormGradArgs a{.grad = gm.data_ptr(),
                            .mat = wm.data_ptr(),
                            .u = u.data_ptr(),
                            .v = v.data_ptr(),
                            .sigma = sigma.data_ptr(),
                            .out = dm.data_ptr(),
                            .h = l.h,
                            .w = l.w};
  run(device, a, k::spectral_norm_grad_workspace, k::cpu::spectral_norm_grad,
      k::cuda::spectral_norm_grad);
  Tensor out = from_matrix(dm, l);
  if (autograd::needs_grad({g, weight})) {
    // With P = u v^T, sigma = <W, P>, a = <g, W>, b = <gg, P>, e = <gg, g>:
    //   dW = g / sigma - a P / sigma^2
    //   d<gg, dW>/dg = gg / sigma - b W / sigma^2
    //   d<gg, dW>/dW = (2 a b / sigma^3 - e / sigma^2) P - b g / sigma^2
    autograd::record("SpectralNormGradBackward", {g, weight}, {out},
                     [l](BackwardContext& ctx, const Grads& grads) {
                       const Tensor& gg = grads[0];
                       const Tensor& g_saved = ctx.saved(0);
                       const Tensor& w_saved = ctx.saved(1);
                       const Tensor p = outer_in_layout(ctx.saved(2), ctx.saved(3), l);
                       const Tensor inv = 1.f / sum(w_saved * p);
                       const Tensor b = sum(gg * p);
                       Tensor d_g, d_w;
                       if (ctx.needs_input_grad(0)) d_g = gg * inv - (b * inv * inv) * w_saved;
                       if (ctx.needs_input_grad(1)) {
                         const Tensor a = sum(g_saved * w_saved);
                         const Tensor e = sum(gg * g_saved);
                         const Tensor inv2 = inv * inv;
                         d_w = p * (2.f * a * b * inv2 * inv - e * inv2) - (b * inv2) * g_saved;
                       }
                       return Grads{d_g, d_w};
                     },
                     {g, weight, u, v});
  }
  return out;
}

}  // namespace

Tensor spectral_norm(const Tensor& weight, const Tensor& u, const Tensor& v,
                     const SpectralNormOptions& options) {
  const char* op = "spectral_norm";
  detail::check_operands({weight, u, v}, op);
  const Layout l = layout_of(weight, options.dim, op);
  GE_CHECK(u.dim() == 1 && u.size(0) == l.h, op, ": expected u of shape [", l.h, "] (weight.size(",
           l.dim, ") of weight ", to_string(l.shape), "), got shape ", to_string(u.shape()));
  GE_CHECK(v.dim() == 1 && v.size(0) == l.w, op, ": expected v of shape [", l.w,
           "] (numel / weight.size(", l.dim, ") of weight ", to_string(l.shape), "), got shape ",
           to_string(v.shape()));
  GE_CHECK(!u.requires_grad() && !v.requires_grad(), op,
           ": expected u and v buffers that do not require grad (they are constants, updated in "
           "place), got requires_grad = ",
           u.requires_grad(), " and ", v.requires_grad());
  GE_CHECK(std::isfinite(options.eps) && options.eps >= 0.f, op,
           ": expected a finite eps >= 0, got ", options.eps);
  GE_CHECK(!options.training || options.n_power_iterations >= 1, op,
           ": expected n_power_iterations >= 1 in training, got ", options.n_power_iterations);

  const Device device = weight.device();
  const Tensor wc = detail::contiguous_operand(weight.detach());
  const Tensor wm = l.dim == 0 ? wc : to_matrix(weight, l);
  // The kernel updates the buffers through their data: non-contiguous ones go through copies.
  const Tensor ub = detail::contiguous_operand(u), vb = detail::contiguous_operand(v);
  const Tensor u_copy = detail::empty_raw({l.h}, device);
  const Tensor v_copy = detail::empty_raw({l.w}, device);
  const Tensor sigma = detail::empty_raw({}, device);
  Tensor out = detail::empty_raw(l.shape, device);

  k::SpectralNormArgs a{.mat = wm.data_ptr(),
                        .weight = wc.data_ptr(),
                        .u = ub.data_ptr(),
                        .v = vb.data_ptr(),
                        .u_copy = u_copy.data_ptr(),
                        .v_copy = v_copy.data_ptr(),
                        .sigma = sigma.data_ptr(),
                        .out = out.data_ptr(),
                        .h = l.h,
                        .w = l.w,
                        .n_iterations = options.training ? options.n_power_iterations : 0,
                        .eps = options.eps};
  run(device, a, k::spectral_norm_workspace, k::cpu::spectral_norm, k::cuda::spectral_norm);
  if (options.training) {
    for (const auto& [buffer, used] : {std::pair{u, ub}, std::pair{v, vb}}) {
      if (used.data_ptr() != buffer.data_ptr()) detail::copy_kernel(used, buffer);
      detail::bump_version(buffer);
    }
  }

  if (autograd::needs_grad({weight})) {
    autograd::record("SpectralNormBackward", {weight}, {out},
                     [l](BackwardContext& ctx, const Grads& g) {
                       return Grads{spectral_norm_grad(g[0], ctx.saved(0), ctx.saved(1),
                                                       ctx.saved(2), ctx.saved(3), l)};
                     },
                     {weight, u_copy, v_copy, sigma});
  }
  return out;
}

std::pair<Tensor, Tensor> spectral_norm_buffers(const Tensor& weight, int64_t dim,
                                                Generator* generator) {
  const char* op = "spectral_norm_buffers";
  detail::check_operand(weight, op);
  const Layout l = layout_of(weight, dim, op);
  NoGradGuard no_grad;
  const TensorOptions options(weight.device());
  const auto normalized = [](const Tensor& x) {
    return x / clamp(sqrt(sum(x * x)), 1e-12f, std::numeric_limits<float>::max());
  };
  // u is drawn before v, as PyTorch does.
  const Tensor u = normalized(randn({l.h}, options, generator));
  const Tensor v = normalized(randn({l.w}, options, generator));
  return {u, v};
}

}  // namespace ge
