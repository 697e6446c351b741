// CUDA spectral_norm: a fused power iteration on W [h, w] in 2 launches per iteration plus one
// output launch, all sums in a fixed order (no atomics), so results are bitwise reproducible.
//
//   cols    t = W^T u. A block owns 32 columns (one warp-wide, coalesced 128-byte row segments)
//           and splits the rows 16 ways across threadIdx.y, combined in shared memory in a
//           fixed order. It also writes the block's partial sum of t^2.
//   rows    s = W v, one warp per row (float4 loads, shuffle reduce). v = t / max(||t||, eps)
//           is applied on the fly: every warp sums the cols pass's partials itself, in the same
//           order, so all agree on ||t|| without another launch; the last iteration's grid writes
//           v. It also writes each block's partial sum of s^2 (u^T s in eval).
//   next cols pass / output
//           read u = s / max(||s||, eps) the same way, from the rows pass's partials. The output
//           launch writes the final u, sigma = ||s||^2 / max(||s||, eps) (= u^T W v) and
//           out = weight / sigma (float4, grid-stride).
// The two mat-vec passes cannot share a launch: every row of W v needs all of v, which needs
// every row of W^T u, a grid-wide dependency. Deferring each normalisation into its consumer
// removes the separate norm and scale launches that would otherwise sit between them.
//
// Backward: one launch for block partials of <g, W>, one that sums them (every block, same
// order) and writes dw = g / sigma - c u v^T row by row.
#include <algorithm>
#include <cstdint>

#include "common/grid.h"
#include "common/spectral_norm.h"
#include "cuda/block_reduce.cuh"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/spectral_norm.h"

namespace ge::kernels {
namespace {

constexpr int kColX = 32, kColY = 16;  // cols pass block: 32 columns x 16 row groups
constexpr int kRowWarps = 4;           // rows pass block: 4 rows at a time, one per warp
constexpr int64_t kMaxPassBlocks = 1024;
// Output and backward grids: a few blocks per SM, so the per-block sum of the partials stays
// small next to the streamed bytes.
int64_t stream_blocks() {
  return 4 * static_cast<int64_t>(ge::cuda::sm_count());
}
constexpr int kStreamBlock = 256;
constexpr int64_t kMaxGridY = 65535;

int64_t round4(int64_t n) {
  return (n + 3) / 4 * 4;
}
int64_t cols_grid(int64_t w) {
  return std::min<int64_t>((w + kColX - 1) / kColX, kMaxPassBlocks);
}
int64_t rows_grid(int64_t h) {
  return std::min<int64_t>((h + kRowWarps - 1) / kRowWarps, kMaxPassBlocks);
}
int64_t dot_grid(int64_t n) {
  return std::clamp<int64_t>((n / 4 + kStreamBlock - 1) / kStreamBlock, 1, stream_blocks() / 2);
}

}  // namespace

int64_t spectral_norm_workspace(int64_t h, int64_t w) {
  // t [w], cols partials, s [h], rows partials; each section starts 16-byte aligned.
  return round4(w) + round4(cols_grid(w)) + round4(h) + round4(rows_grid(h));
}

int64_t spectral_norm_grad_workspace(int64_t h, int64_t w) {
  return round4(dot_grid(h * w));
}

namespace cuda {
namespace {

// The sum of n block partials, lane-strided then butterflied: the same value in every warp
// that calls it, whichever block it is in.
__device__ __forceinline__ float sum_partials(const float* part, int64_t n, int lane) {
  float acc = 0.f;
  for (int64_t i = lane; i < n; i += kWarpSize)
    acc += part[i];
  return warp_sum(acc);
}

// sum_partials for a whole block: the first warp sums, every thread gets the value. The whole
// block must call it.
__device__ __forceinline__ float block_sum_partials(const float* part, int64_t n) {
  GE_STATIC_SHARED(float, total);
  const int tid = static_cast<int>(threadIdx.y * blockDim.x + threadIdx.x);
  if (tid < kWarpSize) {
    const float p = sum_partials(part, n, tid);
    if (tid == 0) total = p;
  }
  __syncthreads();
  return total;
}

// t = scale * W^T u_in, scale = 1 / max(||s||, eps) from u_part, or 1 without partials (the
// caller's u). Intermediate u's are never stored: the output launch writes the final one.
__global__ void sn_cols_kernel(const float* mat, const float* u_in, const float* u_part,
                               int64_t n_upart, float* t, float* t_part, int64_t h, int64_t w,
                               float eps) {
  GE_STATIC_SHARED(float, partial, [kColY][kColX + 1]);
  const int lane = threadIdx.x, group = threadIdx.y;
  const float scale =
      u_part != nullptr ? sn_inv_norm(block_sum_partials(u_part, n_upart), eps) : 1.f;
  const int64_t tiles = (w + kColX - 1) / kColX;
  float ss = 0.f;  // group 0: this block's share of ||t||^2
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int64_t j = tile * kColX + lane;
    float acc = 0.f;
    if (j < w) {
      // Four independent chains keep four loads in flight per thread; their combine order is
      // fixed.
      const float* col = mat + j;
      float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f;
      int64_t i = group;
      for (; i + 3 * kColY < h; i += 4 * kColY) {
        a0 += col[i * w] * u_in[i];
        a1 += col[(i + kColY) * w] * u_in[i + kColY];
        a2 += col[(i + 2 * kColY) * w] * u_in[i + 2 * kColY];
        a3 += col[(i + 3 * kColY) * w] * u_in[i + 3 * kColY];
      }
      for (; i < h; i += kColY)
        a0 += col[i * w] * u_in[i];
      acc = (a0 + a1) + (a2 + a3);
    }
    __syncthreads();  // the previous tile's readers of `partial` are done
    partial[group][lane] = acc;
    __syncthreads();
    if (group == 0) {
      float tj = 0.f;
      for (int k = 0; k < kColY; ++k)
        tj += partial[k][lane];
      tj *= scale;
      if (j < w) {
        t[j] = tj;
        ss += tj * tj;
      }
    }
  }
  if (group == 0) {
    ss = warp_sum(ss);
    if (lane == 0) t_part[blockIdx.x] = ss;
  }
}

// s = W (scale * t), scale = 1 / max(||t||, eps) from t_part (or 1 without). v_out, if given,
// receives scale * t. s_part[block] = sum over the block's rows of s_i * q_i, with q = s when
// q is null.
template <bool Vec>
__global__ void sn_rows_kernel(const float* mat, const float* t, const float* t_part,
                               int64_t n_tpart, float* v_out, float* s, const float* q,
                               float* s_part, int64_t h, int64_t w, float eps) {
  GE_STATIC_SHARED(float, scratch, [kBlockReduceScratch<>]);
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const float scale =
      t_part != nullptr ? sn_inv_norm(sum_partials(t_part, n_tpart, lane), eps) : 1.f;
  if (v_out != nullptr) {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < w;
         j += stride)
      v_out[j] = t[j] * scale;
  }
  float acc_q = 0.f;
  // Uniform per warp: every lane reaches each shuffle.
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kRowWarps + warp; row < h;
       row += static_cast<int64_t>(gridDim.x) * kRowWarps) {
    const float* wr = mat + row * w;
    const float si = warp_sum(strided_dot<Vec>(wr, t, w, lane, kWarpSize)) * scale;
    if (lane == 0) {
      s[row] = si;
      acc_q += si * (q != nullptr ? q[row] : si);
    }
  }
  // acc_q is 0 off lane 0, so the warp sums add exact zeros: the partial is the warps' acc_q
  // in warp order.
  const float p = block_sum<WarpOrder::Serial>(acc_q, scratch);
  if (threadIdx.x == 0) s_part[blockIdx.x] = p;
}

struct OutputArgs {
  const float* weight;
  float* out;  // may be null
  const float* s;
  const float* s_part;
  int64_t n_spart;
  float* u;  // training: receives s / max(||s||, eps); eval: read
  float* u_copy;
  const float* v;
  float* v_copy;
  float* sigma;
  int64_t h, w;
  float eps;
  bool training;
};

// sigma from the rows partials, the final u (training), the u/v copies and out = weight / sigma.
template <bool Vec>
__global__ void sn_output_kernel(OutputArgs a) {
  const float p = block_sum_partials(a.s_part, a.n_spart);
  // Training: p = ||s||^2 and u = s / max(||s||, eps), so u^T s = p / max(||s||, eps).
  const float inv_s = a.training ? sn_inv_norm(p, a.eps) : 1.f;
  const float sigma = a.training ? p * inv_s : p;
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  if (tid == 0) *a.sigma = sigma;
  for (int64_t i = tid; i < a.h; i += stride) {
    const float ui = a.training ? a.s[i] * inv_s : a.u[i];
    if (a.training) a.u[i] = ui;
    if (a.u_copy != nullptr) a.u_copy[i] = ui;
  }
  if (a.v_copy != nullptr)
    for (int64_t j = tid; j < a.w; j += stride)
      a.v_copy[j] = a.v[j];
  if (a.out == nullptr) return;
  const int64_t n = a.h * a.w;
  if constexpr (Vec) {
    const float4* wv = reinterpret_cast<const float4*>(a.weight);
    float4* ov = reinterpret_cast<float4*>(a.out);
    for (int64_t i = tid; i < n / 4; i += stride) {
      const float4 x = wv[i];
      ov[i] = make_float4(x.x / sigma, x.y / sigma, x.z / sigma, x.w / sigma);
    }
    const int64_t tail = n / 4 * 4;
    if (tid < n - tail) a.out[tail + tid] = a.weight[tail + tid] / sigma;
  } else {
    for (int64_t i = tid; i < n; i += stride)
      a.out[i] = a.weight[i] / sigma;
  }
}

// part[block] = the block's share of <g, W>.
template <bool Vec>
__global__ void sn_grad_dot_kernel(const float* g, const float* mat, float* part, int64_t n) {
  GE_STATIC_SHARED(float, scratch, [kBlockReduceScratch<>]);
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  float acc = strided_dot<Vec>(g, mat, n, tid, stride);
  if constexpr (Vec) {
    const int64_t tail = n / 4 * 4;
    if (tid < n - tail) acc += g[tail + tid] * mat[tail + tid];
  }
  const float p = block_sum<WarpOrder::Serial>(acc, scratch);
  if (threadIdx.x == 0) part[blockIdx.x] = p;
}

// dw[i, j] = g / sigma - c u_i v_j: blockIdx.y walks rows, x spans a row's columns (float4s
// when Vec).
template <bool Vec>
__global__ void sn_grad_apply_kernel(SpectralNormGradArgs a, const float* part, int64_t n_part) {
  const float dot = block_sum_partials(part, n_part);
  const float inv_sigma = 1.f / *a.sigma;
  const float c = dot * inv_sigma * inv_sigma;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t col_stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.y; i < a.h; i += gridDim.y) {
    const float ui = a.u[i];
    const int64_t base = i * a.w;
    if constexpr (Vec) {
      const float4* gv = reinterpret_cast<const float4*>(a.grad + base);
      const float4* vv = reinterpret_cast<const float4*>(a.v);
      float4* ov = reinterpret_cast<float4*>(a.out + base);
      for (int64_t j = col; j < a.w / 4; j += col_stride) {
        const float4 g = gv[j], v = vv[j];
        ov[j] = make_float4(sn_grad_element(g.x, inv_sigma, c, ui, v.x),
                            sn_grad_element(g.y, inv_sigma, c, ui, v.y),
                            sn_grad_element(g.z, inv_sigma, c, ui, v.z),
                            sn_grad_element(g.w, inv_sigma, c, ui, v.w));
      }
    } else {
      for (int64_t j = col; j < a.w; j += col_stride)
        a.out[base + j] = sn_grad_element(a.grad[base + j], inv_sigma, c, ui, a.v[j]);
    }
  }
}

}  // namespace

void spectral_norm(const SpectralNormArgs& a, Stream stream) {
  check_spectral_norm_args(a, true);
  const int64_t h = a.h, w = a.w;
  const int64_t ncols = cols_grid(w), nrows = rows_grid(h);
  float* t = a.workspace;
  float* t_part = t + round4(w);
  float* s = t_part + round4(ncols);
  float* s_part = s + round4(h);
  const bool rows_vec = w % 4 == 0 && aligned16(a.mat);
  const auto rows = [&](const float* tin, const float* tpart, float* v_out, const float* q) {
    const bool vec = rows_vec && aligned16(tin);
    if (vec) {
      GE_LAUNCH(sn_rows_kernel<true>, static_cast<unsigned>(nrows), kRowWarps * kWarpSize, 0,
                stream, a.mat, tin, tpart, ncols, v_out, s, q, s_part, h, w, a.eps);
    } else {
      GE_LAUNCH(sn_rows_kernel<false>, static_cast<unsigned>(nrows), kRowWarps * kWarpSize, 0,
                stream, a.mat, tin, tpart, ncols, v_out, s, q, s_part, h, w, a.eps);
    }
  };
  if (a.n_iterations == 0) rows(a.v, nullptr, nullptr, a.u);  // s = W v, partials of u^T s
  for (int it = 0; it < a.n_iterations; ++it) {
    const bool first = it == 0;
    GE_LAUNCH(sn_cols_kernel, static_cast<unsigned>(ncols), dim3(kColX, kColY), 0, stream, a.mat,
              first ? a.u : s, first ? nullptr : s_part, nrows, t, t_part, h, w, a.eps);
    rows(t, t_part, it + 1 == a.n_iterations ? a.v : nullptr, nullptr);  // the last v only
  }
  OutputArgs o{a.weight, a.out,    s,       s_part, nrows, a.u,   a.u_copy,
               a.v,      a.v_copy, a.sigma, h,      w,     a.eps, a.n_iterations > 0};
  const int64_t n = h * w;
  const int64_t work = std::max({n / 4, h, w});
  const unsigned grid = static_cast<unsigned>(
      std::clamp<int64_t>((work + kStreamBlock - 1) / kStreamBlock, 1, stream_blocks()));
  if (a.out != nullptr && aligned16(a.out) && aligned16(a.weight)) {
    GE_LAUNCH(sn_output_kernel<true>, grid, kStreamBlock, 0, stream, o);
  } else {
    GE_LAUNCH(sn_output_kernel<false>, grid, kStreamBlock, 0, stream, o);
  }
}

void spectral_norm_grad(const SpectralNormGradArgs& a, Stream stream) {
  check_spectral_norm_grad_args(a, true);
  const int64_t n = a.h * a.w, ndot = dot_grid(n);
  if (aligned16(a.grad) && aligned16(a.mat)) {
    GE_LAUNCH(sn_grad_dot_kernel<true>, static_cast<unsigned>(ndot), kStreamBlock, 0, stream,
              a.grad, a.mat, a.workspace, n);
  } else {
    GE_LAUNCH(sn_grad_dot_kernel<false>, static_cast<unsigned>(ndot), kStreamBlock, 0, stream,
              a.grad, a.mat, a.workspace, n);
  }
  const bool vec = a.w % 4 == 0 && aligned16(a.grad) && aligned16(a.out) && aligned16(a.v);
  const int64_t row_work = vec ? a.w / 4 : a.w;
  const int64_t gx =
      std::clamp<int64_t>((row_work + kStreamBlock - 1) / kStreamBlock, 1, stream_blocks());
  const int64_t gy = std::clamp<int64_t>(2 * stream_blocks() / gx, 1, std::min(a.h, kMaxGridY));
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy));
  if (vec) {
    GE_LAUNCH(sn_grad_apply_kernel<true>, grid, kStreamBlock, 0, stream, a, a.workspace, ndot);
  } else {
    GE_LAUNCH(sn_grad_apply_kernel<false>, grid, kStreamBlock, 0, stream, a, a.workspace, ndot);
  }
}

}  // namespace cuda
}  // namespace ge::kernels
