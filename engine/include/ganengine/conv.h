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
#include <array>
#include <cstdint>

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

}  // namespace ge
