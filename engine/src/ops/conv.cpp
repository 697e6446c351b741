// conv2d, conv_transpose2d, conv2d_weight and the fused conv + bias_act ops.
//
// Every op reduces to one of three kernels phrased in conv2d geometry (kernels::ConvShape):
// forward (with a bias_act epilogue), transposed forward (with one), and weight gradient. The CPU
// runs kernels::cpu; CUDA runs the algorithm conv_algo() selects: the native implicit-GEMM
// kernels, cuDNN, or the im2col/col2im + cuBLAS path ("Gemm", kernels/cuda/conv_gemm.cu).
//
// Each op's backward is written with the other two ops, which are themselves differentiable, so
// gradients of any order exist:
//   conv2d:           dx = conv_transpose2d(g, w),  dw = conv2d_weight(x, g)
//   conv_transpose2d: dx = conv2d(g, w),            dw = conv2d_weight(g, x)
//   conv2d_weight:    dx = conv_transpose2d(g, v),  dg = conv2d(x, v)
// The fused ops first turn the incoming gradient into the pre-activation's with bias_act's
// differentiable gradient (read from the saved output), then continue as the plain ops.
#include "ganengine/conv.h"

#include <array>
#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "bias_act_grad.h"
#include "prelu_grad.h"
#include "cuda/runtime.h"
#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/bias_act.h"
#include "ganengine/kernels/prelu.h"
#include "ganengine/kernels/conv.h"
#include "ganengine/ops.h"
#include "ganengine/precision.h"
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

kernels::ConvShape conv_shape(const Geometry& g) {
  return {.batch = g.batch,
          .in_c = g.in_c,
          .in_h = g.in_h,
          .in_w = g.in_w,
          .out_c = g.out_c,
          .out_h = g.out_h,
          .out_w = g.out_w,
          .kh = g.kh,
          .kw = g.kw,
          .stride_h = g.opt.stride[0],
          .stride_w = g.opt.stride[1],
          .pad_h = g.opt.padding[0],
          .pad_w = g.opt.padding[1],
          .groups = g.groups};
}

// ---- dispatch -----------------------------------------------------------------------------

bool is_identity(const kernels::BiasActParams& p) {
  return p.act == kernels::BiasActFn::Linear && p.gain == 1.f && p.clamp < 0.f;
}

// out [N, channels, ...] = epilogue(out) in place (bias may be undefined).
void epilogue_in_place(const Tensor& out, const Tensor& bias, const kernels::BiasActParams& p) {
  if (!bias.defined() && is_identity(p)) return;
  kernels::BiasActArgs a;
  a.x = out.data_ptr();
  a.out = out.data_ptr();
  a.bias = bias.defined() ? bias.data_ptr() : nullptr;
  a.n = out.numel();
  a.channels = out.size(1);
  a.inner = out.size(2) * out.size(3);
  if (a.n == 0) return;
  detail::run_kernel(out.device(), kernels::cpu::bias_act, kernels::cuda::bias_act,
                     kernels::BiasActMode::Forward, p, a);
}

// A convolution with nothing to sum (no input channels or an empty input image): every output
// is the epilogue of 0.
bool nothing_to_sum(const Geometry& g, bool transposed) {
  return transposed ? g.out_c == 0 || g.out_h == 0 || g.out_w == 0
                    : g.in_c == 0 || g.in_h == 0 || g.in_w == 0;
}

void fill_epilogue(const Tensor& out, const Tensor& bias, const kernels::BiasActParams& p) {
  detail::fill_kernel(out, 0.f);
  epilogue_in_place(out, bias, p);
}

// conv2d_prelu's epilogue: one slope per output channel and, when the backward needs it, the
// tensor that receives the pre-activation z = conv + bias.
struct PreluEpilogue {
  Tensor slopes;  // [O], contiguous
  Tensor pre;     // [N, O, Ho, Wo] or undefined
};

// out = prelu(out) per channel in place, z copied into p.pre first: for the paths whose
// convolution cannot apply it as it writes.
void prelu_in_place(const Tensor& out, const PreluEpilogue& p) {
  if (out.numel() == 0) return;
  if (p.pre.defined()) detail::copy_kernel(out, p.pre);
  kernels::PreluArgs a;
  a.x = out.data_ptr();
  a.weight = p.slopes.data_ptr();
  a.out = out.data_ptr();
  a.n = out.numel();
  a.channels = out.size(1);
  a.inner = out.size(2) * out.size(3);
  detail::run_kernel(out.device(), kernels::cpu::prelu, kernels::cuda::prelu,
                     kernels::PreluMode::Forward, a);
}

// The CUDA algorithm for this call (Auto resolved), with cuDNN's presence checked.
ConvAlgo cuda_algo(const char* op) {
  const ConvAlgo a = conv_algo();
  if (a == ConvAlgo::Auto) return ConvAlgo::Native;
  if (a == ConvAlgo::Cudnn) {
    GE_CHECK(conv_algo_available(a), op,
             ": the conv algorithm is cudnn (set_conv_algo or GE_CONV_ALGO), but cuDNN is not "
             "available in this build",
             cuda_is_emulated() ? " (emulator)" : "", "; use native or gemm");
  }
  return a;
}

struct CudnnScratch {
  Tensor buffer;
  size_t bytes = 0;
};

// The arithmetic of the native kernels and of cuDNN under the TF32 policy (precision.h).
kernels::cuda::ConvMath conv_math() {
  return allow_tf32() ? kernels::cuda::ConvMath::Tf32 : kernels::cuda::ConvMath::Fp32;
}

CudnnScratch cudnn_scratch(kernels::cuda::CudnnConvOp op, const kernels::ConvShape& s,
                           Device device) {
  CudnnScratch w;
  w.bytes = kernels::cuda::cudnn_workspace_bytes(op, s, conv_math());
  w.buffer = detail::workspace_floats(
      static_cast<int64_t>((w.bytes + sizeof(float) - 1) / sizeof(float)), device);
  return w;
}

// epilogue(conv2d(in, w)): [N, O, Ho, Wo], or with `transposed` epilogue(conv_transpose2d(in,
// w)) for in [N, O, Ho, Wo] (the conv2d output side): [N, C, H, W]. bias may be undefined.
Tensor run_conv(const Tensor& in, const Tensor& w, const Tensor& bias,
                const kernels::BiasActParams& act, const Geometry& g, bool transposed,
                const char* op, const PreluEpilogue* prelu = nullptr) {
  namespace kc = kernels::cuda;
  NoGradGuard no_grad;
  const Device dev = in.device();
  Tensor out = detail::empty_raw(transposed ? Shape{g.batch, g.in_c, g.in_h, g.in_w}
                                            : Shape{g.batch, g.out_c, g.out_h, g.out_w},
                                 dev);
  if (out.numel() == 0) return out;
  const Tensor bc = detail::contiguous_operand(bias);
  if (nothing_to_sum(g, transposed)) {
    fill_epilogue(out, bc, act);
    if (prelu != nullptr) prelu_in_place(out, *prelu);
    return out;
  }
  const Tensor ic = detail::contiguous_operand(in), wc = detail::contiguous_operand(w);
  const kernels::ConvShape s = conv_shape(g);
  const kernels::ConvEpilogue plain{detail::data_or_null(bc), act};
  kernels::ConvEpilogue e = plain;
  if (prelu != nullptr) {
    e.prelu = prelu->slopes.data_ptr();
    e.pre_activation = detail::data_or_null(prelu->pre);
  }
  if (dev.is_cpu()) {
    const Tensor ws = detail::workspace_floats(kernels::cpu::conv_workspace_floats(s), dev);
    const auto cpu =
        transposed ? kernels::cpu::conv_transpose2d_forward : kernels::cpu::conv2d_forward;
    cpu(s, ic.data_ptr(), wc.data_ptr(), e, out.data_ptr(), detail::data_or_null(ws));
    return out;
  }
  const kernels::Stream stream = cuda_rt::stream(dev);
  switch (cuda_algo(op)) {
    case ConvAlgo::Auto:
    case ConvAlgo::Native: {
      const auto native = transposed ? kc::conv_transpose2d_forward : kc::conv2d_forward;
      native(s, ic.data_ptr(), wc.data_ptr(), e, out.data_ptr(), stream, kc::ConvTile::Auto,
             conv_math());
      break;
    }
    case ConvAlgo::Gemm: {
      const int64_t need = kc::conv_gemm_workspace_floats(s);
      const Tensor ws = detail::workspace_floats(need, dev);
      const auto gemm = transposed ? kc::conv_transpose2d_forward_gemm : kc::conv2d_forward_gemm;
      gemm(s, ic.data_ptr(), wc.data_ptr(), plain, out.data_ptr(), detail::data_or_null(ws), need,
           stream, conv_math());
      if (prelu != nullptr) prelu_in_place(out, *prelu);
      break;
    }
    case ConvAlgo::Cudnn: {
      const CudnnScratch ws = cudnn_scratch(
          transposed ? kc::CudnnConvOp::TransposeForward : kc::CudnnConvOp::Forward, s, dev);
      const auto cudnn = transposed ? kc::cudnn_conv_transpose2d_forward : kc::cudnn_conv2d_forward;
      cudnn(s, ic.data_ptr(), wc.data_ptr(), plain, out.data_ptr(), detail::data_or_null(ws.buffer),
            ws.bytes, stream, conv_math());
      if (prelu != nullptr) prelu_in_place(out, *prelu);
      break;
    }
  }
  return out;
}

// dL/dw of conv2d for input x and output gradient grad [N, O, Ho, Wo].
Tensor run_conv2d_weight(const Tensor& x, const Tensor& grad, const Geometry& g, const char* op) {
  NoGradGuard no_grad;
  const Device dev = x.device();
  Tensor out = detail::empty_raw({g.out_c, g.in_c / g.groups, g.kh, g.kw}, dev);
  if (out.numel() == 0) return out;
  if (g.batch == 0 || g.out_h == 0 || g.out_w == 0 || g.in_h == 0 || g.in_w == 0) {
    detail::fill_kernel(out, 0.f);
    return out;
  }
  const Tensor xc = detail::contiguous_operand(x), gc = detail::contiguous_operand(grad);
  const kernels::ConvShape s = conv_shape(g);
  namespace kc = kernels::cuda;
  if (dev.is_cpu()) {
    const Tensor ws = detail::workspace_floats(kernels::cpu::conv_workspace_floats(s), dev);
    kernels::cpu::conv2d_weight(s, xc.data_ptr(), gc.data_ptr(), out.data_ptr(),
                                detail::data_or_null(ws));
    return out;
  }
  const kernels::Stream stream = cuda_rt::stream(dev);
  switch (cuda_algo(op)) {
    case ConvAlgo::Auto:
    case ConvAlgo::Native: {
      const Tensor ws =
          detail::workspace_floats(kernels::cuda::conv2d_weight_workspace_floats(s), dev);
      kernels::cuda::conv2d_weight(s, xc.data_ptr(), gc.data_ptr(), out.data_ptr(),
                                   detail::data_or_null(ws), stream, kc::ConvTile::Auto,
                                   conv_math());
      break;
    }
    case ConvAlgo::Gemm: {
      const int64_t need = kc::conv_gemm_workspace_floats(s);
      const Tensor ws = detail::workspace_floats(need, dev);
      kc::conv2d_weight_gemm(s, xc.data_ptr(), gc.data_ptr(), out.data_ptr(),
                             detail::data_or_null(ws), need, stream, conv_math());
      break;
    }
    case ConvAlgo::Cudnn: {
      const CudnnScratch ws = cudnn_scratch(kernels::cuda::CudnnConvOp::Weight, s, dev);
      kernels::cuda::cudnn_conv2d_weight(s, xc.data_ptr(), gc.data_ptr(), out.data_ptr(),
                                         detail::data_or_null(ws.buffer), ws.bytes, stream,
                                         conv_math());
      break;
    }
  }
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

// The fused ops' activation: bias_act's options, with the bias along channels.
kernels::BiasActParams fused_act(const BiasActOptions& act, const char* op) {
  GE_CHECK(act.dim == 1 || act.dim == -3, op,
           ": expected act.dim 1 (the bias runs along channels), got ", act.dim);
  return detail::bias_act_params(act, op);
}

// Records the backward of out = epilogue(conv(x, w) + bias), conv being conv2d or (transposed)
// conv_transpose2d. With an activation, the output is saved and the gradient first goes through
// bias_act's. Seen as conv2d, a transposed conv's input is the conv2d output side, so its input
// gradient is a conv2d and the weight gradient swaps the roles of input and output gradient.
void record_conv(const char* name, bool transposed, const Tensor& x, const Tensor& weight,
                 const Tensor& bias, const Tensor& out, const Geometry& g,
                 const kernels::BiasActParams* act) {
  const std::vector<Tensor> inputs = operands(x, weight, bias);
  if (!autograd::needs_grad(inputs)) return;
  const bool has_act = act != nullptr;
  const kernels::BiasActParams p = has_act ? *act : kernels::BiasActParams{};
  autograd::record(
      name, inputs, {out},
      [g, p, has_act, transposed, has_bias = bias.defined()](BackwardContext& ctx,
                                                             const Grads& grads) {
        const Tensor& x = ctx.saved(0);
        const Tensor& w = ctx.saved(1);
        const Tensor gpre = has_act ? detail::bias_act_grad(grads[0], ctx.saved(2), p) : grads[0];
        const Conv2dOptions plain = without_output_padding(g.opt);
        Grads out(has_bias ? 3 : 2);
        if (ctx.needs_input_grad(0)) {
          out[0] = transposed ? conv2d(gpre, w, Tensor(), plain)
                              : conv_transpose2d(gpre, w, Tensor(), recovering(g.opt, g));
        }
        if (ctx.needs_input_grad(1)) {
          out[1] = transposed ? conv2d_weight(gpre, x, w.shape(), plain)
                              : conv2d_weight(x, gpre, w.shape(), plain);
        }
        if (has_bias && ctx.needs_input_grad(2)) out[2] = sum(gpre, {0, 2, 3});
        return out;
      },
      {x, weight}, has_act ? std::vector<size_t>{0} : std::vector<size_t>{});
}

// conv2d or (transposed) conv_transpose2d with an optional fused bias_act epilogue (act).
Tensor conv(const char* op, const char* node, bool transposed, const Tensor& x,
            const Tensor& weight, const Tensor& bias, const Conv2dOptions& options,
            const BiasActOptions* act) {
  detail::check_operands({x, weight}, op);
  const Geometry g = transposed ? conv_transpose2d_geometry(x, weight.shape(), options, op)
                                : conv2d_geometry(x, weight.shape(), options, op);
  check_bias(x, bias, transposed ? g.in_c : g.out_c, op);
  const kernels::BiasActParams p = act != nullptr ? fused_act(*act, op) : kernels::BiasActParams{};
  Tensor out = run_conv(x, weight, bias, p, g, transposed, op);
  record_conv(node, transposed, x, weight, bias, out, g, act != nullptr ? &p : nullptr);
  return out;
}

// ---- algorithm selection ------------------------------------------------------------------

constexpr int kUnset = -1;

std::atomic<int>& algo_slot() {
  static std::atomic<int> slot{kUnset};
  return slot;
}

}  // namespace

std::string to_string(ConvAlgo algo) {
  switch (algo) {
    case ConvAlgo::Auto:
      return "auto";
    case ConvAlgo::Native:
      return "native";
    case ConvAlgo::Gemm:
      return "gemm";
    case ConvAlgo::Cudnn:
      return "cudnn";
  }
  return "ConvAlgo(" + std::to_string(static_cast<int>(algo)) + ")";
}

bool conv_algo_available(ConvAlgo algo) {
#if defined(GE_CUDA_OFF)
  return algo != ConvAlgo::Cudnn;
#else
  return algo != ConvAlgo::Cudnn || kernels::cuda::cudnn_available();
#endif
}

ConvAlgo conv_algo_from_env() {
  const char* raw = std::getenv("GE_CONV_ALGO");
  const std::string v = raw != nullptr ? raw : "";
  for (ConvAlgo a : {ConvAlgo::Auto, ConvAlgo::Native, ConvAlgo::Gemm, ConvAlgo::Cudnn}) {
    if (v == to_string(a)) return a;
  }
  GE_CHECK(v.empty(), "GE_CONV_ALGO: expected auto, native, gemm or cudnn, got '", v, "'");
  return ConvAlgo::Auto;
}

void set_conv_algo(ConvAlgo algo) {
  GE_CHECK(algo == ConvAlgo::Auto || algo == ConvAlgo::Native || algo == ConvAlgo::Gemm ||
               algo == ConvAlgo::Cudnn,
           "set_conv_algo: expected Auto, Native, Gemm or Cudnn, got ", static_cast<int>(algo));
  algo_slot().store(static_cast<int>(algo));
}

ConvAlgo conv_algo() {
  int v = algo_slot().load();
  if (v == kUnset) {
    // A concurrent set_conv_algo wins over the environment.
    int expected = kUnset;
    algo_slot().compare_exchange_strong(expected, static_cast<int>(conv_algo_from_env()));
    v = algo_slot().load();
  }
  return static_cast<ConvAlgo>(v);
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& options) {
  return conv("conv2d", "Conv2dBackward", false, x, weight, bias, options, nullptr);
}

Tensor conv2d_bias_act(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Conv2dOptions& conv_options, const BiasActOptions& act) {
  return conv("conv2d_bias_act", "Conv2dBiasActBackward", false, x, weight, bias, conv_options,
              &act);
}

// z = conv2d(x, weight) + bias is written beside y only when a gradient will need it; z then
// carries conv2d's backward and y prelu's, so the backward is prelu's on z followed by conv2d's.
Tensor conv2d_prelu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Tensor& prelu_weight, const Conv2dOptions& conv_options) {
  const char* op = "conv2d_prelu";
  detail::check_operands({x, weight, prelu_weight}, op);
  const Geometry g = conv2d_geometry(x, weight.shape(), conv_options, op);
  check_bias(x, bias, g.out_c, op);
  const Shape out_shape{g.batch, g.out_c, g.out_h, g.out_w};
  detail::check_prelu_weight(out_shape, prelu_weight, op);
  PreluEpilogue p;
  {
    NoGradGuard no_grad;
    p.slopes = detail::contiguous_kernel(prelu_weight.reshape({-1}).expand({g.out_c}));
  }
  const bool needs_grad =
      autograd::needs_grad(operands(x, weight, bias)) || autograd::needs_grad({prelu_weight});
  if (needs_grad) p.pre = detail::empty_raw(out_shape, x.device());
  Tensor y = run_conv(x, weight, bias, kernels::BiasActParams{}, g, false, op, &p);
  if (needs_grad) {
    record_conv("Conv2dBackward", false, x, weight, bias, p.pre, g, nullptr);
    detail::record_prelu(p.pre, prelu_weight, y);
  }
  return y;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Conv2dOptions& options) {
  return conv("conv_transpose2d", "ConvTranspose2dBackward", true, x, weight, bias, options,
              nullptr);
}

Tensor conv_transpose2d_bias_act(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 const Conv2dOptions& conv_options, const BiasActOptions& act) {
  return conv("conv_transpose2d_bias_act", "ConvTranspose2dBiasActBackward", true, x, weight, bias,
              conv_options, &act);
}

Tensor conv2d_weight(const Tensor& x, const Tensor& grad_output, const Shape& weight_shape,
                     const Conv2dOptions& options) {
  const char* op = "conv2d_weight";
  detail::check_operands({x, grad_output}, op);
  const Geometry g = conv2d_geometry(x, weight_shape, options, op);
  check_4d(grad_output, op, "grad_output", "[N, O, H_out, W_out]");
  const Shape expected{g.batch, g.out_c, g.out_h, g.out_w};
  GE_CHECK(grad_output.shape() == expected, "conv2d_weight: expected grad_output of shape ",
           to_string(expected), " for input ", to_string(x.shape()), " and weight ",
           to_string(weight_shape), ", got ", to_string(grad_output.shape()));
  Tensor out = run_conv2d_weight(x, grad_output, g, op);
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
