// pixel_shuffle and pixel_unshuffle: one kernel in either mode, each mode's backward the other.
#include "ganengine/pixel_shuffle.h"

#include <vector>

#include "dispatch.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/kernels/pixel_shuffle.h"
#include "tensor_impl.h"

namespace ge {

namespace {

namespace k = kernels;
using autograd::BackwardContext;
using Grads = std::vector<Tensor>;
using Mode = k::PixelShuffleMode;

Mode inverse(Mode m) {
  return m == Mode::Shuffle ? Mode::Unshuffle : Mode::Shuffle;
}

// v is the input of `mode`, checked; leading dims beyond the last three (at most one) are the
// batch.
Tensor apply(Mode mode, const Tensor& v, int64_t r) {
  const Shape& in = v.shape();
  const size_t d = in.size();
  const int64_t batch = d == 4 ? in[0] : 1;
  k::PixelShuffleShape s;
  s.r = r;
  Shape out = in;
  if (mode == Mode::Shuffle) {
    s.planes = batch * (in[d - 3] / (r * r));
    s.h = in[d - 2];
    s.w = in[d - 1];
    out[d - 3] = in[d - 3] / (r * r);
    out[d - 2] = in[d - 2] * r;
    out[d - 1] = in[d - 1] * r;
  } else {
    s.planes = batch * in[d - 3];
    s.h = in[d - 2] / r;
    s.w = in[d - 1] / r;
    out[d - 3] = in[d - 3] * r * r;
    out[d - 2] = s.h;
    out[d - 1] = s.w;
  }
  const Tensor vc = detail::contiguous_operand(v);
  Tensor y = detail::empty_raw(out, v.device());
  if (s.numel() > 0) {
    detail::run_kernel(v.device(), k::cpu::pixel_shuffle, k::cuda::pixel_shuffle, mode,
                       vc.data_ptr(), y.data_ptr(), s);
  }
  if (autograd::needs_grad({v})) {
    autograd::record(mode == Mode::Shuffle ? "PixelShuffleBackward" : "PixelUnshuffleBackward", {v},
                     {y}, [mode, r](BackwardContext&, const Grads& g) {
                       return Grads{apply(inverse(mode), g[0], r)};
                     });
  }
  return y;
}

Tensor checked_apply(Mode mode, const Tensor& x, int64_t r) {
  const char* op = mode == Mode::Shuffle ? "pixel_shuffle" : "pixel_unshuffle";
  const char* factor = mode == Mode::Shuffle ? "upscale_factor" : "downscale_factor";
  detail::check_operand(x, op);
  GE_CHECK(x.dim() == 3 || x.dim() == 4, op,
           ": expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape ",
           to_string(x.shape()));
  GE_CHECK(r >= 1, op, ": expected ", factor, " >= 1, got ", r);
  const Shape& s = x.shape();
  const size_t d = s.size();
  if (mode == Mode::Shuffle) {
    GE_CHECK(s[d - 3] % (r * r) == 0, op, ": expected the channel count to be divisible by ",
             factor, "^2 = ", r * r, ", got ", s[d - 3], " channels (shape ", to_string(s), ")");
  } else {
    GE_CHECK(s[d - 2] % r == 0 && s[d - 1] % r == 0, op,
             ": expected height and width divisible by ", factor, " = ", r, ", got ", s[d - 2], "x",
             s[d - 1], " (shape ", to_string(s), ")");
  }
  return apply(mode, x, r);
}

}  // namespace

Tensor pixel_shuffle(const Tensor& x, int64_t upscale_factor) {
  return checked_apply(Mode::Shuffle, x, upscale_factor);
}

Tensor pixel_unshuffle(const Tensor& x, int64_t downscale_factor) {
  return checked_apply(Mode::Unshuffle, x, downscale_factor);
}

}  // namespace ge
