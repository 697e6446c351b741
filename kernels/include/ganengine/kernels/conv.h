#pragma once
// Direct 2-D convolution launchers (dilation 1), float32, contiguous NCHW buffers, with the
// bias_act epilogue fused into the output write.
//
// Every entry point is phrased in terms of one conv2d geometry `ConvShape`:
//   x  [batch, in_c, in_h, in_w]    the conv2d input (the conv_transpose2d output)
//   w  [out_c, in_c/groups, kh, kw] the conv2d weight (conv_transpose2d's weight has this layout
//                                   too: [its input channels, its output channels/groups, kh, kw])
//   y  [batch, out_c, out_h, out_w] the conv2d output (the conv_transpose2d input)
//
//   conv2d_forward           y  = epilogue(conv2d(x, w)),            bias over out_c
//   conv_transpose2d_forward x  = epilogue(conv_transpose2d(y, w)),  bias over in_c
//                            (also conv2d's input gradient, with no epilogue)
//   conv2d_weight            dw = the weight gradient of conv2d for input x and output grad dy
//
// out_h/out_w must equal (in + 2*pad - k) / stride + 1; for conv_transpose2d, in_h/in_w carry
// output_padding (they may exceed the size that formula inverts to by less than the stride).
#include <cstddef>
#include <cstdint>

#include "ganengine/kernels/bias_act.h"
#include "ganengine/kernels/im2col.h"
#include "ganengine/kernels/types.h"

namespace ge::kernels {

struct ConvShape {
  int64_t batch = 1;
  int64_t in_c = 0, in_h = 0, in_w = 0;
  int64_t out_c = 0, out_h = 0, out_w = 0;
  int64_t kh = 1, kw = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t groups = 1;
};

// The im2col geometry of one image plane of s (the columns of one sample and channel); batch,
// channels and the column strides keep their defaults for the caller's layout to set.
inline Im2colArgs plane_im2col_args(const ConvShape& s) {
  Im2colArgs a;
  a.height = s.in_h;
  a.width = s.in_w;
  a.kernel_h = s.kh;
  a.kernel_w = s.kw;
  a.stride_h = s.stride_h;
  a.stride_w = s.stride_w;
  a.pad_h = s.pad_h;
  a.pad_w = s.pad_w;
  a.col_h = s.out_h;
  a.col_w = s.out_w;
  return a;
}

// Applied to every output element as it is written: act.clamp/gain/alpha as in bias_act's
// Forward mode. bias may be null. The default is the identity (Linear, gain 1, no clamp).
// With prelu (conv2d_forward only; act must then be the identity), the output is PReLU of
// z = conv + bias with slope prelu[c] for output channel c, and when pre_activation is set z is
// written there too (same layout as the output): PReLU's backward needs z, whose sign the output
// does not tell when a slope is negative.
struct ConvEpilogue {
  const float* bias = nullptr;
  BiasActParams act{};
  const float* prelu = nullptr;     // one slope per output channel
  float* pre_activation = nullptr;  // only with prelu
};

// Throws ge::Error naming `op` when the sizes are inconsistent (see the file comment).
void check_conv_shape(const ConvShape& s, const char* op);
// Throws ge::Error naming `op` when e's prelu fields are misused: prelu where the launcher has
// no such epilogue (prelu_supported false), prelu with an activation, pre_activation alone.
void check_prelu_epilogue(const ConvEpilogue& e, const char* op, bool prelu_supported);

namespace cpu {
// im2col/col2im + the kernels' SGEMM, threads over the batch (OpenMP). `workspace` holds at least
// conv_workspace_floats(s) floats (per-thread column buffers); the launchers allocate nothing.
// The size depends on the OpenMP thread count: ask for it from the thread that launches, with
// the same thread settings.
int64_t conv_workspace_floats(const ConvShape& s);
void conv2d_forward(const ConvShape& s, const float* x, const float* w, const ConvEpilogue& e,
                    float* y, float* workspace);
void conv_transpose2d_forward(const ConvShape& s, const float* y, const float* w,
                              const ConvEpilogue& e, float* x, float* workspace);
void conv2d_weight(const ConvShape& s, const float* x, const float* dy, float* dw,
                   float* workspace);
}  // namespace cpu

namespace cuda {
// Hand-written implicit-GEMM kernels: no column buffer, shared-memory tiles, the epilogue fused.
// `tile` picks the block tile (M x N outputs per block of 256 threads); Auto chooses from the
// GEMM's shape. The others exist for tests and benchmarks:
//   Wide 64x64 (4x4 per thread), Tall 128x64 (8x4), Thin 16x256 (4x4; for M <= 16).
enum class ConvTile { Auto, Wide, Tall, Thin };
// How the products are formed. Fp32: FMA on the FP32 cores, the exact path. Tf32: mma.sync on
// the tensor cores, each input rounded to TF32 (10 mantissa bits, to nearest, ties away from
// zero) and the products summed in FP32, as cuDNN does for FP32 tensors when TF32 is allowed.
// Same tiles, loaders and epilogue; only the inner product differs.
enum class ConvMath { Fp32, Tf32 };
GE_CUDA_LAUNCHER void conv2d_forward(const ConvShape& s, const float* x, const float* w,
                                     const ConvEpilogue& e, float* y, Stream stream,
                                     ConvTile tile = ConvTile::Auto,
                                     ConvMath math = ConvMath::Fp32);
GE_CUDA_LAUNCHER void conv_transpose2d_forward(const ConvShape& s, const float* y, const float* w,
                                               const ConvEpilogue& e, float* x, Stream stream,
                                               ConvTile tile = ConvTile::Auto,
                                               ConvMath math = ConvMath::Fp32);
// The weight gradient's GEMM is short and wide (K = batch*out_h*out_w): when its output gives too
// few blocks, K is split across blocks, each split writes its partial dw into `workspace`, and a
// second kernel adds the partials in a fixed order (bitwise reproducible, no atomics).
// `workspace` holds conv2d_weight_workspace_floats(s, tile) floats (may be null when that is 0);
// the split depends on the shape, tile and the device's SM count only. Thin is not offered here.
GE_CUDA_LAUNCHER int64_t conv2d_weight_workspace_floats(const ConvShape& s,
                                                        ConvTile tile = ConvTile::Auto);
GE_CUDA_LAUNCHER void conv2d_weight(const ConvShape& s, const float* x, const float* dy, float* dw,
                                    float* workspace, Stream stream, ConvTile tile = ConvTile::Auto,
                                    ConvMath math = ConvMath::Fp32);

// The im2col/col2im + cuBLAS algorithm (the engine's ConvAlgo::Gemm), for comparison with the
// native kernels: columns [in_c*kh*kw, batch, out_h*out_w] so that one GEMM per group covers the
// batch; the bias enters the GEMM (forward) or col2im (transposed), the activation, gain and
// clamp are one bias_act pass after it; no PReLU epilogue. `workspace` holds at least
// conv_gemm_workspace_floats(s) floats (the columns, then an output-sized permuted copy).
// `math` Tf32 runs the GEMMs on cuBLAS's TF32 tensor-core math.
GE_CUDA_LAUNCHER int64_t conv_gemm_workspace_floats(const ConvShape& s);
GE_CUDA_LAUNCHER void conv2d_forward_gemm(const ConvShape& s, const float* x, const float* w,
                                          const ConvEpilogue& e, float* y, float* workspace,
                                          int64_t workspace_size, Stream stream,
                                          ConvMath math = ConvMath::Fp32);
GE_CUDA_LAUNCHER void conv_transpose2d_forward_gemm(const ConvShape& s, const float* y,
                                                    const float* w, const ConvEpilogue& e, float* x,
                                                    float* workspace, int64_t workspace_size,
                                                    Stream stream, ConvMath math = ConvMath::Fp32);
GE_CUDA_LAUNCHER void conv2d_weight_gemm(const ConvShape& s, const float* x, const float* dy,
                                         float* dw, float* workspace, int64_t workspace_size,
                                         Stream stream, ConvMath math = ConvMath::Fp32);

// cuDNN baselines (nvcc builds only; elsewhere cudnn_available() is false and the others throw
// ge::Error saying cuDNN is not in this build). `math` Fp32 runs FP32 FMA math (no TF32), like
// the native FP32 kernels; Tf32 lets cuDNN use the TF32 tensor cores (its default math). The
// algorithm is cuDNN's heuristic choice (deterministic algorithms preferred), cached per shape,
// math and device on the calling thread; cudnn_workspace_bytes returns what that algorithm
// needs, and the caller passes at least that much, so nothing is allocated per call. The
// epilogue is applied by a bias_act pass after cuDNN's convolution (skipped when identity).
enum class CudnnConvOp { Forward, TransposeForward, Weight };
GE_CUDA_LAUNCHER bool cudnn_available();
GE_CUDA_LAUNCHER size_t cudnn_workspace_bytes(CudnnConvOp op, const ConvShape& s,
                                              ConvMath math = ConvMath::Fp32);
GE_CUDA_LAUNCHER void cudnn_conv2d_forward(const ConvShape& s, const float* x, const float* w,
                                           const ConvEpilogue& e, float* y, void* workspace,
                                           size_t workspace_bytes, Stream stream,
                                           ConvMath math = ConvMath::Fp32);
GE_CUDA_LAUNCHER void cudnn_conv_transpose2d_forward(const ConvShape& s, const float* y,
                                                     const float* w, const ConvEpilogue& e,
                                                     float* x, void* workspace,
                                                     size_t workspace_bytes, Stream stream,
                                                     ConvMath math = ConvMath::Fp32);
GE_CUDA_LAUNCHER void cudnn_conv2d_weight(const ConvShape& s, const float* x, const float* dy,
                                          float* dw, void* workspace, size_t workspace_bytes,
                                          Stream stream, ConvMath math = ConvMath::Fp32);
}  // namespace cuda

}  // namespace ge::kernels
