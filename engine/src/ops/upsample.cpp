// upsample_nearest2d and upsample_bilinear2d. Each mode is a pair of linear ops, the upsampling
// U and its adjoint U^T (the kernels' gather backward): the backward of U is U^T and the backward
// of U^T is U, so gradients of every order are these two kernels.
#include "ganengine/upsample.h"

#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/upsample.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

enum class Mode { Nearest, Bilinear, BilinearAlignCorners };

struct Params {
  Mode mode;
  int64_t scale;
};

// in: the [N, C, H, W] side of the map.
k::UpsampleShape shape_of(const Shape& in, int64_t scale) {
  k::UpsampleShape s;
  s.planes = in[0] * in[1];
  s.in_h = in[2];
  s.in_w = in[3];
  s.scale = scale;
  return s;
}

void run(const Params& p, bool adjoint, const float* src, float* dst, const k::UpsampleShape& s,
         Device device) {
  const bool align = p.mode == Mode::BilinearAlignCorners;
  if (p.mode == Mode::Nearest) {
    detail::run_kernel(
        device, adjoint ? k::cpu::upsample_nearest2d_backward : k::cpu::upsample_nearest2d,
        adjoint ? k::cuda::upsample_nearest2d_backward : k::cuda::upsample_nearest2d, src, dst, s);
  } else {
    detail::run_kernel(
        device, adjoint ? k::cpu::upsample_bilinear2d_backward : k::cpu::upsample_bilinear2d,
        adjoint ? k::cuda::upsample_bilinear2d_backward : k::cuda::upsample_bilinear2d, src, dst, s,
        align);
  }
}

// adjoint false: v [N, C, H, W] -> [N, C, sH, sW]; true: v [N, C, sH, sW] -> `small`.
Tensor apply(const Params& p, bool adjoint, const Tensor& v, const Shape& small) {
  const k::UpsampleShape s = shape_of(small, p.scale);
  const Shape big = {small[0], small[1], s.out_h(), s.out_w()};
  const Tensor vc = detail::contiguous_operand(v);
  Tensor out = detail::empty_raw(adjoint ? small : big, v.device());
  if (s.in_numel() > 0) run(p, adjoint, vc.data_ptr(), out.data_ptr(), s, v.device());
  if (autograd::needs_grad({v})) {
    autograd::record(adjoint ? "UpsampleAdjointBackward" : "UpsampleBackward", {v}, {out},
                     [p, adjoint, small](BackwardContext&, const Grads& g) {
                       return Grads{apply(p, !adjoint, g[0], small)};
                     });
  }
  return out;
}

Tensor upsample(const Tensor& x, const Params& p, const char* op) {
  detail::check_operand(x, op);
  GE_CHECK(x.dim() == 4, op, ": expected a 4-D input [N, C, H, W], got shape ",
           to_string(x.shape()));
  GE_CHECK(p.scale >= 1, op, ": expected an integer scale >= 1, got ", p.scale);
  return apply(p, false, x, x.shape());
}

}  // namespace

Tensor upsample_nearest2d(const Tensor& x, int64_t scale) {
  return upsample(x, {Mode::Nearest, scale}, "upsample_nearest2d");
}

Tensor upsample_bilinear2d(const Tensor& x, int64_t scale, bool align_corners) {
  return upsample(x, {align_corners ? Mode::BilinearAlignCorners : Mode::Bilinear, scale},
                  "upsample_bilinear2d");
}

}  // namespace ge
