// resize_bicubic2d: the resize R and its adjoint R^T (the kernels' backward), each the other's
// backward, so that gradients of every order are these two kernels.
#include "ganengine/resize.h"

#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/resize.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

// small: the input side of R, [N, C, H, W]; big: its output side [N, C, OH, OW].
k::ResizeShape shape_of(const Shape& small, const Shape& big, const BicubicOptions& o) {
  k::ResizeShape s;
  s.planes = small[0] * small[1];
  s.in_h = small[2];
  s.in_w = small[3];
  s.out_h = big[2];
  s.out_w = big[3];
  s.align_corners = o.align_corners;
  s.antialias = o.antialias;
  return s;
}

void run(const k::ResizeShape& s, bool adjoint, const float* src, float* dst, Device device) {
  if (device.is_cuda()) {
    const int64_t need = k::cuda::resize_bicubic2d_workspace(s);
    const Tensor workspace = detail::workspace_floats(need, device);
    (adjoint ? k::cuda::resize_bicubic2d_backward : k::cuda::resize_bicubic2d)(
        src, dst, s, detail::data_or_null(workspace), need, detail::kernel_stream(device));
  } else {
    (adjoint ? k::cpu::resize_bicubic2d_backward : k::cpu::resize_bicubic2d)(src, dst, s);
  }
}

// adjoint false: v `small` -> `big`; true: v `big` -> `small`.
Tensor apply(const BicubicOptions& o, bool adjoint, const Tensor& v, const Shape& small,
             const Shape& big) {
  const k::ResizeShape s = shape_of(small, big, o);
  const Tensor vc = detail::contiguous_operand(v);
  Tensor out = detail::empty_raw(adjoint ? small : big, v.device());
  if (s.planes > 0) run(s, adjoint, vc.data_ptr(), out.data_ptr(), v.device());
  if (autograd::needs_grad({v})) {
    autograd::record(adjoint ? "ResizeAdjointBackward" : "ResizeBackward", {v}, {out},
                     [o, adjoint, small, big](BackwardContext&, const Grads& g) {
                       return Grads{apply(o, !adjoint, g[0], small, big)};
                     });
  }
  return out;
}

}  // namespace

Tensor resize_bicubic2d(const Tensor& x, std::array<int64_t, 2> size,
                        const BicubicOptions& options) {
  const char* op = "resize_bicubic2d";
  detail::check_operand(x, op);
  GE_CHECK(x.dim() == 4 || x.dim() == 3, op,
           ": expected a 4-D input [N, C, H, W] or a 3-D image [C, H, W], got shape ",
           to_string(x.shape()));
  GE_CHECK(size[0] >= 1 && size[1] >= 1, op, ": expected an output size >= 1, got [", size[0], ", ",
           size[1], "]");
  GE_CHECK(x.shape()[x.dim() - 2] >= 1 && x.shape()[x.dim() - 1] >= 1, op,
           ": expected an input of height and width >= 1, got shape ", to_string(x.shape()));
  if (x.dim() == 3) return squeeze(resize_bicubic2d(unsqueeze(x, 0), size, options), 0);
  const Shape& small = x.shape();
  return apply(options, false, x, small, {small[0], small[1], size[0], size[1]});
}

}  // namespace ge
