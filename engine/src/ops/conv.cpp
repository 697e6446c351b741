// conv2d, conv_transpose2d and conv2d_weight on the im2col/col2im launchers plus GEMM.
//
// The columns are laid out [C*kh*kw, N, L] rather than per sample, so one GEMM per group covers
// the whole batch (long GEMMs run far closer to peak than N short ones); the price is one
// permuting copy of an activation-sized tensor per call. Each op's backward is written with the
// other two ops, which are themselves differentiable, so gradients of any order exist:
//   conv2d:           dx = conv_transpose2d(g, w),  dw = conv2d_weight(x, g)
//   conv_transpose2d: dx = conv2d(g, w),            dw = conv2d_weight(g, x)
//   conv2d_weight:    dx = conv_transpose2d(g, v),  dg = conv2d(x, v)
#include "ganengine/conv.h"

#include <array>
#include <string>
#include <vector>

#include "cuda/runtime.h"
#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/im2col.h"
#include "ganengine/kernels/matmul.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

std::string pair_str(const std::array<int64_t, 2>& v) {
  return std::to_string(v[0]) + "x" + std::to_string(v[1]);
}

// The geometry of a convolution seen as conv2d: `in` channels/size map to `out` ones. For
// conv_transpose2d the roles swap (its output is the conv2d input).
struct Geometry {
  int64_t batch = 0, in_c = 0, in_h = 0, in_w = 0;
  int64_t out_c = 0, out_h = 0, out_w = 0;
  int64_t kh = 0, kw = 0, groups = 1;
  Conv2dOptions opt;
};

void check_options(const Conv2dOptions& o, const char* op, bool transposed) {
  GE_CHECK(o.stride[0] > 0 && o.stride[1] > 0, op, ": expected a positive stride, got ",
           pair_str(o.stride));
  GE_CHECK(o.padding[0] >= 0 && o.padding[1] >= 0, op, ": expected non-negative padding, got ",
           pair_str(o.padding));
  GE_CHECK(o.groups > 0, op, ": expected groups > 0, got ", o.groups);
  if (transposed) {
    GE_CHECK(o.output_padding[0] >= 0 && o.output_padding[1] >= 0 &&
                 o.output_padding[0] < o.stride[0] && o.output_padding[1] < o.stride[1],
             op, ": expected 0 <= output_padding < stride (", pair_str(o.stride), "), got ",
             pair_str(o.output_padding));
  } else {
    GE_CHECK(o.output_padding[0] == 0 && o.output_padding[1] == 0, op,
             ": expected output_padding 0x0 (it applies to conv_transpose2d only), got ",
             pair_str(o.output_padding));
  }
}

void check_4d(const Tensor& t, const char* op, const char* what, const char* layout) {
  GE_CHECK(t.dim() == 4, op, ": expected a 4-D ", what, " ", layout, ", got shape ",
           to_string(t.shape()));
}

void check_bias(const Tensor& x, const Tensor& bias, int64_t channels, const char* op) {
  if (!bias.defined()) return;
  detail::check_operand(bias, op);
  detail::check_same_device(x, bias, op);
  GE_CHECK(bias.dim() == 1 && bias.size(0) == channels, op, ": expected a bias of shape [",
           channels, "], got ", to_string(bias.shape()));
}

// Validates conv2d(x, weight) and returns its geometry. `op` names the public op for messages.
Geometry conv2d_geometry(const Tensor& x, const Shape& w, const Conv2dOptions& o, const char* op) {
  check_options(o, op, false);
  check_4d(x, op, "input", "[N, C, H, W]");
  GE_CHECK(w.size() == 4, op, ": expected a 4-D weight [O, C/groups, kh, kw], got shape ",
           to_string(w));
  Geometry g;
  g.opt = o;
  g.groups = o.groups;
  g.batch = x.size(0);
  g.in_c = x.size(1);
  g.in_h = x.size(2);
  g.in_w = x.size(3);
  g.out_c = w[0];
  g.kh = w[2];
  g.kw = w[3];
  GE_CHECK(g.kh > 0 && g.kw > 0, op, ": expected a non-empty kernel, got weight shape ",
           to_string(w));
  GE_CHECK(g.in_c % g.groups == 0, op, ": expected input channels divisible by groups ", g.groups,
           ", got ", g.in_c, " channels (input shape ", to_string(x.shape()), ")");
  GE_CHECK(g.out_c % g.groups == 0, op,
           ": expected output channels (weight.size(0)) divisible "
           "by groups ",
           g.groups, ", got ", g.out_c, " (weight shape ", to_string(w), ")");
  GE_CHECK(w[1] * g.groups == g.in_c, op, ": expected weight.size(1) * groups = input channels ",
           g.in_c, ", got weight shape ", to_string(w), " with groups ", g.groups, " (",
           w[1] * g.groups, " channels)");
  const int64_t ph = g.in_h + 2 * o.padding[0], pw = g.in_w + 2 * o.padding[1];
  GE_CHECK(g.kh <= ph && g.kw <= pw, op, ": kernel size ", g.kh, "x", g.kw,
           " is larger than the padded input ", ph, "x", pw, " (input ", g.in_h, "x", g.in_w,
           ", padding ", pair_str(o.padding), ")");
  g.out_h = (ph - g.kh) / o.stride[0] + 1;
  g.out_w = (pw - g.kw) / o.stride[1] + 1;
  return g;
}

Geometry conv_transpose2d_geometry(const Tensor& x, const Shape& w, const Conv2dOptions& o,
                                   const char* op) {
  check_options(o, op, true);
  check_4d(x, op, "input", "[N, C, H, W]");
  GE_CHECK(w.size() == 4, op, ": expected a 4-D weight [C, O/groups, kh, kw], got shape ",
           to_string(w));
  Geometry g;
  g.opt = o;
  g.groups = o.groups;
  g.batch = x.size(0);
  // As a conv2d, the transposed conv's output is the input and vice versa.
  g.out_c = x.size(1);
  g.out_h = x.size(2);
  g.out_w = x.size(3);
  g.in_c = w[1] * g.groups;
  g.kh = w[2];
  g.kw = w[3];
  GE_CHECK(g.kh > 0 && g.kw > 0, op, ": expected a non-empty kernel, got weight shape ",
           to_string(w));
  GE_CHECK(w[0] == g.out_c, op, ": expected weight.size(0) = input channels ", g.out_c,
           ", got weight shape ", to_string(w));
  GE_CHECK(g.out_c % g.groups == 0, op, ": expected input channels divisible by groups ", g.groups,
           ", got ", g.out_c, " channels (input shape ", to_string(x.shape()), ")");
  g.in_h = (g.out_h - 1) * o.stride[0] - 2 * o.padding[0] + g.kh + o.output_padding[0];
  g.in_w = (g.out_w - 1) * o.stride[1] - 2 * o.padding[1] + g.kw + o.output_padding[1];
  GE_CHECK(g.in_h > 0 && g.in_w > 0, op, ": expected a positive output size, got ", g.in_h, "x",
           g.in_w, " (input ", g.out_h, "x", g.out_w, ", kernel ", g.kh, "x", g.kw, ", stride ",
           pair_str(o.stride), ", padding ", pair_str(o.padding), ", output_padding ",
           pair_str(o.output_padding), ")");
  return g;
}

kernels::Im2colArgs im2col_args(const Geometry& g) {
  kernels::Im2colArgs a;
  a.batch = g.batch;
  a.channels = g.in_c;
  a.height = g.in_h;
  a.width = g.in_w;
  a.kernel_h = g.kh;
  a.kernel_w = g.kw;
  a.stride_h = g.opt.stride[0];
  a.stride_w = g.opt.stride[1];
  a.pad_h = g.opt.padding[0];
  a.pad_w = g.opt.padding[1];
  a.col_h = g.out_h;
  a.col_w = g.out_w;
  // [C*kh*kw, N, L]: see the file comment.
  a.col_sample_stride = g.out_h * g.out_w;
  a.col_row_stride = g.batch * g.out_h * g.out_w;
  return a;
}

Tensor contiguous(const Tensor& t) {
  return t.is_contiguous() ? t : detail::contiguous_kernel(t);
}

// [N, C, H, W] <-> [C, N, H, W] as a contiguous copy (the tensor itself when N == 1).
Tensor swap_batch_channels(const Tensor& t) {
  if (t.size(0) == 1 && t.is_contiguous()) return t.view({t.size(1), 1, t.size(2), t.size(3)});
  const Shape& s = t.shape();
  const Tensor view =
      detail::alias(t, {s[1], s[0], s[2], s[3]},
                    {t.stride(1), t.stride(0), t.stride(2), t.stride(3)}, t.storage_offset());
  return detail::contiguous_kernel(view);
}

// Columns [C*kh*kw, N, L] of the conv2d input x.
Tensor columns(const Tensor& x, const Geometry& g) {
  const Tensor xc = contiguous(x);
  Tensor col = detail::empty_raw({g.in_c * g.kh * g.kw, g.batch, g.out_h * g.out_w}, x.device());
  const kernels::Im2colArgs a = im2col_args(g);
  if (x.device().is_cuda()) {
    kernels::cuda::im2col(a, xc.data_ptr(), col.data_ptr(), cuda_rt::stream(x.device()));
  } else {
    kernels::cpu::im2col(a, xc.data_ptr(), col.data_ptr());
  }
  return col;
}

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Geometry& g) {
  NoGradGuard no_grad;
  const Device dev = x.device();
  const int64_t L = g.out_h * g.out_w, NL = g.batch * L;
  const int64_t og = g.out_c / g.groups, ckg = g.in_c / g.groups * g.kh * g.kw;
  Tensor out = detail::empty_raw({g.batch, g.out_c, g.out_h, g.out_w}, dev);
  if (out.numel() == 0) return out;
  // The GEMM writes [O, N, L]; for N == 1 that already is the output's layout.
  Tensor tmp = g.batch == 1 ? out : detail::empty_raw({g.out_c, g.batch, L}, dev);
  if (bias.defined()) {
    // The bias enters as GEMM's C operand (beta = 1) rather than as a separate pass.
    detail::copy_kernel(
        detail::alias(bias, {g.out_c, NL}, {bias.stride(0), 0}, bias.storage_offset()),
        detail::alias(tmp, {g.out_c, NL}, {NL, 1}, tmp.storage_offset()));
  }
  const Tensor col = columns(x, g);
  const Tensor wc = contiguous(w);
  // Per group: out_g [O/groups, N*L] = w_g [O/groups, ckg] @ col_g [ckg, N*L].
  detail::gemm_kernel(kernels::packed_gemm(false, false, og, NL, ckg, wc.data_ptr(), col.data_ptr(),
                                           tmp.data_ptr(), g.groups, bias.defined() ? 1.f : 0.f),
                      dev);
  if (g.batch != 1) {
    detail::copy_kernel(detail::alias(tmp, {g.batch, g.out_c, L}, {L, NL, 1}, tmp.storage_offset()),
                        out.view({g.batch, g.out_c, L}));
  }
  return out;
}

// x [N, O, Ho, Wo] (conv2d output side) -> [N, C, H, W] with bias [C] or undefined.
Tensor conv_transpose2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias,
                                const Geometry& g) {
  NoGradGuard no_grad;
  const Device dev = x.device();
  const int64_t L = g.out_h * g.out_w, NL = g.batch * L;
  const int64_t og = g.out_c / g.groups, ckg = g.in_c / g.groups * g.kh * g.kw;
  Tensor out = detail::empty_raw({g.batch, g.in_c, g.in_h, g.in_w}, dev);
  if (out.numel() == 0) return out;
  const Tensor xp = swap_batch_channels(x);  // [O, N, L]
  const Tensor wc = contiguous(w);
  Tensor col = detail::empty_raw({g.in_c * g.kh * g.kw, g.batch, L}, dev);
  // Per group: col_g [ckg, N*L] = w_g^T @ x_g, with w_g stored [O/groups, ckg].
  detail::gemm_kernel(kernels::packed_gemm(true, false, ckg, NL, og, wc.data_ptr(), xp.data_ptr(),
                                           col.data_ptr(), g.groups),
                      dev);
  const Tensor bc = bias.defined() ? contiguous(bias) : Tensor();
  const float* bp = bc.defined() ? bc.data_ptr() : nullptr;
  const kernels::Im2colArgs args = im2col_args(g);
  if (dev.is_cuda()) {
    kernels::cuda::col2im(args, col.data_ptr(), bp, out.data_ptr(), cuda_rt::stream(dev));
  } else {
    kernels::cpu::col2im(args, col.data_ptr(), bp, out.data_ptr());
  }
  return out;
}

// dL/dw of conv2d for input x and output gradient grad [N, O, Ho, Wo].
Tensor conv2d_weight_forward(const Tensor& x, const Tensor& grad, const Geometry& g) {
  NoGradGuard no_grad;
  const Device dev = x.device();
  const int64_t NL = g.batch * g.out_h * g.out_w;
  const int64_t og = g.out_c / g.groups, ckg = g.in_c / g.groups * g.kh * g.kw;
  Tensor out = detail::empty_raw({g.out_c, g.in_c / g.groups, g.kh, g.kw}, dev);
  if (out.numel() == 0) return out;
  const Tensor gp = swap_batch_channels(grad);  // [O, N, L]
  const Tensor col = columns(x, g);
  // Per group: dw_g [O/groups, ckg] = grad_g @ col_g^T, with col_g stored [ckg, N*L].
  detail::gemm_kernel(kernels::packed_gemm(false, true, og, ckg, NL, gp.data_ptr(), col.data_ptr(),
                                           out.data_ptr(), g.groups),
                      dev);
  return out;
}

Conv2dOptions without_output_padding(Conv2dOptions o) {
  o.output_padding = {0, 0};
  return o;
}

// The output_padding that makes conv_transpose2d of a conv2d output recover the input size.
Conv2dOptions recovering(Conv2dOptions o, const Geometry& g) {
  o.output_padding = {g.in_h - ((g.out_h - 1) * o.stride[0] - 2 * o.padding[0] + g.kh),
                      g.in_w - ((g.out_w - 1) * o.stride[1] - 2 * o.padding[1] + g.kw)};
  return o;
}

std::vector<Tensor> operands(const Tensor& x, const Tensor& w, const Tensor& bias) {
  return bias.defined() ? std::vector<Tensor>{x, w, bias} : std::vector<Tensor>{x, w};
}

void check_devices(const Tensor& x, const Tensor& w, const char* op) {
  detail::check_operand(x, op);
  detail::check_operand(w, op);
  detail::check_same_device(x, w, op);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& options) {
  check_devices(x, weight, "conv2d");
  const Geometry g = conv2d_geometry(x, weight.shape(), options, "conv2d");
  check_bias(x, bias, g.out_c, "conv2d");
  Tensor out = conv2d_forward(x, weight, bias, g);
  const std::vector<Tensor> inputs = operands(x, weight, bias);
  if (autograd::needs_grad(inputs)) {
    autograd::record("Conv2dBackward", inputs, {out},
                     [g, has_bias = bias.defined()](BackwardContext& ctx, const Grads& grads) {
                       const Tensor& x = ctx.saved(0);
                       const Tensor& w = ctx.saved(1);
                       Grads out(has_bias ? 3 : 2);
                       if (ctx.needs_input_grad(0))
                         out[0] = conv_transpose2d(grads[0], w, Tensor(), recovering(g.opt, g));
                       if (ctx.needs_input_grad(1))
                         out[1] = conv2d_weight(x, grads[0], w.shape(), g.opt);
                       if (has_bias && ctx.needs_input_grad(2)) out[2] = sum(grads[0], {0, 2, 3});
                       return out;
                     },
                     {x, weight});
  }
  return out;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Conv2dOptions& options) {
  check_devices(x, weight, "conv_transpose2d");
  const Geometry g = conv_transpose2d_geometry(x, weight.shape(), options, "conv_transpose2d");
  check_bias(x, bias, g.in_c, "conv_transpose2d");
  Tensor out = conv_transpose2d_forward(x, weight, bias, g);
  const std::vector<Tensor> inputs = operands(x, weight, bias);
  if (autograd::needs_grad(inputs)) {
    autograd::record("ConvTranspose2dBackward", inputs, {out},
                     [g, has_bias = bias.defined()](BackwardContext& ctx, const Grads& grads) {
                       const Tensor& x = ctx.saved(0);
                       const Tensor& w = ctx.saved(1);
                       const Conv2dOptions plain = without_output_padding(g.opt);
                       Grads out(has_bias ? 3 : 2);
                       if (ctx.needs_input_grad(0)) out[0] = conv2d(grads[0], w, Tensor(), plain);
                       if (ctx.needs_input_grad(1))
                         out[1] = conv2d_weight(grads[0], x, w.shape(), plain);
                       if (has_bias && ctx.needs_input_grad(2)) out[2] = sum(grads[0], {0, 2, 3});
                       return out;
                     },
                     {x, weight});
  }
  return out;
}

Tensor conv2d_weight(const Tensor& x, const Tensor& grad_output, const Shape& weight_shape,
                     const Conv2dOptions& options) {
  check_devices(x, grad_output, "conv2d_weight");
  const Geometry g = conv2d_geometry(x, weight_shape, options, "conv2d_weight");
  check_4d(grad_output, "conv2d_weight", "grad_output", "[N, O, H_out, W_out]");
  const Shape expected{g.batch, g.out_c, g.out_h, g.out_w};
  GE_CHECK(grad_output.shape() == expected, "conv2d_weight: expected grad_output of shape ",
           to_string(expected), " for input ", to_string(x.shape()), " and weight ",
           to_string(weight_shape), ", got ", to_string(grad_output.shape()));
  Tensor out = conv2d_weight_forward(x, grad_output, g);
  if (autograd::needs_grad({x, grad_output})) {
    autograd::record("Conv2dWeightBackward", {x, grad_output}, {out},
                     [g](BackwardContext& ctx, const Grads& grads) {
                       const Tensor& x = ctx.saved(0);
                       Grads out(2);
                       if (ctx.needs_input_grad(0))
                         out[0] = conv_transpose2d(ctx.saved(1), grads[0], Tensor(),
                                                   recovering(g.opt, g));
                       if (ctx.needs_input_grad(1)) out[1] = conv2d(x, grads[0], Tensor(), g.opt);
                       return out;
                     },
                     {x, grad_output});
  }
  return out;
}

}  // namespace ge
