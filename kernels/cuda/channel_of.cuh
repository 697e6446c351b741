#pragma once
// The channel c = (e / inner) % channels of flat element e of a [.., channels, inner] tensor, as
// the per-channel elementwise kernels (bias_act's bias, prelu's slope) look it up for every
// element: 32-bit multiply-shift division by the launch's constants (ChannelOf<int>) unless the
// tensor has 2^31 elements (ChannelOf<int64_t>, 64-bit division). A kernel templated on the
// index type I runs its grid-stride loop in I as well.
#include <cstdint>

#include "common/fast_div.h"
#include "common/grid.h"
#include "cuda/launch.cuh"

namespace ge::kernels::cuda {

template <typename I>
struct ChannelOf;

template <>
struct ChannelOf<int> {
  FastDiv by_inner, by_channels;
  ChannelOf(int64_t inner, int64_t channels)
      : by_inner(static_cast<uint32_t>(inner)), by_channels(static_cast<uint32_t>(channels)) {}
  __device__ __forceinline__ int operator()(int e) const {
    int row, c, unused;
    by_inner.divmod(e, row, unused);
    by_channels.divmod(row, unused, c);
    return c;
  }
};

template <>
struct ChannelOf<int64_t> {
  int64_t inner, channels;
  ChannelOf(int64_t inner, int64_t channels) : inner(inner), channels(channels) {}
  __device__ __forceinline__ int64_t operator()(int64_t e) const { return e / inner % channels; }
};

// e / d for the flat index of a [rows, d] buffer (the sample of an element): 32-bit
// multiply-shift division in DivBy<int>, 64-bit division in DivBy<int64_t>.
template <typename I>
struct DivBy;

template <>
struct DivBy<int> {
  FastDiv by;
  explicit DivBy(int64_t d) : by(static_cast<uint32_t>(d)) {}
  __device__ __forceinline__ int operator()(int e) const {
    return static_cast<int>(by.div(static_cast<uint32_t>(e)));
  }
  // Returns e / d and sets rem = e % d.
  __device__ __forceinline__ int divmod(int e, int& rem) const {
    const int q = (*this)(e);
    rem = e - q * static_cast<int>(by.divisor);
    return q;
  }
};

template <>
struct DivBy<int64_t> {
  int64_t d;
  explicit DivBy(int64_t d) : d(d) {}
  __device__ __forceinline__ int64_t operator()(int64_t e) const { return e / d; }
  __device__ __forceinline__ int64_t divmod(int64_t e, int64_t& rem) const {
    const int64_t q = e / d;
    rem = e - q * d;
    return q;
  }
};

// A grid-stride loop's first index for this thread and its stride, counted in I.
template <typename I>
__device__ __forceinline__ I first_index() {
  return static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
}
template <typename I>
__device__ __forceinline__ I grid_stride() {
  return static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
}

// Whether a grid-stride loop over n elements can count in int: the index must not wrap once past
// n, so a grid's stride of headroom stays below 2^31. GE_CUDA_WIDE_INDEX=1 (read once) answers
// false for every n, so that the tests also run the 64-bit instantiations, which real tensors
// reach only at 2^31 elements.
bool narrow_index(int64_t n);

}  // namespace ge::kernels::cuda
