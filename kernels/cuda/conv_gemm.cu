// The im2col/col2im + cuBLAS convolutions (the engine's ConvAlgo::Gemm). The columns are laid
// out [C*kh*kw, N, L] (L = out_h * out_w) rather than per sample, so one GEMM per group covers
// the whole batch (long GEMMs run far closer to peak than N short ones); the price is one
// permuting copy of an output-sized tensor per call ([O, N, L] <-> [N, O, L]). The bias enters
// the forward GEMM as its C operand and col2im's sum; the rest of the epilogue is one bias_act
// pass. The GEMMs run in FP32, or with ConvMath::Tf32 on cuBLAS's TF32 tensor-core math.
// Workspace: the columns, then the permuted [O, N, L] tensor.
#include <algorithm>
#include <cstdint>

#include "common/grid.h"
#include "common/workspace.h"
#include "cuda/channel_of.cuh"
#include "cuda/launch.cuh"
#include "ganengine/kernels/bias_act.h"
#include "ganengine/kernels/conv.h"
#include "ganengine/kernels/im2col.h"
#include "ganengine/kernels/matmul.h"

namespace ge::kernels::cuda {
namespace {

// dst [b, a, l] = src [a, b, l] for a < rows_a, b < rows_b, l < inner.
template <typename I>
__global__ void swap_outer_kernel(const float* src, float* dst, I total, I rows_a, I inner,
                                  DivBy<I> by_inner, DivBy<I> by_rows_b) {
  for (I i = first_index<I>(); i < total; i += grid_stride<I>()) {
    I l, b;
    const I a = by_rows_b.divmod(by_inner.divmod(i, l), b);
    dst[(b * rows_a + a) * inner + l] = src[i];
  }
}

// rows [r, cols] = bias[r] for every column.
template <typename I>
__global__ void broadcast_rows_kernel(const float* bias, float* rows, I total, DivBy<I> by_cols) {
  for (I i = first_index<I>(); i < total; i += grid_stride<I>())
    rows[i] = bias[by_cols(i)];
}

void swap_outer(const float* src, float* dst, int64_t a, int64_t b, int64_t inner, Stream stream) {
  const int64_t total = a * b * inner;
  if (total == 0) return;
  if (narrow_index(total))
    GE_LAUNCH(swap_outer_kernel<int>, grid_for(total), kBlock, 0, stream, src, dst,
              static_cast<int>(total), static_cast<int>(a), static_cast<int>(inner),
              DivBy<int>(inner), DivBy<int>(b));
  else
    GE_LAUNCH(swap_outer_kernel<int64_t>, grid_for(total), kBlock, 0, stream, src, dst, total, a,
              inner, DivBy<int64_t>(inner), DivBy<int64_t>(b));
}

void broadcast_rows(const float* bias, float* rows, int64_t r, int64_t cols, Stream stream) {
  const int64_t total = r * cols;
  if (total == 0) return;
  if (narrow_index(total))
    GE_LAUNCH(broadcast_rows_kernel<int>, grid_for(total), kBlock, 0, stream, bias, rows,
              static_cast<int>(total), DivBy<int>(cols));
  else
    GE_LAUNCH(broadcast_rows_kernel<int64_t>, grid_for(total), kBlock, 0, stream, bias, rows, total,
              DivBy<int64_t>(cols));
}

Im2colArgs gemm_im2col_args(const ConvShape& s) {
  Im2colArgs a = plane_im2col_args(s);
  a.batch = s.batch;
  a.channels = s.in_c;
  a.col_sample_stride = s.out_h * s.out_w;  // [C*kh*kw, N, L]
  a.col_row_stride = s.batch * s.out_h * s.out_w;
  return a;
}

int64_t column_floats(const ConvShape& s) {
  return s.in_c * s.kh * s.kw * s.batch * s.out_h * s.out_w;
}

// y [N, O, L] as [O, N, L]: y itself for one sample, else its permuted copy in the workspace
// (after the columns).
const float* channel_major(const ConvShape& s, const float* y, float* workspace, Stream stream) {
  if (s.batch == 1) return y;
  float* swapped = workspace + column_floats(s);
  swap_outer(y, swapped, s.batch, s.out_c, s.out_h * s.out_w, stream);
  return swapped;
}

void check_conv_gemm_args(const char* op, const ConvShape& s, const float* workspace,
                          int64_t workspace_size) {
  check_conv_shape(s, op);
  check_workspace(op, conv_gemm_workspace_floats(s), workspace, workspace_size);
}

// The epilogue's activation, gain and clamp over out [N, channels, inner] (its bias is in).
void activation_pass(const BiasActParams& p, float* out, int64_t n, int64_t channels, int64_t inner,
                     Stream stream) {
  if (p.act == BiasActFn::Linear && p.gain == 1.f && p.clamp < 0.f) return;
  BiasActArgs a;
  a.x = out;
  a.out = out;
  a.n = n * channels * inner;
  a.channels = channels;
  a.inner = inner;
  if (a.n > 0) bias_act(BiasActMode::Forward, p, a, stream);
}

GemmMath gemm_math(ConvMath math) {
  return math == ConvMath::Tf32 ? GemmMath::Tf32 : GemmMath::Fp32;
}

void check_gemm_epilogue(const ConvEpilogue& e, const char* op) {
  GE_CHECK(e.prelu == nullptr && e.pre_activation == nullptr, op,
           ": the im2col + GEMM convolution has no PReLU epilogue (apply prelu after it)");
}

}  // namespace

int64_t conv_gemm_workspace_floats(const ConvShape& s) {
  return column_floats(s) + s.out_c * s.batch * s.out_h * s.out_w;
}

void conv2d_forward_gemm(const ConvShape& s, const float* x, const float* w, const ConvEpilogue& e,
                         float* y, float* workspace, int64_t workspace_size, Stream stream,
                         ConvMath math) {
  const char* op = "conv2d_forward_gemm";
  check_conv_gemm_args(op, s, workspace, workspace_size);
  check_gemm_epilogue(e, op);
  const int64_t L = s.out_h * s.out_w, NL = s.batch * L;
  if (s.out_c * NL == 0) return;
  const int64_t og = s.out_c / s.groups, ckg = s.in_c / s.groups * s.kh * s.kw;
  float* col = workspace;
  // The GEMM writes [O, N, L]; for N == 1 that already is the output's layout.
  float* tmp = s.batch == 1 ? y : workspace + column_floats(s);
  if (e.bias != nullptr) broadcast_rows(e.bias, tmp, s.out_c, NL, stream);
  im2col(gemm_im2col_args(s), x, col, stream);
  // Per group: out_g [O/groups, N*L] = w_g [O/groups, ckg] @ col_g [ckg, N*L].
  gemm(packed_gemm(false, false, og, NL, ckg, w, col, tmp, s.groups, e.bias != nullptr ? 1.f : 0.f),
       stream, gemm_math(math));
  if (s.batch != 1) swap_outer(tmp, y, s.out_c, s.batch, L, stream);
  activation_pass(e.act, y, s.batch, s.out_c, L, stream);
}

void conv_transpose2d_forward_gemm(const ConvShape& s, const float* y, const float* w,
                                   const ConvEpilogue& e, float* x, float* workspace,
                                   int64_t workspace_size, Stream stream, ConvMath math) {
  const char* op = "conv_transpose2d_forward_gemm";
  check_conv_gemm_args(op, s, workspace, workspace_size);
  check_gemm_epilogue(e, op);
  if (s.batch * s.in_c * s.in_h * s.in_w == 0) return;
  const int64_t L = s.out_h * s.out_w, NL = s.batch * L;
  const int64_t og = s.out_c / s.groups, ckg = s.in_c / s.groups * s.kh * s.kw;
  float* col = workspace;
  const float* yp = channel_major(s, y, workspace, stream);
  // Per group: col_g [ckg, N*L] = w_g^T @ y_g, with w_g stored [O/groups, ckg].
  gemm(packed_gemm(true, false, ckg, NL, og, w, yp, col, s.groups), stream, gemm_math(math));
  col2im(gemm_im2col_args(s), col, e.bias, x, stream);
  activation_pass(e.act, x, s.batch, s.in_c, s.in_h * s.in_w, stream);
}

void conv2d_weight_gemm(const ConvShape& s, const float* x, const float* dy, float* dw,
                        float* workspace, int64_t workspace_size, Stream stream, ConvMath math) {
  const char* op = "conv2d_weight_gemm";
  check_conv_gemm_args(op, s, workspace, workspace_size);
  const int64_t L = s.out_h * s.out_w, NL = s.batch * L;
  const int64_t og = s.out_c / s.groups, ckg = s.in_c / s.groups * s.kh * s.kw;
  if (s.out_c * ckg == 0) return;
  float* col = workspace;
  const float* gp = channel_major(s, dy, workspace, stream);
  im2col(gemm_im2col_args(s), x, col, stream);
  // Per group: dw_g [O/groups, ckg] = grad_g @ col_g^T, with col_g stored [ckg, N*L].
  gemm(packed_gemm(false, true, og, ckg, NL, gp, col, dw, s.groups), stream, gemm_math(math));
}

}  // namespace ge::kernels::cuda
