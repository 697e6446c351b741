// CUDA gradient penalty.
//   interpolate  one grid-stride elementwise launch; float4s when d % 4 == 0 and the buffers are
//                16-byte aligned (a float4 then never straddles two samples, so one alpha and one
//                division per float4).
//   forward      per-sample sums of squares: a block per sample (float4 loads, warp shuffles,
//                then the warps' sums in shared memory in a fixed order), or a warp per sample
//                when samples are short; then one block sums (norm - 1)^2 over the samples in a
//                fixed order. No atomics: the result is bitwise reproducible.
//   backward     one elementwise launch given the norms: dx = gout * lambda * 2/n * c(norm) * x.
// The elementwise launches count in int, finding an element's sample by 32-bit multiply-shift
// division (DivBy), unless the buffers have 2^31 elements.
#include <algorithm>
#include <cstdint>

#include "common/gradient_penalty.h"
#include "common/grid.h"
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

// norms[k] for long samples: a block per sample, stepping by the grid.
template <bool Vec>
__global__ void gp_norms_block_kernel(const float* x, float* norms, int64_t n, int64_t d) {
  GE_STATIC_SHARED(float, scratch, [kBlockReduceScratch<>]);
  for (int64_t k = blockIdx.x; k < n; k += gridDim.x) {
    const float* xk = x + k * d;
    const float ss =
        block_sum<WarpOrder::Serial>(strided_dot<Vec>(xk, xk, d, threadIdx.x, kNormBlock), scratch);
    if (threadIdx.x == 0) norms[k] = sqrtf(ss);
  }
}

// out = lambda / n * sum_k (norms[k] - 1)^2, one block.
__global__ void gp_penalty_kernel(const float* norms, float* out, int64_t n, float lambda) {
  GE_STATIC_SHARED(float, scratch, [kBlockReduceScratch<>]);
  float acc = 0.f;
  for (int64_t k = threadIdx.x; k < n; k += kFinalBlock) {
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

void gradient_penalty_forward(const float* x, float* norms, float* out, int64_t n, int64_t d,
                              float lambda, Stream stream) {
  check_gp_args("gradient_penalty_forward", x, norms, n, d);
  GE_CHECK(out != nullptr, "gradient_penalty_forward: expected a non-null out");
  const bool vec = d % 4 == 0 && aligned16(x);
  if (d <= kWarpSampleMax) {
    const unsigned grid = grid_for(n, kWarpsPerBlock);
    if (vec) {
      GE_LAUNCH(gp_norms_warp_kernel<true>, grid, kNormBlock, 0, stream, x, norms, n, d);
    } else {
      GE_LAUNCH(gp_norms_warp_kernel<false>, grid, kNormBlock, 0, stream, x, norms, n, d);
    }
  } else {
    const unsigned grid = grid_for(n, 1);
    if (vec) {
      GE_LAUNCH(gp_norms_block_kernel<true>, grid, kNormBlock, 0, stream, x, norms, n, d);
    } else {
      GE_LAUNCH(gp_norms_block_kernel<false>, grid, kNormBlock, 0, stream, x, norms, n, d);
    }
  }
  GE_LAUNCH(gp_penalty_kernel, 1, kFinalBlock, 0, stream, norms, out, n, lambda);
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
