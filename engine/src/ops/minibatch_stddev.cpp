// minibatch_stddev: the forward is the fused statistics and concat kernels. The backward takes
// the fused kernels (gradient sums per group slot, then one pass over the input) when no graph
// is being built, and under create_graph the same formula written with differentiable ops:
//   dx = dout[:, :C] + gstats[m, f] / (C / F * H * W) * (x - mean_g) / (G * stddev)
// where gstats sums dout's appended channels over each slot's group members and positions. The
// autograd of that expression gives every higher derivative.
#include "ganengine/minibatch_stddev.h"

#include <algorithm>
#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/minibatch_stddev.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;

k::MinibatchStdShape shape_of(const Tensor& x, int64_t group, int64_t channels) {
  k::MinibatchStdShape s;
  s.n = x.size(0);
  s.c = x.size(1);
  s.hw = x.size(2) * x.size(3);
  s.group = group;
  s.channels = channels;
  return s;
}

Tensor forward_kernels(const Tensor& x, const k::MinibatchStdShape& s) {
  const Tensor xc = detail::contiguous_operand(x);
  Tensor out = detail::empty_raw({s.n, s.out_channels(), x.size(2), x.size(3)}, x.device());
  if (out.numel() == 0) return out;
  Tensor stats = detail::empty_raw({s.slots(), s.channels}, x.device());
  detail::run_kernel(x.device(), k::cpu::minibatch_stddev_stats, k::cuda::minibatch_stddev_stats,
                     xc.data_ptr(), stats.data_ptr(), s);
  detail::run_kernel(x.device(), k::cpu::minibatch_stddev_concat, k::cuda::minibatch_stddev_concat,
                     xc.data_ptr(), stats.data_ptr(), out.data_ptr(), s);
  return out;
}

Tensor backward_kernels(const Tensor& dout, const Tensor& x, const k::MinibatchStdShape& s) {
  const Tensor dc = detail::contiguous_operand(dout), xc = detail::contiguous_operand(x);
  Tensor dx = detail::empty_raw(x.shape(), x.device());
  if (dout.numel() == 0 || dx.numel() == 0) return dx;
  Tensor gstats = detail::empty_raw({s.slots(), s.channels}, x.device());
  detail::run_kernel(x.device(), k::cpu::minibatch_stddev_backward_reduce,
                     k::cuda::minibatch_stddev_backward_reduce, dc.data_ptr(), gstats.data_ptr(),
                     s);
  detail::run_kernel(x.device(), k::cpu::minibatch_stddev_backward_input,
                     k::cuda::minibatch_stddev_backward_input, dc.data_ptr(), xc.data_ptr(),
                     gstats.data_ptr(), dx.data_ptr(), s);
  return dx;
}

// The same gradient from differentiable ops.
Tensor backward_ops(const Tensor& dout, const Tensor& x, const k::MinibatchStdShape& s) {
  const int64_t h = x.size(2), w = x.size(3), slots = s.slots(), set = s.set_size();
  const Tensor y = reshape(x, {s.group, slots, s.channels, set, h, w});
  const Tensor centered = y - mean(y, {0}, true);
  const Tensor stddev = sqrt(mean(square(centered), {0}, true) + k::kMinibatchStdEps);
  const Tensor gstats =
      sum(reshape(sum(slice(dout, 1, s.c, s.out_channels()), {2, 3}), {s.group, slots, s.channels}),
          {0});
  const float scale = 1.f / static_cast<float>(set * h * w * s.group);
  const Tensor d_stats =
      centered / stddev * (reshape(gstats, {1, slots, s.channels, 1, 1, 1}) * scale);
  return slice(dout, 1, 0, s.c) + reshape(d_stats, x.shape());
}

}  // namespace

Tensor minibatch_stddev(const Tensor& x, int64_t group_size, int64_t num_channels) {
  const char* op = "minibatch_stddev";
  detail::check_operand(x, op);
  GE_CHECK(x.dim() == 4, op, ": expected a 4-D input [N, C, H, W], got shape ",
           to_string(x.shape()));
  GE_CHECK(group_size >= 1, op, ": expected group_size >= 1, got ", group_size);
  GE_CHECK(num_channels >= 1, op, ": expected num_channels >= 1, got ", num_channels);
  const int64_t n = x.size(0), c = x.size(1);
  GE_CHECK(n >= 1, op, ": expected a non-empty batch, got input shape ", to_string(x.shape()));
  const int64_t group = std::min(group_size, n);
  GE_CHECK(n % group == 0, op, ": expected the batch size N = ", n,
           " to be divisible by the group size G = min(group_size, N) = ", group);
  GE_CHECK(c % num_channels == 0, op, ": expected the channels C = ", c,
           " to be divisible by num_channels = ", num_channels);
  const k::MinibatchStdShape s = shape_of(x, group, num_channels);
  Tensor out = forward_kernels(x, s);
  if (autograd::needs_grad({x})) {
    autograd::record(
        "MinibatchStddevBackward", {x}, {out},
        [s](BackwardContext& ctx, const Grads& g) {
          const Tensor& x_saved = ctx.saved(0);
          const bool graph = autograd::needs_grad({g[0], x_saved});
          return Grads{graph ? backward_ops(g[0], x_saved, s) : backward_kernels(g[0], x_saved, s)};
        },
        {x});
  }
  return out;
}

}  // namespace ge
