#pragma once
// 2-D convolutions with PyTorch semantics (dilation 1), differentiable to any order.
//
//   conv2d:           x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] or undefined
//                     -> [N, O, (H + 2*pad - kh) / stride + 1, ...]
//   conv_transpose2d: x [N, C, H, W], weight [C, O/groups, kh, kw], bias [O] or undefined
//                     -> [N, O, (H - 1)*stride - 2*pad + kh + output_padding, ...]
//   conv2d_weight:    the gradient of conv2d with respect to its weight (like
//                     torch.nn.grad.conv2d_weight): x [N, C, H, W], grad_output [N, O, Ho, Wo]
//                     -> weight_shape.
//   conv2d_bias_act / conv_transpose2d_bias_act: the convolution followed by bias_act (bias
//                     along channels) in one pass: the bias, activation, gain and clamp are
//                     applied as each output is written, so the pre-activation never reaches
//                     memory. The backward keeps the output (as bias_act does) and reads the
//                     activation's derivative from it.
//   conv2d_prelu:     conv2d followed by prelu (one slope or one per output channel) in one pass.
//
// On CUDA the algorithm is selectable (CPU always runs im2col + the kernels' own SGEMM):
//   Native  the engine's implicit-GEMM kernels (bias and activation fused into them)
//   Gemm    im2col/col2im + cuBLAS (the activation as a separate pass)
//   Cudnn   cuDNN, nvcc builds only (the bias and activation as a separate pass)
//   Auto    Native
// The initial choice comes from the environment variable GE_CONV_ALGO (auto, native, gemm or
// cudnn; unset or empty: auto), read on first use.
#include <array>
#include <cstdint>
#include <string>

#include "ganengine/bias_act.h"
#include "ganengine/shape.h"
#include "ganengine/tensor.h"

namespace ge {

struct Conv2dOptions {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> output_padding{0, 0};  // conv_transpose2d only; must be < stride
  int64_t groups = 1;

  Conv2dOptions() = default;
  // Square stride/padding/output_padding, e.g. Conv2dOptions(2, 1) for DCGAN's k4 s2 p1.
  Conv2dOptions(int64_t stride_, int64_t padding_, int64_t output_padding_ = 0, int64_t groups_ = 1)
      : stride{stride_, stride_},
        padding{padding_, padding_},
        output_padding{output_padding_, output_padding_},
        groups(groups_) {}
};

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              const Conv2dOptions& options = {});
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        const Conv2dOptions& options = {});
Tensor conv2d_weight(const Tensor& x, const Tensor& grad_output, const Shape& weight_shape,
                     const Conv2dOptions& options = {});

// bias_act(conv2d(x, weight), bias, act) fused; bias: [O] or undefined; act.dim must be 1.
Tensor conv2d_bias_act(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Conv2dOptions& conv, const BiasActOptions& act);
// prelu(conv2d(x, weight, bias), prelu_weight) fused: the bias and PReLU are applied as each
// output is written (on CUDA by the Native kernels; Gemm and Cudnn run PReLU as a separate pass).
// prelu_weight: 1 slope or O slopes, as ge::prelu. Under autograd the pre-activation is written
// too and kept for the backward (the slopes may be negative, so the output's sign does not tell
// the pre-activation's).
Tensor conv2d_prelu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Tensor& prelu_weight, const Conv2dOptions& conv);
// bias_act(conv_transpose2d(x, weight), bias, act) fused; bias: [O] or undefined.
Tensor conv_transpose2d_bias_act(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 const Conv2dOptions& conv, const BiasActOptions& act);

enum class ConvAlgo { Auto, Native, Gemm, Cudnn };

// The algorithm CUDA convolutions use from now on (process-wide). Selecting Cudnn in a build
// without cuDNN is accepted here; the next CUDA convolution throws ge::Error saying so.
void set_conv_algo(ConvAlgo algo);
// The current algorithm; on first use, the one GE_CONV_ALGO names (throws ge::Error naming the
// variable, the accepted values and the value found when it names none).
ConvAlgo conv_algo();
// Parses GE_CONV_ALGO as it is now (Auto when unset or empty), without changing the selection.
ConvAlgo conv_algo_from_env();
// "auto", "native", "gemm", "cudnn".
std::string to_string(ConvAlgo algo);
// Whether CUDA convolutions can run with `algo` in this build (Cudnn: only with cuDNN).
bool conv_algo_available(ConvAlgo algo);

}  // namespace ge
