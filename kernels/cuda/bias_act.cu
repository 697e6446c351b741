// CUDA bias_act: one grid-stride kernel templated on mode and activation. When every buffer the
// mode reads shares the output's alignment mod 16 bytes, the body moves float4s (a scalar head up
// to the first aligned element and a scalar tail); otherwise it moves floats. The loop counts in
// int and the bias channel is a 32-bit multiply-shift division (channel_of.cuh) unless the
// tensor has 2^31 elements.
#include <cstdint>

#include "common/bias_act.h"
#include "common/grid.h"
#include "cuda/channel_of.cuh"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/bias_act.h"

namespace ge::kernels::cuda {
namespace {

template <BiasActMode M, typename I>
__device__ __forceinline__ float bias_at(const BiasActArgs& a, const ChannelOf<I>& ch, I i) {
  if constexpr (M == BiasActMode::Forward) {
    return a.bias != nullptr ? __ldg(a.bias + ch(i)) : 0.f;
  } else {
    return 0.f;
  }
}

template <BiasActMode M, BiasActFn A, typename I>
__device__ __forceinline__ float element(const BiasActArgs& a, const BiasActParams& p,
                                         const ChannelOf<I>& ch, I i) {
  const float y = M == BiasActMode::Forward ? 0.f : a.y[i];
  const float dy = M == BiasActMode::SecondOrder ? a.dy[i] : 0.f;
  return bias_act_apply<M, A>(a.x[i], bias_at<M>(a, ch, i), y, dy, p);
}

// Vec: elements [head, head + 4 * nvec) as float4s, the rest (at most 3 + 3) by the first
// threads of the grid.
template <BiasActMode M, BiasActFn A, bool Vec, typename I>
__global__ void bias_act_kernel(BiasActArgs a, BiasActParams p, ChannelOf<I> ch, I head) {
  const I n = static_cast<I>(a.n);
  const I tid = first_index<I>();
  const I stride = grid_stride<I>();
  if constexpr (Vec) {
    const I nvec = (n - head) / 4;
    const float4 zero = make_float4(0.f, 0.f, 0.f, 0.f);
    for (I i = tid; i < nvec; i += stride) {
      const I e = head + 4 * i;  // first element of this float4
      const float4 v = load4(a.x + e);
      const float4 y = M == BiasActMode::Forward ? zero : load4(a.y + e);
      const float4 dy = M == BiasActMode::SecondOrder ? load4(a.dy + e) : zero;
      float4 r;
      r.x = bias_act_apply<M, A>(v.x, bias_at<M>(a, ch, e), y.x, dy.x, p);
      r.y = bias_act_apply<M, A>(v.y, bias_at<M>(a, ch, e + 1), y.y, dy.y, p);
      r.z = bias_act_apply<M, A>(v.z, bias_at<M>(a, ch, e + 2), y.z, dy.z, p);
      r.w = bias_act_apply<M, A>(v.w, bias_at<M>(a, ch, e + 3), y.w, dy.w, p);
      reinterpret_cast<float4*>(a.out + head)[i] = r;
    }
    const I tail = head + 4 * nvec;
    if (tid < head) a.out[tid] = element<M, A>(a, p, ch, tid);
    if (tid < n - tail) a.out[tail + tid] = element<M, A>(a, p, ch, tail + tid);
  } else {
    for (I i = tid; i < n; i += stride)
      a.out[i] = element<M, A>(a, p, ch, i);
  }
}

template <BiasActMode M, BiasActFn A, typename I>
void launch(const BiasActArgs& a, const BiasActParams& p, bool vec, int64_t head, Stream stream) {
  const ChannelOf<I> ch(a.inner, a.channels);
  if (vec) {
    GE_LAUNCH((bias_act_kernel<M, A, true, I>), grid_for((a.n - head) / 4), kBlock, 0, stream, a, p,
              ch, static_cast<I>(head));
  } else {
    GE_LAUNCH((bias_act_kernel<M, A, false, I>), grid_for(a.n), kBlock, 0, stream, a, p, ch,
              static_cast<I>(head));
  }
}

// True when every buffer `mode` reads as a per-element stream has `head` leading elements
// before its first 16-byte boundary, like the output.
bool vectorizable(BiasActMode mode, const BiasActArgs& a, int64_t head) {
  if (a.n < head + 4 || misalignment(a.x) != head) return false;
  if (mode != BiasActMode::Forward && misalignment(a.y) != head) return false;
  if (mode == BiasActMode::SecondOrder && misalignment(a.dy) != head) return false;
  return true;
}

}  // namespace

void bias_act(BiasActMode mode, const BiasActParams& p, const BiasActArgs& a, Stream stream) {
  bias_act_check(mode, p, a);
  if (a.n == 0) return;
  const int64_t head = misalignment(a.out);
  const bool vec = vectorizable(mode, a, head);
  const bool narrow = narrow_index(a.n);
  dispatch_bias_act(mode, p.act, [&]<BiasActMode M, BiasActFn A>() {
    if (narrow) {
      launch<M, A, int>(a, p, vec, head, stream);
    } else {
      launch<M, A, int64_t>(a, p, vec, head, stream);
    }
  });
}

}  // namespace ge::kernels::cuda
