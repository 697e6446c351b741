// reflection_pad2d and replication_pad2d. Each mode is a pair of linear ops, the padding P and
// its adjoint P^T (the kernels' gather backward): the backward of P is P^T and the backward of
// P^T is P, so gradients of every order are these two kernels.
#include "ganengine/pad.h"

#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/pad.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

struct Params {
  k::PadMode mode;
  std::array<int64_t, 4> pad;  // left, right, top, bottom
};

// small: the unpadded side of the map, [N, C, H, W] or [C, H, W].
k::PadShape shape_of(const Shape& small, const Params& p) {
  const size_t d = small.size();
  k::PadShape s;
  s.planes = d == 4 ? small[0] * small[1] : small[0];
  s.in_h = small[d - 2];
  s.in_w = small[d - 1];
  s.left = p.pad[0];
  s.right = p.pad[1];
  s.top = p.pad[2];
  s.bottom = p.pad[3];
  return s;
}

// adjoint false: v `small` -> padded; true: v padded -> `small`.
Tensor apply(const Params& p, bool adjoint, const Tensor& v, const Shape& small) {
  const k::PadShape s = shape_of(small, p);
  Shape big = small;
  big[big.size() - 2] = s.out_h();
  big[big.size() - 1] = s.out_w();
  const Tensor vc = detail::contiguous_operand(v);
  Tensor out = detail::empty_raw(adjoint ? small : big, v.device());
  if (s.out_numel() > 0) {
    detail::run_kernel(v.device(), adjoint ? k::cpu::pad2d_backward : k::cpu::pad2d,
                       adjoint ? k::cuda::pad2d_backward : k::cuda::pad2d, p.mode, vc.data_ptr(),
                       out.data_ptr(), s);
  }
  if (autograd::needs_grad({v})) {
    const bool reflect = p.mode == k::PadMode::Reflect;
    const char* node =
        reflect ? (adjoint ? "ReflectionPad2dAdjointBackward" : "ReflectionPad2dBackward")
                : (adjoint ? "ReplicationPad2dAdjointBackward" : "ReplicationPad2dBackward");
    autograd::record(node, {v}, {out}, [p, adjoint, small](BackwardContext&, const Grads& g) {
      return Grads{apply(p, !adjoint, g[0], small)};
    });
  }
  return out;
}

void check_side(const char* op, k::PadMode mode, const char* side, int64_t pad, const char* dim,
                int64_t size, const std::array<int64_t, 4>& all) {
  GE_CHECK(pad >= 0, op, ": expected non-negative pads, got ", pad, " for the ", side,
           " side (pad {", all[0], ", ", all[1], ", ", all[2], ", ", all[3], "})");
  if (mode == k::PadMode::Reflect) {
    GE_CHECK(pad == 0 || pad < size, op, ": expected the ", side, " pad below the input ", dim, " ",
             size, ", got ", pad);
  } else {
    GE_CHECK(pad == 0 || size > 0, op, ": expected a non-empty input ", dim, " to repeat for the ",
             side, " pad ", pad, ", got ", dim, " ", size);
  }
}

Tensor pad2d(const Tensor& x, const Params& p, const char* op) {
  detail::check_operand(x, op);
  GE_CHECK(x.dim() == 4 || x.dim() == 3, op,
           ": expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape ",
           to_string(x.shape()));
  const int64_t h = x.shape()[x.dim() - 2], w = x.shape()[x.dim() - 1];
  check_side(op, p.mode, "left", p.pad[0], "width", w, p.pad);
  check_side(op, p.mode, "right", p.pad[1], "width", w, p.pad);
  check_side(op, p.mode, "top", p.pad[2], "height", h, p.pad);
  check_side(op, p.mode, "bottom", p.pad[3], "height", h, p.pad);
  return apply(p, false, x, x.shape());
}

}  // namespace

Tensor reflection_pad2d(const Tensor& x, std::array<int64_t, 4> pad) {
  return pad2d(x, {k::PadMode::Reflect, pad}, "reflection_pad2d");
}

Tensor replication_pad2d(const Tensor& x, std::array<int64_t, 4> pad) {
  return pad2d(x, {k::PadMode::Replicate, pad}, "replication_pad2d");
}

}  // namespace ge
