// CUDA gradient penalty.
//   interpolate  one grid-stride elementwise launch; float4s when d % 4 == 0 and the buffers are
//                16-byte aligned (a float4 then never straddles two samples, so one alpha and one
//                division per float4).
//   forward      per-sample sums of squares: a warp per sample when samples are short; else a
//                block per (sample, slice) (float4 loads, warp shuffles, then the warps' sums in
//                shared memory in a fixed order), a sample cut into enough slices that the grid
//                fills the SMs when samples are few (gradient_penalty_splits); then one block
//                adds each sample's slices in slice order, takes the norms, and sums
//                (norm - 1)^2 over the samples in a fixed order. No atomics: the result is
//                bitwise reproducible on a device.
//   backward     one elementwise launch given the norms: dx = gout * lambda * 2/n * c(norm) * x.
// The elementwise launches count in int, finding an element's sample by 32-bit multiply-shift
// division (DivBy), unless the buffers have 2^31 elements.
#include <algorithm>
#include <cstdint>

#include "common/gradient_penalty.h"
#include "common/grid.h"
#include "common/workspace.h"
#include "cuda/block_reduce.cuh"
#include "cuda/channel_of.cuh"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/gradient_penalty.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kNormBlock = 256;
constexpr int kWarpsPerBlock = kNormBlock / kWarpSize;
// Samples this short are one warp's work (at most two float4s per lane).
constexpr int64_t kWarpSampleMax = 256;
constexpr int kFinalBlock = 256;

// count = n * d elements, or n * d / 4 float4s with Vec; sample(i) is i's sample either way.
template <bool Vec, typename I>
__global__ void gp_interpolate_kernel(const float* real, const float* fake, const float* alpha,
                                      float* out, I count, DivBy<I> sample) {
  const I stride = grid_stride<I>();
  if constexpr (Vec) {
    const float4* rv = reinterpret_cast<const float4*>(real);
    const float4* fv = reinterpret_cast<const float4*>(fake);
    float4* ov = reinterpret_cast<float4*>(out);
    for (I i = first_index<I>(); i < count; i += stride) {
      const float a = alpha[sample(i)];
      const float4 r = rv[i], f = fv[i];
      ov[i] = make_float4(gp_lerp(r.x, f.x, a), gp_lerp(r.y, f.y, a), gp_lerp(r.z, f.z, a),
                          gp_lerp(r.w, f.w, a));
    }
  } else {
    for (I i = first_index<I>(); i < count; i += stride)
      out[i] = gp_lerp(real[i], fake[i], alpha[sample(i)]);
  }
}

// norms[k] for short samples: warp w of block b takes samples b * warps + w, stepping by the grid.
template <bool Vec>
__global__ void gp_norms_warp_kernel(const float* x, float* norms, int64_t n, int64_t d) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  // Uniform per warp: every lane reaches each shuffle.
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
       k < n; k += warps) {
    const float ss = warp_sum(strided_dot<Vec>(x + k * d, x + k * d, d, lane, kWarpSize));
    if (lane == 0) norms[k] = sqrtf(ss);
  }
}

// Long samples: block b sums the squares of slice b % splits of sample b / splits (slices of
// per_split elements, a multiple of 4; the last may be shorter), stepping by the grid. With one
// slice it writes the norm, else the sum to partials[b].
template <bool Vec>
__global__ void gp_norms_block_kernel(const float* x, float* norms, float* partials, int64_t n,
                                      int64_t d, int64_t splits, int64_t per_split) {
  GE_STATIC_SHARED(float, scratch, [kBlockReduceScratch<>]);
  for (int64_t b = blockIdx.x; b < n * splits; b += gridDim.x) {
    const int64_t k = b / splits, begin = (b - k * splits) * per_split;  // per block
    const float* xs = x + k * d + begin;
    const int64_t len = std::min(per_split, d - begin);
    const float ss = block_sum<WarpOrder::Serial>(
        strided_dot<Vec>(xs, xs, len, threadIdx.x, kNormBlock), scratch);
    if (threadIdx.x == 0) {
      if (splits == 1) {
        norms[k] = sqrtf(ss);
      } else {
        partials[b] = ss;
      }
    }
  }
}

// out = lambda / n * sum_k (norms[k] - 1)^2, one block; with partials (splits > 1) it first
// sets norms[k] = sqrt(sum of sample k's slices, in slice order).
__global__ void gp_penalty_kernel(float* norms, const float* partials, int64_t splits, float* out,
                                  int64_t n, float lambda) {
  GE_STATIC_SHARED(float, scratch, [kBlockReduceScratch<>]);
  float acc = 0.f;
  for (int64_t k = threadIdx.x; k < n; k += kFinalBlock) {
    if (partials != nullptr) {
      float ss = 0.f;
      for (int64_t t = 0; t < splits; ++t)
        ss += partials[k * splits + t];
      norms[k] = sqrtf(ss);
    }
    const float e = norms[k] - 1.f;
    acc += e * e;
  }
  const float total = block_sum<WarpOrder::Serial>(acc, scratch);
  if (threadIdx.x == 0) *out = lambda * total / static_cast<float>(n);
}

template <bool Vec, typename I>
__global__ void gp_backward_kernel(const float* x, const float* norms, const float* gout, float* dx,
                                   int64_t n, I count, DivBy<I> sample, float lambda) {
  const float scale = gp_backward_scale(lambda, n) * *gout;
  const I stride = grid_stride<I>();
  if constexpr (Vec) {
    const float4* xv = reinterpret_cast<const float4*>(x);
    float4* ov = reinterpret_cast<float4*>(dx);
    for (I i = first_index<I>(); i < count; i += stride) {
      const float c = scale * gp_coefficient(norms[sample(i)]);
      const float4 v = xv[i];
      ov[i] = make_float4(c * v.x, c * v.y, c * v.z, c * v.w);
    }
  } else {
    for (I i = first_index<I>(); i < count; i += stride)
      dx[i] = scale * gp_coefficient(norms[sample(i)]) * x[i];
  }
}

// Runs f.template operator()<Vec, I>(count, sample) for n samples of d elements: I = int when
// the flat index fits.
template <typename F>
void with_samples(int64_t n, int64_t d, bool vec, F&& f) {
  const int64_t w = vec ? 4 : 1;
  const auto go = [&]<typename I>() {
    const I count = static_cast<I>(n * d / w);
    if (vec) {
      f.template operator()<true, I>(count, DivBy<I>(d / w));
    } else {
      f.template operator()<false, I>(count, DivBy<I>(d / w));
    }
  };
  if (narrow_index(n * d)) {
    go.template operator()<int>();
  } else {
    go.template operator()<int64_t>();
  }
}

// Workspace floats for the per-slice partial sums (none with one slice per sample).
int64_t partial_floats(int64_t n, int64_t splits) {
  return splits > 1 ? n * splits : 0;
}

}  // namespace

void gradient_penalty_interpolate(const float* real, const float* fake, const float* alpha,
                                  float* out, int64_t n, int64_t d, Stream stream) {
  check_gp_interpolate_args(real, fake, alpha, out, n, d);
  if (n == 0 || d == 0) return;
  const bool vec = d % 4 == 0 && aligned16(real) && aligned16(fake) && aligned16(out);
  with_samples(n, d, vec, [&]<bool Vec, typename I>(I count, DivBy<I> sample) {
    GE_LAUNCH((gp_interpolate_kernel<Vec, I>), grid_for(count), kBlock, 0, stream, real, fake,
              alpha, out, count, sample);
  });
}

int64_t gradient_penalty_splits(int64_t n, int64_t d) {
  if (n <= 0 || d <= kWarpSampleMax) return 1;
  // Slices of at least 16 elements per thread; two blocks per SM; at most 32 slices a sample.
  const int64_t want = (2 * ge::cuda::sm_count() + n - 1) / n;
  return std::clamp<int64_t>(std::min(want, d / (16 * kNormBlock)), 1, 32);
}

int64_t gradient_penalty_workspace(int64_t n, int64_t d) {
  return partial_floats(n, gradient_penalty_splits(n, d));
}

void gradient_penalty_forward(const float* x, float* norms, float* out, int64_t n, int64_t d,
                              float lambda, float* workspace, int64_t workspace_size,
                              Stream stream) {
  check_gp_args("gradient_penalty_forward", x, norms, n, d);
  GE_CHECK(out != nullptr, "gradient_penalty_forward: expected a non-null out");
  const int64_t splits = gradient_penalty_splits(n, d);
  check_workspace("gradient_penalty_forward", partial_floats(n, splits), workspace, workspace_size,
                  " for [", n, ", ", d, "]");
  const bool vec = d % 4 == 0 && aligned16(x);
  if (d <= kWarpSampleMax) {
    const unsigned grid = grid_for(n, kWarpsPerBlock);
    if (vec) {
      GE_LAUNCH(gp_norms_warp_kernel<true>, grid, kNormBlock, 0, stream, x, norms, n, d);
    } else {
      GE_LAUNCH(gp_norms_warp_kernel<false>, grid, kNormBlock, 0, stream, x, norms, n, d);
    }
  } else {
    // A multiple of 4 elements, so that every slice of a float4 sample starts 16-byte aligned.
    const int64_t per_split = (d + 4 * splits - 1) / (4 * splits) * 4;
    const unsigned grid = grid_for(n * splits, 1);
    if (vec) {
      GE_LAUNCH(gp_norms_block_kernel<true>, grid, kNormBlock, 0, stream, x, norms, workspace, n, d,
                splits, per_split);
    } else {
      GE_LAUNCH(gp_norms_block_kernel<false>, grid, kNormBlock, 0, stream, x, norms, workspace, n,
                d, splits, per_split);
    }
  }
  GE_LAUNCH(gp_penalty_kernel, 1, kFinalBlock, 0, stream, norms, splits > 1 ? workspace : nullptr,
            splits, out, n, lambda);
}

void gradient_penalty_backward(const float* x, const float* norms, const float* gout, float* dx,
                               int64_t n, int64_t d, float lambda, Stream stream) {
  check_gp_args("gradient_penalty_backward", x, norms, n, d);
  GE_CHECK(gout != nullptr && (dx != nullptr || d == 0),
           "gradient_penalty_backward: expected non-null gout and dx");
  if (d == 0) return;
  const bool vec = d % 4 == 0 && aligned16(x) && aligned16(dx);
  with_samples(n, d, vec, [&]<bool Vec, typename I>(I count, DivBy<I> sample) {
    GE_LAUNCH((gp_backward_kernel<Vec, I>), grid_for(count), kBlock, 0, stream, x, norms, gout, dx,
              n, count, sample, lambda);
  });
}

}  // namespace ge::kernels::cuda
