// CUDA pairwise_l1, deterministic (fixed summation order, no atomics). A block is 32 x 8
// threads: threadIdx.x runs over 32 consecutive b, so loads and stores along b are coalesced,
// and threadIdx.y over 8 rows i. C is taken in chunks of up to 8 values, staged in shared memory
// as [row][b * pitch + c] with an odd pitch, so that the 32 lanes of a warp read 32 distinct
// banks. A row's chunk is copied by consecutive lanes from consecutive addresses: one contiguous
// run of 32 * C floats when C <= 8, else runs of the chunk's width. Sums run over c ascending
// (chunk after chunk) and over j ascending.
//   distances and tangent: a block owns an 8 x 8 tile of pairs (i, j) for its 32 b. Each chunk
//   stages the tile's i rows and j rows of m (and of h for the tangent); thread (b, i) keeps its
//   8 sums over c for (i, j0 .. j0 + 7, b) in registers and stores them once, after the last
//   chunk.
//   adjoint: a block owns 8 rows i for its 32 b and walks the j rows in tiles of 8, ascending.
//   Per tile it stages m's j rows; thread (b, i) reads its weights g[i, j, b] + g[j, i, b] (both
//   along b) into registers and keeps the chunk's sums out[i, b, c] there too. They leave through
//   shared memory, so that the stores are coalesced as well.
#include <cstdint>

#include "common/pairwise_l1.h"
#include "cuda/launch.cuh"
#include "ganengine/kernels/pairwise_l1.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kLanes = 32;          // b per block: threadIdx.x
constexpr int kTile = 8;            // rows i per block (threadIdx.y) and rows j per tile
constexpr int kChunk = 8;           // c per shared-memory pass
constexpr int kPitch = kChunk + 1;  // a full chunk's pitch; shorter chunks use kc | 1
constexpr int kRowFloats = kLanes * kPitch;
constexpr int64_t kMaxGridYZ = 65535;

struct Chunk {
  int64_t b0;  // first b of the block
  int64_t c0;  // first c of the chunk
  int nb;      // b in the block, <= kLanes
  int kc;      // c in the chunk, <= kChunk
  int pitch;   // kc | 1
};

// Warp threadIdx.y copies m[first + threadIdx.y, b0 .. b0 + nb, c0 .. c0 + kc] (when that row
// exists) into tile[threadIdx.y][b * pitch + c].
__device__ __forceinline__ void stage_row(const float* m, float (*tile)[kRowFloats], int64_t first,
                                          const Chunk& k, const PairwiseL1Shape& s) {
  const int64_t n = first + threadIdx.y;
  if (n >= s.n) return;
  const float* src = m + pairwise_l1_row(s, n) + k.b0 * s.c + k.c0;
  float* dst = tile[threadIdx.y];
  const int count = k.nb * k.kc;
  for (int e = threadIdx.x; e < count; e += kLanes) {
    const int b = e / k.kc, c = e - b * k.kc;
    dst[b * k.pitch + c] = src[b * s.c + c];
  }
}

__device__ __forceinline__ int at_most(int64_t v, int cap) {
  return v < cap ? static_cast<int>(v) : cap;
}

// d (Tangent = false) or the tangent (Tangent = true) for the block's pairs: grid x over the
// chunks of 32 b, y over the tiles of j, z over the tiles of i.
template <bool Tangent>
__global__ void pairwise_l1_pairs_kernel(const float* m, const float* h, float* out,
                                         PairwiseL1Shape s) {
  // [0] m, [1] h (tangent only); rows 0 .. 7 are the i rows, 8 .. 15 the j rows.
  GE_STATIC_SHARED(float, tile, [Tangent ? 2 : 1][2 * kTile][kRowFloats]);
  const int lane = threadIdx.x, ty = threadIdx.y;
  Chunk k;
  k.b0 = static_cast<int64_t>(blockIdx.x) * kLanes;
  k.nb = at_most(s.b - k.b0, kLanes);
  const int64_t j0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const int64_t i0 = static_cast<int64_t>(blockIdx.z) * kTile;
  const int nj = at_most(s.n - j0, kTile);
  const bool active = i0 + ty < s.n && lane < k.nb;
  float acc[kTile];
  for (int jj = 0; jj < kTile; ++jj)
    acc[jj] = 0.f;
  for (k.c0 = 0; k.c0 < s.c; k.c0 += kChunk) {
    k.kc = at_most(s.c - k.c0, kChunk);
    k.pitch = k.kc | 1;
    __syncthreads();  // the previous chunk's readers are done
    stage_row(m, tile[0], i0, k, s);
    stage_row(m, tile[0] + kTile, j0, k, s);
    if constexpr (Tangent) {
      stage_row(h, tile[1], i0, k, s);
      stage_row(h, tile[1] + kTile, j0, k, s);
    }
    __syncthreads();
    if (!active) continue;
    const int at = lane * k.pitch;
    for (int c = 0; c < k.kc; ++c) {
      const float a = tile[0][ty][at + c];
      if constexpr (Tangent) {
        const float ha = tile[1][ty][at + c];
        for (int jj = 0; jj < kTile; ++jj)
          if (jj < nj)
            acc[jj] += pairwise_l1_tangent_term(a, tile[0][kTile + jj][at + c], ha,
                                                tile[1][kTile + jj][at + c]);
      } else {
        for (int jj = 0; jj < kTile; ++jj)
          if (jj < nj) acc[jj] += pairwise_l1_term(a, tile[0][kTile + jj][at + c]);
      }
    }
  }
  if (!active) return;
  float* o = out + pairwise_l1_pair(s, i0 + ty, j0) + k.b0 + lane;
  for (int jj = 0; jj < kTile; ++jj)
    if (jj < nj) o[jj * s.b] = acc[jj];
}

// The adjoint for the block's rows: grid x over the chunks of 32 b, y over the tiles of i.
__global__ void pairwise_l1_adjoint_kernel(const float* m, const float* g, float* out,
                                           PairwiseL1Shape s) {
  // [0] m's i rows, then the chunk's outputs; [1] m's j rows of the current tile.
  GE_STATIC_SHARED(float, rows, [2][kTile][kRowFloats]);
  const int lane = threadIdx.x, ty = threadIdx.y;
  Chunk k;
  k.b0 = static_cast<int64_t>(blockIdx.x) * kLanes;
  k.nb = at_most(s.b - k.b0, kLanes);
  const int64_t i0 = static_cast<int64_t>(blockIdx.y) * kTile, i = i0 + ty;
  const bool active = i < s.n && lane < k.nb;
  for (k.c0 = 0; k.c0 < s.c; k.c0 += kChunk) {
    k.kc = at_most(s.c - k.c0, kChunk);
    k.pitch = k.kc | 1;
    const int at = lane * k.pitch;
    __syncthreads();  // the previous chunk's stores have read rows[0]
    stage_row(m, rows[0], i0, k, s);
    __syncthreads();
    float mi[kChunk], acc[kChunk];
    for (int c = 0; c < kChunk; ++c) {
      mi[c] = active && c < k.kc ? rows[0][ty][at + c] : 0.f;
      acc[c] = 0.f;
    }
    for (int64_t j0 = 0; j0 < s.n; j0 += kTile) {
      const int nj = at_most(s.n - j0, kTile);
      // The weights g[i, j, b] + g[j, i, b] are the thread's own: registers, read along b.
      float w[kTile];
      for (int jj = 0; jj < kTile; ++jj) {
        const int64_t j = j0 + jj;
        w[jj] = active && jj < nj ? g[pairwise_l1_pair(s, i, j) + k.b0 + lane] +
                                        g[pairwise_l1_pair(s, j, i) + k.b0 + lane]
                                  : 0.f;
      }
      __syncthreads();  // the previous tile's readers are done
      stage_row(m, rows[1], j0, k, s);
      __syncthreads();
      if (!active) continue;
      // Fixed trip counts with guards keep w, mi and acc in registers.
      for (int jj = 0; jj < kTile; ++jj) {
        if (jj >= nj) break;
        const float* mj = rows[1][jj] + at;
        for (int c = 0; c < kChunk; ++c)
          if (c < k.kc) acc[c] += w[jj] * pairwise_l1_sign(mi[c], mj[c]);
      }
    }
    // rows[0] was last read before the j loop's first barrier: each thread now writes its own
    // slots, and after the barrier warp ty stores row i's chunk from them.
    if (active)
      for (int c = 0; c < kChunk; ++c)
        if (c < k.kc) rows[0][ty][at + c] = acc[c];
    __syncthreads();
    if (i < s.n) {
      float* dst = out + pairwise_l1_row(s, i) + k.b0 * s.c + k.c0;
      const int count = k.nb * k.kc;
      for (int e = lane; e < count; e += kLanes) {
        const int b = e / k.kc, c = e - b * k.kc;
        dst[b * s.c + c] = rows[0][ty][b * k.pitch + c];
      }
    }
  }
}

void check_grid(const char* fn, const PairwiseL1Shape& s) {
  GE_CHECK((s.n + kTile - 1) / kTile <= kMaxGridYZ && (s.b + kLanes - 1) / kLanes <= 0x7fffffff, fn,
           ": expected N <= ", kMaxGridYZ * kTile, " and B <= ", int64_t{0x7fffffff} * kLanes,
           ", got [", s.n, ", ", s.b, ", ", s.c, "]");
}

dim3 pairs_grid(const PairwiseL1Shape& s) {
  const auto tiles = static_cast<unsigned>((s.n + kTile - 1) / kTile);
  return dim3(static_cast<unsigned>((s.b + kLanes - 1) / kLanes), tiles, tiles);
}

}  // namespace

void pairwise_l1(const float* m, float* d, const PairwiseL1Shape& s, Stream stream) {
  pairwise_l1_check("pairwise_l1", s, pairwise_l1_pairs_numel(s), d, {m});
  if (pairwise_l1_pairs_numel(s) == 0) return;
  check_grid("pairwise_l1", s);
  GE_LAUNCH((pairwise_l1_pairs_kernel<false>), pairs_grid(s), dim3(kLanes, kTile), 0, stream, m,
            nullptr, d, s);
}

void pairwise_l1_adjoint(const float* m, const float* g, float* out, const PairwiseL1Shape& s,
                         Stream stream) {
  pairwise_l1_check("pairwise_l1_adjoint", s, pairwise_l1_rows_numel(s), out, {m, g});
  if (pairwise_l1_rows_numel(s) == 0) return;
  check_grid("pairwise_l1_adjoint", s);
  const dim3 grid(static_cast<unsigned>((s.b + kLanes - 1) / kLanes),
                  static_cast<unsigned>((s.n + kTile - 1) / kTile));
  GE_LAUNCH(pairwise_l1_adjoint_kernel, grid, dim3(kLanes, kTile), 0, stream, m, g, out, s);
}

void pairwise_l1_tangent(const float* m, const float* h, float* out, const PairwiseL1Shape& s,
                         Stream stream) {
  pairwise_l1_check("pairwise_l1_tangent", s, pairwise_l1_pairs_numel(s), out, {m, h});
  if (pairwise_l1_pairs_numel(s) == 0) return;
  check_grid("pairwise_l1_tangent", s);
  GE_LAUNCH((pairwise_l1_pairs_kernel<true>), pairs_grid(s), dim3(kLanes, kTile), 0, stream, m, h,
            out, s);
}

}  // namespace ge::kernels::cuda
