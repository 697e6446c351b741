#pragma once
// What batch_norm2d and instance_norm2d share: both normalise sets of values of a 4-D input (a
// channel over N, H, W, or one plane over H, W) with per-channel affine parameters, and their
// double backwards are one formula over different sets. set_dims: the dims a set spans.
#include <cstdint>
#include <vector>

#include "dispatch.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "ganengine/tensor.h"

namespace ge::detail {

// [C] -> [1, C, 1, 1], for broadcasting against x.
inline Tensor per_channel(const Tensor& t) {
  return reshape(t, {1, t.numel(), 1, 1});
}

// An optional per-channel parameter or statistic of x: when defined, float32 on x's device and
// of shape [C].
inline void check_channel_vector(const Tensor& x, const Tensor& t, const char* what,
                                 const char* op) {
  if (!t.defined()) return;
  check_operand(t, op);
  check_same_device(x, t, op);
  GE_CHECK(t.dim() == 1 && t.size(0) == x.size(1), op, ": expected ", what, " of shape [",
           x.size(1), "] (the channels of x ", to_string(x.shape()), "), got ",
           to_string(t.shape()));
}

// xhat and invstd of x over its sets, built from differentiable ops (the double backward needs
// their dependence on x).
struct Normalized {
  Tensor xhat, invstd;
};

inline Normalized normalize(const Tensor& x, float eps, const std::vector<int64_t>& set_dims) {
  const Tensor centered = x - mean(x, set_dims, true);
  const Tensor invstd = rsqrt(mean(square(centered), set_dims, true) + eps);
  return {centered * invstd, invstd};
}

// The double backward's terms for the incoming gradient dy of the first backward and the
// gradient A arriving for its dx, with <.> the mean over a set, r = invstd and gc = dy - <dy>:
//   curvature(A)  r^2 (xhat (3 <dy xhat><A xhat> - <A gc>) - <A xhat> gc - <dy xhat> (A - <A>)),
//                 d x without the weight and the backward-of-P term
//   dweight(A)    the sum over weight_dims of A (gc - xhat <dy xhat>) r
class NormDoubleBackward {
 public:
  NormDoubleBackward(const Tensor& dy, const Normalized& nx, const std::vector<int64_t>& set_dims)
      : nx_(nx),
        set_dims_(set_dims),
        gc_(dy - mean(dy, set_dims, true)),
        dy_xhat_(mean(dy * nx.xhat, set_dims, true)) {}

  Tensor curvature(const Tensor& a) const {
    const Tensor a_xhat = mean(a * nx_.xhat, set_dims_, true);
    const Tensor a_gc = mean(a * gc_, set_dims_, true);
    const Tensor ac = a - mean(a, set_dims_, true);
    return square(nx_.invstd) *
           (nx_.xhat * (3.f * dy_xhat_ * a_xhat - a_gc) - a_xhat * gc_ - dy_xhat_ * ac);
  }

  Tensor dweight(const Tensor& a, const std::vector<int64_t>& weight_dims) const {
    return sum(a * (gc_ - nx_.xhat * dy_xhat_) * nx_.invstd, weight_dims);
  }

 private:
  Normalized nx_;
  std::vector<int64_t> set_dims_;
  Tensor gc_, dy_xhat_;
};

}  // namespace ge::detail
