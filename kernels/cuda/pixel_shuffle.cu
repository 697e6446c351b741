// CUDA pixel_shuffle: one grid-stride kernel for both modes, a thread per output element, so
// consecutive threads write consecutive addresses (along W); the reads are gathers the caches
// absorb (a shuffle warp reads r deep rows, an unshuffle warp every r-th element of a row).
// The index is 32-bit with multiply-shift division by the launch's constant divisors whenever
// the tensor allows it; only tensors of 2^31 elements or more take the 64-bit path.
#include <cstdint>

#include "common/conv.h"
#include "common/grid.h"
#include "common/pixel_shuffle.h"
#include "cuda/channel_of.cuh"
#include "cuda/launch.cuh"
#include "ganengine/kernels/pixel_shuffle.h"

namespace ge::kernels::cuda {
namespace {

template <typename I>
struct Divmod;

template <>
struct Divmod<int> {
  FastDiv f;
  explicit Divmod(int64_t d) : f(static_cast<uint32_t>(d)) {}
  __device__ __forceinline__ void operator()(int n, int& q, int& r) const { f.divmod(n, q, r); }
};

template <>
struct Divmod<int64_t> {
  int64_t d;
  explicit Divmod(int64_t d) : d(d) {}
  __device__ __forceinline__ void operator()(int64_t n, int64_t& q, int64_t& r) const {
    q = n / d;
    r = n - q * d;
  }
};

// The output's geometry in index type I: by_out_w / by_out_h split a flat output index into
// (row, column) and (plane, row) of the output's own shape.
template <typename I>
struct ShuffleIndex {
  Divmod<I> by_out_w, by_out_h, by_r, by_rr;
  I h, w, large_h, large_w, r, rr, n;
};

template <PixelShuffleMode M, typename I>
__global__ void pixel_shuffle_kernel(const float* in, float* out, ShuffleIndex<I> g) {
  const I stride = grid_stride<I>();
  for (I e = first_index<I>(); e < g.n; e += stride) {
    I row, col, plane, y, src;
    g.by_out_w(e, row, col);
    g.by_out_h(row, plane, y);
    if constexpr (M == PixelShuffleMode::Shuffle) {
      I h, i, w, j;  // output (y, col) = (h * r + i, w * r + j) of plane `plane`
      g.by_r(y, h, i);
      g.by_r(col, w, j);
      src = ((plane * g.rr + i * g.r + j) * g.h + h) * g.w + w;
    } else {
      I p, k, i, j;  // output channel plane = p * rr + i * r + j, pixel (y, col)
      g.by_rr(plane, p, k);
      g.by_r(k, i, j);
      src = (p * g.large_h + y * g.r + i) * g.large_w + col * g.r + j;
    }
    out[e] = __ldg(in + src);
  }
}

template <typename I>
ShuffleIndex<I> index_for(PixelShuffleMode mode, const PixelShuffleShape& s) {
  const bool shuffle = mode == PixelShuffleMode::Shuffle;
  const int64_t out_h = shuffle ? s.large_h() : s.h, out_w = shuffle ? s.large_w() : s.w;
  return {Divmod<I>(out_w),
          Divmod<I>(out_h),
          Divmod<I>(s.r),
          Divmod<I>(s.r * s.r),
          static_cast<I>(s.h),
          static_cast<I>(s.w),
          static_cast<I>(s.large_h()),
          static_cast<I>(s.large_w()),
          static_cast<I>(s.r),
          static_cast<I>(s.r * s.r),
          static_cast<I>(s.numel())};
}

template <PixelShuffleMode M>
void launch(const float* in, float* out, const PixelShuffleShape& s, Stream stream) {
  const int64_t n = s.numel();
  // The loop index must not wrap once past n: leave a grid's stride of headroom below 2^31.
  if (n <= INT32_MAX - kMaxBlocks * kBlock) {
    GE_LAUNCH((pixel_shuffle_kernel<M, int>), grid_for(n), kBlock, 0, stream, in, out,
              index_for<int>(M, s));
  } else {
    GE_LAUNCH((pixel_shuffle_kernel<M, int64_t>), grid_for(n), kBlock, 0, stream, in, out,
              index_for<int64_t>(M, s));
  }
}

}  // namespace

void pixel_shuffle(PixelShuffleMode mode, const float* in, float* out, const PixelShuffleShape& s,
                   Stream stream) {
  pixel_shuffle_check(mode, s, in, out);
  if (s.numel() == 0) return;
  if (mode == PixelShuffleMode::Shuffle) {
    launch<PixelShuffleMode::Shuffle>(in, out, s, stream);
  } else {
    launch<PixelShuffleMode::Unshuffle>(in, out, s, stream);
  }
}

}  // namespace ge::kernels::cuda
