// CPU pad: rows spread over the threads. The forward copies each row's interior and maps only
// the border columns; the backward gathers per input element with common/pad.h's order, so
// each element's sum is fixed whatever the thread count.
#include "common/pad.h"

#include <algorithm>

#include "cpu/parallel.h"
#include "ganengine/kernels/pad.h"

namespace ge::kernels {

const char* name(PadMode mode) {
  switch (mode) {
    case PadMode::Reflect:
      return "reflect";
    case PadMode::Replicate:
      return "replicate";
  }
  return "unknown_pad_mode";
}

namespace cpu {
namespace {

template <PadMode M>
void forward(const float* x, float* y, const PadShape& s) {
  const PadAxis ah = pad_axis_h(s), aw = pad_axis_w(s);
  parallel_for(s.planes * ah.out, s.out_numel() >= kParallelGrain, [&](int64_t row) {
    const int64_t p = row / ah.out, oh = row % ah.out;
    const float* in = x + (p * s.in_h + pad_source<M>(oh, ah)) * s.in_w;
    float* out = y + row * aw.out;
    for (int64_t ow = 0; ow < aw.lo; ++ow)
      out[ow] = in[pad_source<M>(ow, aw)];
    std::copy(in, in + s.in_w, out + aw.lo);
    for (int64_t ow = aw.lo + s.in_w; ow < aw.out; ++ow)
      out[ow] = in[pad_source<M>(ow, aw)];
  });
}

template <PadMode M>
void backward(const float* dy, float* dx, const PadShape& s) {
  const PadAxis ah = pad_axis_h(s), aw = pad_axis_w(s);
  parallel_for(s.planes * s.in_h, s.out_numel() >= kParallelGrain, [&](int64_t row) {
    const int64_t p = row / s.in_h, h = row % s.in_h;
    const float* g = dy + p * ah.out * aw.out;
    const PadReaders rh = pad_readers<M>(h, ah);
    float* out = dx + row * s.in_w;
    for (int64_t w = 0; w < s.in_w; ++w)
      out[w] = pad_gather(g, aw.out, rh, pad_readers<M>(w, aw));
  });
}

}  // namespace

void pad2d(PadMode mode, const float* x, float* y, const PadShape& s) {
  pad_check("pad2d", mode, s, x, y);
  if (s.out_numel() == 0) return;
  if (mode == PadMode::Reflect) {
    forward<PadMode::Reflect>(x, y, s);
  } else {
    forward<PadMode::Replicate>(x, y, s);
  }
}

void pad2d_backward(PadMode mode, const float* dy, float* dx, const PadShape& s) {
  pad_check("pad2d_backward", mode, s, dx, dy);
  if (s.out_numel() == 0) return;
  if (mode == PadMode::Reflect) {
    backward<PadMode::Reflect>(dy, dx, s);
  } else {
    backward<PadMode::Replicate>(dy, dx, s);
  }
}

}  // namespace cpu
}  // namespace ge::kernels
