// CUDA prelu: one grid-stride kernel templated on the mode. When every stream the mode reads is
// 16-byte aligned and each float4 lies in one channel's row (inner % 4 == 0, or one shared
// slope), a thread moves float4s; otherwise floats. The slope index (i / inner) % channels is
// 32-bit multiply-shift division by the launch's constants unless the tensor has 2^31 elements.
#include <cstdint>

#include "common/grid.h"
#include "common/prelu.h"
#include "cuda/channel_of.cuh"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/prelu.h"

namespace ge::kernels::cuda {
namespace {

template <PreluMode M, typename I>
__device__ __forceinline__ float slope(const PreluArgs& a, const ChannelOf<I>& ch, I e) {
  if constexpr (prelu_reads_weight(M)) {
    return __ldg(a.weight + ch(e));
  } else {
    return 0.f;
  }
}

// count: elements, or float4s with Vec.
template <PreluMode M, bool Vec, typename I>
__global__ void prelu_kernel(PreluArgs a, ChannelOf<I> ch, I count) {
  const I stride = grid_stride<I>();
  for (I t = first_index<I>(); t < count; t += stride) {
    if constexpr (Vec) {
      const I e = 4 * t;
      const float w = slope<M>(a, ch, e);
      const float4 x = load4(a.x + e);
      const float4 v = M == PreluMode::Forward ? x : load4(a.g + e);
      float4 r;
      r.x = prelu_apply<M>(v.x, x.x, w);
      r.y = prelu_apply<M>(v.y, x.y, w);
      r.z = prelu_apply<M>(v.z, x.z, w);
      r.w = prelu_apply<M>(v.w, x.w, w);
      reinterpret_cast<float4*>(a.out)[t] = r;
    } else {
      const float x = __ldg(a.x + t);
      const float v = M == PreluMode::Forward ? x : __ldg(a.g + t);
      a.out[t] = prelu_apply<M>(v, x, slope<M>(a, ch, t));
    }
  }
}

bool vectorizable(PreluMode mode, const PreluArgs& a) {
  if (a.n % 4 != 0 || (a.channels > 1 && a.inner % 4 != 0)) return false;
  if (!aligned16(a.x) || !aligned16(a.out)) return false;
  return mode == PreluMode::Forward || aligned16(a.g);
}

template <PreluMode M, typename I>
void launch(const PreluArgs& a, bool vec, Stream stream) {
  const ChannelOf<I> ch(a.inner, a.channels);
  if (vec) {
    GE_LAUNCH((prelu_kernel<M, true, I>), grid_for(a.n / 4), kBlock, 0, stream, a, ch,
              static_cast<I>(a.n / 4));
  } else {
    GE_LAUNCH((prelu_kernel<M, false, I>), grid_for(a.n), kBlock, 0, stream, a, ch,
              static_cast<I>(a.n));
  }
}

}  // namespace

void prelu(PreluMode mode, const PreluArgs& a, Stream stream) {
  prelu_check(mode, a);
  if (a.n == 0) return;
  const bool vec = vectorizable(mode, a);
  const bool narrow = narrow_index(a.n);
  dispatch_prelu(mode, [&]<PreluMode M>() {
    if (narrow) {
      launch<M, int>(a, vec, stream);
    } else {
      launch<M, int64_t>(a, vec, stream);
    }
  });
}

}  // namespace ge::kernels::cuda
