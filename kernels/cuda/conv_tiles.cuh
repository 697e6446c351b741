#pragma once
// The block tiles of the implicit-GEMM convolutions (conv.cu) and everything that works on one
// tile whatever the problem: the inner products on the FP32 cores (tile_fma) and on the tensor
// cores (tile_mma), the K loop (register-staged or a cp.async pipeline) and the epilogue store.
//
// FP32 tiles (Tile): 256 threads, each owning a TM x TN register tile made of 4x4 blocks spread
// so that a warp's float4 reads of a shared-memory row are contiguous (no bank conflicts) and
// its float4 stores along N are coalesced. Shared tiles are k-major ([BK][BM + 4], [BK][BN + 4]),
// double-buffered: the next tile's global loads are in registers while the current one is
// multiplied, so one barrier per K step suffices.
//
// Tensor-core tiles (TcTile): the 8 warps share the block tile as m16n8k8 TF32 products, the
// operands rounded to TF32 as they leave shared memory ([BK][BM + 8]: conflict-free fragment
// loads), fed by a kStages-deep cp.async pipeline.
#include <cstdint>

#include "common/bias_act.h"
#include "common/macros.h"
#include "cuda/launch.cuh"
#include "cuda/mma.cuh"
#include "cuda/vec4.cuh"

namespace ge::kernels::cuda::conv_detail {

constexpr int kThreads = 256;
constexpr int kBK = 16;

template <int BM_, int BN_, int TM_, int TN_, int MinBlocks>
struct Tile {
  static constexpr int BM = BM_, BN = BN_, TM = TM_, TN = TN_, BK = kBK;
  static constexpr int kMinBlocks = MinBlocks;  // __launch_bounds__: caps registers per thread
  // The transposed kernel also keeps its phase's tap geometry live: at 3 blocks per SM (80
  // registers) ptxas spilled it to the stack, so that kernel asks for at most 2.
  static constexpr int kTransposeMinBlocks = MinBlocks > 2 ? 2 : MinBlocks;
  static constexpr bool kTensorCore = false;
  static constexpr int kVec = 4;                    // contiguous output columns per thread
  static constexpr int TX = BN / TN, TY = BM / TM;  // threads along N and along M
  static_assert(TX * TY == kThreads, "one output tile per block of 256 threads");
  static_assert(TM % 4 == 0 && TN % 4 == 0, "register tiles are made of 4x4 blocks");
  static constexpr int LDA = BM + 4, LDB = BN + 4;  // padding keeps rows 16-byte aligned
  static constexpr int kStage = BK * (LDA + LDB);   // floats of one pipeline stage
  static constexpr size_t kSmemBytes = 2 * kStage * sizeof(float);
  static constexpr int kA = BM * BK / kThreads;  // A elements each thread fetches per step
  static constexpr int kB = BK * BN / kThreads;  // B elements
  static_assert(kA >= 1 && kB >= 1, "every thread fetches part of each tile");

  // Thread tid's place (tx, ty) in the block's grid of register tiles.
  static __device__ __forceinline__ int thread_x(int tid) { return tid % TX; }
  static __device__ __forceinline__ int thread_y(int tid) { return tid / TX; }
  // The tile-local row of acc[i] and column of acc[.][j] for thread (tx, ty).
  static __device__ __forceinline__ int row(int i, int ty) {
    return i / 4 * TY * 4 + ty * 4 + i % 4;
  }
  static __device__ __forceinline__ int col(int j, int tx) {
    return j / 4 * TX * 4 + tx * 4 + j % 4;
  }
};

// A tensor-core tile: the 8 warps of the block in a WarpsM x WarpsN grid, each computing a
// WTM x WTN sub-tile as MI x NI m16n8k8 TF32 products. A thread holds the accumulators of the
// mma layout (rows g and g + 8, columns 2t and 2t + 1 of each product, g = lane / 4,
// t = lane % 4): acc[2 mi + h][2 ni + c] is row mi * 16 + h * 8 + g, column ni * 8 + 2t + c of
// its warp's sub-tile. Rows and columns stay separable, so the loaders and the epilogue serve
// both kinds of tile.
template <int BM_, int BN_, int WarpsM, int Stages, int MinBlocks>
struct TcTile {
  static constexpr int BM = BM_, BN = BN_, BK = kBK;
  static constexpr int kStages = Stages;  // cp.async pipeline depth
  static constexpr int kMinBlocks = MinBlocks;
  static constexpr int kTransposeMinBlocks = MinBlocks > 2 ? 2 : MinBlocks;
  static constexpr bool kTensorCore = true;
  static constexpr int kVec = 2;
  static constexpr int WarpsN = kThreads / 32 / WarpsM;
  static constexpr int WTM = BM / WarpsM, WTN = BN / WarpsN;
  static constexpr int MI = WTM / 16, NI = WTN / 8;
  static constexpr int TM = 2 * MI, TN = 2 * NI;
  static_assert(WarpsM * WarpsN * 32 == kThreads && MI * 16 == WTM && NI * 8 == WTN,
                "warp sub-tiles made of whole m16n8 products");
  // Row k of a stage starts 8 banks after row k - 1: the fragment loads of a warp (rows t and
  // t + 4, 8 consecutive columns) touch 32 distinct banks.
  static constexpr int LDA = BM + 8, LDB = BN + 8;
  static_assert(LDA % 32 == 8 || LDA % 32 == 24, "conflict-free fragment loads of A");
  static_assert(LDB % 32 == 8 || LDB % 32 == 24, "conflict-free fragment loads of B");
  static constexpr int kStage = BK * (LDA + LDB);
  static constexpr size_t kSmemBytes = Stages * kStage * sizeof(float);
  static_assert(Stages >= 2 && kSmemBytes <= 48 * 1024, "a pipeline within the default 48 KiB");
  static constexpr int kA = BM * BK / kThreads;
  static constexpr int kB = BK * BN / kThreads;
  static_assert(kA >= 1 && kB >= 1, "every thread fetches part of each tile");

  // tx = warp column * 4 + t, ty = warp row * 8 + g.
  static __device__ __forceinline__ int thread_x(int tid) {
    return tid / 32 % WarpsN * 4 + tid % 4;
  }
  static __device__ __forceinline__ int thread_y(int tid) {
    return tid / 32 / WarpsN * 8 + tid % 32 / 4;
  }
  static __device__ __forceinline__ int row(int i, int ty) {
    return ty / 8 * WTM + i / 2 * 16 + i % 2 * 8 + ty % 8;
  }
  static __device__ __forceinline__ int col(int j, int tx) {
    return tx / 4 * WTN + j / 2 * 8 + tx % 4 * 2 + j % 2;
  }
};

using Wide = Tile<64, 64, 4, 4, 3>;   // the default
using Tall = Tile<128, 64, 8, 4, 2>;  // more reuse per thread when M is large and tiles are many
using Thin = Tile<16, 256, 4, 4, 3>;  // M <= 16 (e.g. an RGB or 1-channel output layer)
// The same block tiles on the tensor cores (TF32): warp sub-tiles 32x16, 32x32 and 16x32, with
// 3, 3 and 2 pipeline stages (28, 40 and 37 KiB of shared memory).
using TcWide = TcTile<64, 64, 2, 3, 3>;
using TcTall = TcTile<128, 64, 4, 3, 2>;
using TcThin = TcTile<16, 256, 1, 2, 3>;
// The block's corner in the GEMM (grid x walks N tiles, y M tiles) and this thread's place in
// the block's grid of register tiles.
template <class T>
struct TilePos {
  int m0, n0, tx, ty;
  __device__ TilePos()
      : m0(static_cast<int>(blockIdx.y) * T::BM),
        n0(static_cast<int>(blockIdx.x) * T::BN),
        tx(T::thread_x(static_cast<int>(threadIdx.x))),
        ty(T::thread_y(static_cast<int>(threadIdx.x))) {}
  // The GEMM row of acc[i] and column of acc[.][j].
  __device__ __forceinline__ int m(int i) const { return m0 + T::row(i, ty); }
  __device__ __forceinline__ int n(int j) const { return n0 + T::col(j, tx); }
};

// Where one GEMM row of results goes: its offset in the output (-1: outside the problem) and
// the bias it takes.
struct RowDest {
  int offset;
  float bias;
};

// GEMM row m of group grp as an output channel c = grp * per_group + m: its plane of `plane`
// elements and bias[c] (none past the group's rows).
__device__ __forceinline__ RowDest channel_row(int m, int grp, int per_group, int plane,
                                               const float* bias) {
  if (m >= per_group) return RowDest{-1, 0.f};
  const int c = grp * per_group + m;
  return RowDest{c * plane, bias != nullptr ? bias[c] : 0.f};
}

// The output offset of each accumulator row and column (-1: skipped) and each row's bias.
template <class T>
struct TileDest {
  int row_off[T::TM], col_off[T::TN];
  float bias[T::TM];
};

// rows(m) -> RowDest for GEMM row m, cols(n) -> the offset of GEMM column n or -1.
template <class T, class Rows, class Cols>
__device__ __forceinline__ TileDest<T> tile_dest(const TilePos<T>& at, Rows&& rows, Cols&& cols) {
  TileDest<T> d;
  GE_UNROLL
  for (int i = 0; i < T::TM; ++i) {
    const RowDest r = rows(at.m(i));
    d.row_off[i] = r.offset;
    d.bias[i] = r.bias;
  }
  GE_UNROLL
  for (int j = 0; j < T::TN; ++j)
    d.col_off[j] = cols(at.n(j));
  return d;
}

// The K index a loader thread fetches in slot r of a tile spanning `span` along M or N: threads
// walk the span fastest, so consecutive threads read consecutive rows or columns.
template <int span>
__device__ __forceinline__ int k_of(int k0, int tid, int r) {
  return k0 + tid / span + kThreads / span * r;
}

// Registers fetched along K by k_of<span> into a k-major shared tile with leading dimension ld,
// at this thread's fixed row or column `line`.
template <int span, int ld, int R>
__device__ __forceinline__ void stash_k_major(float* S, const float (&reg)[R], int tid, int line) {
  GE_UNROLL
  for (int r = 0; r < R; ++r)
    S[k_of<span>(0, tid, r) * ld + line] = reg[r];
}

// dst[0..4) = v.
__device__ __forceinline__ void unpack4(const float4& v, float* dst) {
  dst[0] = v.x;
  dst[1] = v.y;
  dst[2] = v.z;
  dst[3] = v.w;
}

__device__ __forceinline__ bool inside(int v, int n) {
  return static_cast<unsigned>(v) < static_cast<unsigned>(n);
}

// acc += A_tile^T-slices x B_tile over one K step, from shared memory, on the FP32 cores.
template <class T>
__device__ __forceinline__ void tile_fma(const float* As, const float* Bs,
                                         float (&acc)[T::TM][T::TN], const TilePos<T>& at) {
  GE_UNROLL
  for (int kk = 0; kk < T::BK; ++kk) {
    float a[T::TM], b[T::TN];
    GE_UNROLL
    for (int q = 0; q < T::TM / 4; ++q)
      unpack4(load4(As + kk * T::LDA + q * T::TY * 4 + at.ty * 4), a + 4 * q);
    GE_UNROLL
    for (int q = 0; q < T::TN / 4; ++q)
      unpack4(load4(Bs + kk * T::LDB + q * T::TX * 4 + at.tx * 4), b + 4 * q);
    GE_UNROLL
    for (int i = 0; i < T::TM; ++i) {
      GE_UNROLL
      for (int j = 0; j < T::TN; ++j)
        acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
  }
}

// The same on the tensor cores: two k8 slices, each MI x NI m16n8k8 TF32 products per warp. The
// operands are rounded to TF32 (to nearest) as they leave shared memory.
template <class T>
__device__ __forceinline__ void tile_mma(const float* As, const float* Bs,
                                         float (&acc)[T::TM][T::TN], const TilePos<T>& at) {
  const int g = at.ty % 8, t = at.tx % 4;
  const float* a_lane = As + t * T::LDA + at.ty / 8 * T::WTM + g;
  const float* b_lane = Bs + t * T::LDB + at.tx / 4 * T::WTN + g;
  GE_UNROLL
  for (int kk = 0; kk < T::BK; kk += 8) {
    uint32_t a[T::MI][4], b[T::NI][2];
    GE_UNROLL
    for (int mi = 0; mi < T::MI; ++mi) {
      const float* p = a_lane + kk * T::LDA + mi * 16;
      a[mi][0] = tf32(p[0]);
      a[mi][1] = tf32(p[8]);
      a[mi][2] = tf32(p[4 * T::LDA]);
      a[mi][3] = tf32(p[4 * T::LDA + 8]);
    }
    GE_UNROLL
    for (int ni = 0; ni < T::NI; ++ni) {
      const float* p = b_lane + kk * T::LDB + ni * 8;
      b[ni][0] = tf32(p[0]);
      b[ni][1] = tf32(p[4 * T::LDB]);
    }
    GE_UNROLL
    for (int mi = 0; mi < T::MI; ++mi) {
      GE_UNROLL
      for (int ni = 0; ni < T::NI; ++ni) {
        float d[4] = {acc[2 * mi][2 * ni], acc[2 * mi][2 * ni + 1], acc[2 * mi + 1][2 * ni],
                      acc[2 * mi + 1][2 * ni + 1]};
        mma_tf32(d, a[mi], b[ni]);
        acc[2 * mi][2 * ni] = d[0];
        acc[2 * mi][2 * ni + 1] = d[1];
        acc[2 * mi + 1][2 * ni] = d[2];
        acc[2 * mi + 1][2 * ni + 1] = d[3];
      }
    }
  }
}

template <class T>
__device__ __forceinline__ void tile_product(const float* As, const float* Bs,
                                             float (&acc)[T::TM][T::TN], const TilePos<T>& at) {
  if constexpr (T::kTensorCore) {
    tile_mma<T>(As, Bs, acc, at);
  } else {
    tile_fma<T>(As, Bs, acc, at);
  }
}

// The K loop over [k_begin, k_end) (k_begin a multiple of BK), register-staged (the FP32
// tiles): the loader L fetches one K step of A and B into registers (fetch) and writes them to a
// stage's shared tiles (stash), zeros where the GEMM has no element.
template <class T, class L>
__device__ __forceinline__ void main_loop_staged(L& ld, int k_begin, int k_end, float* smem,
                                                 float (&acc)[T::TM][T::TN], const TilePos<T>& at) {
  ld.fetch(k_begin);
  ld.stash(smem, smem + T::BK * T::LDA);
  __syncthreads();
  int cur = 0;  // the stage being multiplied; the other one receives the next K step
  for (int k0 = k_begin; k0 < k_end; k0 += T::BK) {
    const bool more = k0 + T::BK < k_end;
    if (more) ld.fetch(k0 + T::BK);
    const float* use = smem + cur * T::kStage;
    tile_product<T>(use, use + T::BK * T::LDA, acc, at);
    // The other stage was last read before the previous barrier, so it is free to overwrite.
    float* fill = smem + (cur ^ 1) * T::kStage;
    if (more) ld.stash(fill, fill + T::BK * T::LDA);
    __syncthreads();
    cur ^= 1;
  }
}

// The same K loop as a T::kStages-deep cp.async pipeline (the tensor-core tiles): the loader
// issues one K step's copies straight into a stage (issue; zero-filled where the GEMM has no
// element), and up to kStages - 1 steps are in flight while one is multiplied.
template <class T, class L>
__device__ __forceinline__ void main_loop_async(L& ld, int k_begin, int k_end, float* smem,
                                                float (&acc)[T::TM][T::TN], const TilePos<T>& at) {
  constexpr int S = T::kStages;
  const int steps = (k_end - k_begin + T::BK - 1) / T::BK;
  GE_UNROLL
  for (int s = 0; s < S - 1; ++s) {
    float* stage = smem + s * T::kStage;
    if (s < steps) ld.issue(stage, stage + T::BK * T::LDA, k_begin + s * T::BK);
    cp_async_commit();  // empty groups keep the count uniform
  }
  for (int step = 0; step < steps; ++step) {
    // Of the S - 1 + step groups committed, all but the S - 2 newest are done: step's included.
    cp_async_wait<S - 2>();
    // Every thread's copies for this step are visible, and every thread is done with step - 1,
    // whose stage the next issue overwrites.
    __syncthreads();
    const int next = step + S - 1;
    if (next < steps) {
      float* stage = smem + next % S * T::kStage;
      ld.issue(stage, stage + T::BK * T::LDA, k_begin + next * T::BK);
    }
    cp_async_commit();
    const float* use = smem + step % S * T::kStage;
    tile_product<T>(use, use + T::BK * T::LDA, acc, at);
  }
}

template <class T, class L>
__device__ __forceinline__ void main_loop(L& ld, int k_begin, int k_end, float* smem,
                                          float (&acc)[T::TM][T::TN], const TilePos<T>& at) {
  if (k_begin >= k_end) return;  // uniform across the block
  if constexpr (T::kTensorCore) {
    main_loop_async<T>(ld, k_begin, k_end, smem, acc, at);
  } else {
    main_loop_staged<T>(ld, k_begin, k_end, smem, acc, at);
  }
}

// Writes the register tile: with z = acc + bias[i], out[row_off[i] + col_off[j]] = f(i, z),
// skipping rows and columns marked -1, and z into `pre` at the same offsets when it is set (the
// pre-activation a PReLU backward reads, since its slopes may be negative). With vec, each block
// of T::kVec columns is contiguous and aligned to its size whenever its first column is valid.
template <class T, class F>
__device__ __forceinline__ void store_tile(const float (&acc)[T::TM][T::TN], float* out, float* pre,
                                           const TileDest<T>& d, bool vec, F f) {
  constexpr int V = T::kVec;
  const int(&row_off)[T::TM] = d.row_off;
  const int(&col_off)[T::TN] = d.col_off;
  GE_UNROLL
  for (int i = 0; i < T::TM; ++i) {
    if (row_off[i] < 0) continue;
    GE_UNROLL
    for (int q = 0; q < T::TN / V; ++q) {
      float z[V], v[V];
      GE_UNROLL
      for (int c = 0; c < V; ++c) {
        z[c] = acc[i][V * q + c] + d.bias[i];
        v[c] = f(i, z[c]);
      }
      if (vec) {
        if (col_off[V * q] >= 0) {
          const int at = row_off[i] + col_off[V * q];
          if constexpr (V == 4) {
            *reinterpret_cast<float4*>(out + at) = make_float4(v[0], v[1], v[2], v[3]);
            if (pre != nullptr)
              *reinterpret_cast<float4*>(pre + at) = make_float4(z[0], z[1], z[2], z[3]);
          } else {
            static_assert(V == 2, "blocks of 4 or 2 columns");
            *reinterpret_cast<float2*>(out + at) = make_float2(v[0], v[1]);
            if (pre != nullptr) *reinterpret_cast<float2*>(pre + at) = make_float2(z[0], z[1]);
          }
        }
      } else {
        GE_UNROLL
        for (int c = 0; c < V; ++c) {
          if (col_off[V * q + c] < 0) continue;
          const int at = row_off[i] + col_off[V * q + c];
          out[at] = v[c];
          if (pre != nullptr) pre[at] = z[c];
        }
      }
    }
  }
}

// store_tile through bias_act's activation A (the bias is already in z).
template <class T, BiasActFn A>
__device__ __forceinline__ void store_act_tile(const float (&acc)[T::TM][T::TN], float* out,
                                               const TileDest<T>& d, const BiasActParams& p,
                                               bool vec) {
  store_tile<T>(acc, out, nullptr, d, vec, [&p](int, float z) {
    return bias_act_apply<BiasActMode::Forward, A>(z, 0.f, 0.f, 0.f, p);
  });
}

template <class T>
__device__ __forceinline__ void store_epilogue(const float (&acc)[T::TM][T::TN], float* out,
                                               const TileDest<T>& d, const BiasActParams& p,
                                               bool vec) {
  switch (p.act) {
    case BiasActFn::Linear:
      return store_act_tile<T, BiasActFn::Linear>(acc, out, d, p, vec);
    case BiasActFn::Relu:
      return store_act_tile<T, BiasActFn::Relu>(acc, out, d, p, vec);
    case BiasActFn::LeakyRelu:
      return store_act_tile<T, BiasActFn::LeakyRelu>(acc, out, d, p, vec);
    case BiasActFn::Tanh:
      return store_act_tile<T, BiasActFn::Tanh>(acc, out, d, p, vec);
    case BiasActFn::Sigmoid:
      return store_act_tile<T, BiasActFn::Sigmoid>(acc, out, d, p, vec);
  }
}

}  // namespace ge::kernels::cuda::conv_detail
