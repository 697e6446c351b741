// CUDA pixel_norm, deterministic (fixed combine order, no atomics), one fused kernel per
// direction and layout:
//   inner == 1 (rows contiguous, e.g. latents [N, 512]): a warp per row (a whole block per row
//   once rows are long), float4 loads when rows are 16-byte aligned; the sums are combined with
//   xor shuffles so every lane holds them, and the second pass re-reads the row from L1/L2.
//   inner > 1 (dim 1 of NCHW): a block of 32 x 8 threads covers 32 neighbouring positions (128
//   with float4 when inner % 4 == 0), threadIdx.x along the position (coalesced) and threadIdx.y
//   splitting the channel loop 8 ways; the 8 partial sums meet in shared memory.
#include <algorithm>
#include <cstdint>

#include "common/grid.h"
#include "common/pixel_norm.h"
#include "cuda/block_reduce.cuh"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/pixel_norm.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kRowsBlock = 256;     // 8 warps, a row each
constexpr int kLongRowBlock = 512;  // one long row per block
constexpr int64_t kWarpRowMax = 2048;
constexpr int kColsX = 32, kColsY = 8;
constexpr int64_t kMaxGridY = 65535;

// Sums a and b over the threads of one row: a warp, or (Block) the whole block. Every thread
// of the group gets the totals.
template <bool Block>
__device__ __forceinline__ float2 row_sum2(float a, float b, float* scratch) {
  float sums[2] = {a, b};
  if constexpr (Block) {
    block_reduce<WarpOrder::Serial, SumCombine>(sums, scratch);
  } else {
    sums[0] = warp_sum(sums[0]);
    sums[1] = warp_sum(sums[1]);
  }
  return make_float2(sums[0], sums[1]);
}

template <bool Backward, bool Vec, bool Block>
__global__ void pixel_norm_rows_kernel(const float* x, const float* dy, float* out,
                                       PixelNormShape s, float eps) {
  GE_DYNAMIC_SHARED(float, scratch);
  const int group = Block ? static_cast<int>(blockDim.x) : kWarpSize;
  const int t = static_cast<int>(threadIdx.x) % group;
  const int64_t per_block = blockDim.x / group;
  const int64_t len = Vec ? s.r / 4 : s.r;
  // The row index is uniform across each group, so every thread reaches each barrier/shuffle.
  for (int64_t row = blockIdx.x * per_block + threadIdx.x / group; row < s.outer;
       row += static_cast<int64_t>(gridDim.x) * per_block) {
    const float* xr = x + row * s.r;
    const float* dyr = Backward ? dy + row * s.r : nullptr;
    float* outr = out + row * s.r;
    float sq = 0.f, dyx = 0.f;
    for (int64_t j = t; j < len; j += group) {
      if constexpr (Vec) {
        const float4 v = reinterpret_cast<const float4*>(xr)[j];
        sq += (v.x * v.x + v.y * v.y) + (v.z * v.z + v.w * v.w);
        if constexpr (Backward) {
          const float4 g = reinterpret_cast<const float4*>(dyr)[j];
          dyx += (g.x * v.x + g.y * v.y) + (g.z * v.z + g.w * v.w);
        }
      } else {
        sq += xr[j] * xr[j];
        if constexpr (Backward) dyx += dyr[j] * xr[j];
      }
    }
    const float2 sums = row_sum2<Block>(sq, dyx, scratch);
    const float rs = pixel_norm_rs(sums.x, s.r, eps);
    const float mean_dyx = sums.y / static_cast<float>(s.r);
    for (int64_t j = t; j < len; j += group) {
      if constexpr (Vec) {
        const float4 v = reinterpret_cast<const float4*>(xr)[j];
        float4 g = make_float4(0.f, 0.f, 0.f, 0.f);
        if constexpr (Backward) g = reinterpret_cast<const float4*>(dyr)[j];
        float4 o;
        o.x = pixel_norm_apply<Backward>(v.x, g.x, rs, mean_dyx);
        o.y = pixel_norm_apply<Backward>(v.y, g.y, rs, mean_dyx);
        o.z = pixel_norm_apply<Backward>(v.z, g.z, rs, mean_dyx);
        o.w = pixel_norm_apply<Backward>(v.w, g.w, rs, mean_dyx);
        reinterpret_cast<float4*>(outr)[j] = o;
      } else {
        outr[j] = pixel_norm_apply<Backward>(xr[j], Backward ? dyr[j] : 0.f, rs, mean_dyx);
      }
    }
  }
}

// One float or one float4 of neighbouring positions.
template <int W>
struct Lanes {
  float v[W];
};

template <int W>
__device__ __forceinline__ Lanes<W> load_lanes(const float* p) {
  Lanes<W> l;
  if constexpr (W == 4) {
    const float4 q = load4(p);
    l.v[0] = q.x;
    l.v[1] = q.y;
    l.v[2] = q.z;
    l.v[3] = q.w;
  } else {
    l.v[0] = *p;
  }
  return l;
}

template <int W>
__device__ __forceinline__ void store_lanes(float* p, const Lanes<W>& l) {
  if constexpr (W == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(l.v[0], l.v[1], l.v[2], l.v[3]);
  } else {
    *p = l.v[0];
  }
}

// Shared memory: two sums x kColsY slices x (kColsX * W) positions.
template <bool Backward, int W>
__global__ void pixel_norm_cols_kernel(const float* x, const float* dy, float* out,
                                       PixelNormShape s, float eps) {
  GE_DYNAMIC_SHARED(float, partial);
  constexpr int kSpan = kColsX * W;
  float* partial_dyx = partial + kColsY * kSpan;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kSpan + threadIdx.x * W;
  const bool live = i < s.inner;  // inner % W == 0, so a live thread owns all W positions
  for (int64_t o = blockIdx.y; o < s.outer; o += gridDim.y) {
    const int64_t base = o * s.r * s.inner + i;
    float sq[W] = {}, dyx[W] = {};
    if (live) {
      for (int64_t j = threadIdx.y; j < s.r; j += kColsY) {
        const Lanes<W> v = load_lanes<W>(x + base + j * s.inner);
        Lanes<W> g{};
        if constexpr (Backward) g = load_lanes<W>(dy + base + j * s.inner);
        for (int k = 0; k < W; ++k) {
          sq[k] += v.v[k] * v.v[k];
          if constexpr (Backward) dyx[k] += g.v[k] * v.v[k];
        }
      }
    }
    __syncthreads();  // the previous outer's readers of `partial` are done
    for (int k = 0; k < W; ++k) {
      partial[threadIdx.y * kSpan + threadIdx.x * W + k] = sq[k];
      partial_dyx[threadIdx.y * kSpan + threadIdx.x * W + k] = dyx[k];
    }
    __syncthreads();
    if (!live) continue;
    float rs[W], mean_dyx[W];
    for (int k = 0; k < W; ++k) {
      float a = 0.f, b = 0.f;
      for (int y = 0; y < kColsY; ++y) {
        a += partial[y * kSpan + threadIdx.x * W + k];
        b += partial_dyx[y * kSpan + threadIdx.x * W + k];
      }
      rs[k] = pixel_norm_rs(a, s.r, eps);
      mean_dyx[k] = b / static_cast<float>(s.r);
    }
    for (int64_t j = threadIdx.y; j < s.r; j += kColsY) {
      const Lanes<W> v = load_lanes<W>(x + base + j * s.inner);
      Lanes<W> g{};
      if constexpr (Backward) g = load_lanes<W>(dy + base + j * s.inner);
      Lanes<W> r;
      for (int k = 0; k < W; ++k)
        r.v[k] = pixel_norm_apply<Backward>(v.v[k], g.v[k], rs[k], mean_dyx[k]);
      store_lanes<W>(out + base + j * s.inner, r);
    }
  }
}

template <bool Backward>
void launch(const float* x, const float* dy, float* out, const PixelNormShape& s, float eps,
            Stream stream) {
  const bool aligned = aligned16(x) && aligned16(dy) && aligned16(out);
  if (s.inner == 1) {
    const bool vec = aligned && s.r % 4 == 0;
    const size_t smem = kBlockReduceScratch<2> * sizeof(float);
    if (s.r > kWarpRowMax) {
      const unsigned grid = grid_for(s.outer, 1);
      if (vec) {
        GE_LAUNCH((pixel_norm_rows_kernel<Backward, true, true>), grid, kLongRowBlock, smem, stream,
                  x, dy, out, s, eps);
      } else {
        GE_LAUNCH((pixel_norm_rows_kernel<Backward, false, true>), grid, kLongRowBlock, smem,
                  stream, x, dy, out, s, eps);
      }
    } else {
      const unsigned grid = grid_for(s.outer * kWarpSize, kRowsBlock);
      if (vec) {
        GE_LAUNCH((pixel_norm_rows_kernel<Backward, true, false>), grid, kRowsBlock, 0, stream, x,
                  dy, out, s, eps);
      } else {
        GE_LAUNCH((pixel_norm_rows_kernel<Backward, false, false>), grid, kRowsBlock, 0, stream, x,
                  dy, out, s, eps);
      }
    }
    return;
  }
  const bool vec = aligned && s.inner % 4 == 0;
  const int w = vec ? 4 : 1;
  const int64_t tiles = (s.inner + kColsX * w - 1) / (kColsX * w);
  GE_CHECK(tiles <= 0x7fffffff, "pixel_norm: expected inner <= ", int64_t{0x7fffffff} * kColsX,
           ", got ", s.inner);
  const dim3 grid(static_cast<unsigned>(tiles),
                  static_cast<unsigned>(std::min<int64_t>(s.outer, kMaxGridY)));
  const dim3 block(kColsX, kColsY);
  const size_t smem = 2 * kColsY * kColsX * w * sizeof(float);
  if (vec) {
    GE_LAUNCH((pixel_norm_cols_kernel<Backward, 4>), grid, block, smem, stream, x, dy, out, s, eps);
  } else {
    GE_LAUNCH((pixel_norm_cols_kernel<Backward, 1>), grid, block, smem, stream, x, dy, out, s, eps);
  }
}

}  // namespace

void pixel_norm_forward(const float* x, float* y, const PixelNormShape& s, float eps,
                        Stream stream) {
  pixel_norm_check("pixel_norm_forward", s, eps, x, nullptr, y, false);
  if (s.numel() == 0) return;
  launch<false>(x, nullptr, y, s, eps, stream);
}

void pixel_norm_backward(const float* dy, const float* x, float* dx, const PixelNormShape& s,
                         float eps, Stream stream) {
  pixel_norm_check("pixel_norm_backward", s, eps, x, dy, dx, true);
  if (s.numel() == 0) return;
  launch<true>(x, dy, dx, s, eps, stream);
}

}  // namespace ge::kernels::cuda
