// CUDA convolutions as implicit GEMMs (see common/conv.h for the index math): the B operand is
// gathered from the activation tile by tile, never materialised as a column buffer.
//
// One main loop serves the three problems; what differs is how a tile is fetched and where a
// result goes:
//   conv2d_forward            M = out_c/groups   N = batch*out_h*out_w   K = in_c/groups*kh*kw
//   conv_transpose2d_forward  M = in_c/groups    N = batch*phase pixels  K = out_c/groups*taps
//                             one GEMM per stride phase (grid.z = phase x group)
//   conv2d_weight             M = out_c/groups   N = in_c/groups*kh*kw   K = batch*out_h*out_w
//                             K split across blocks when the output alone has too few tiles;
//                             partials are summed by a second kernel in a fixed order
//
// Block tile BM x BN with a K step of 16, 256 threads, each owning a TM x TN register tile made
// of 4x4 blocks spread so that a warp's float4 reads of a shared-memory row are contiguous
// (no bank conflicts) and its float4 stores along N are coalesced. Shared tiles are stored
// k-major ([BK][BM + 4], [BK][BN + 4]), double-buffered: the next tile's global loads are in
// registers while the current one is multiplied, so one barrier per K step suffices.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "common/bias_act.h"
#include "common/conv.h"
#include "common/grid.h"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/conv.h"

#if defined(__CUDACC__)
#define GE_CONV_UNROLL _Pragma("unroll")
#else
#define GE_CONV_UNROLL
#endif

namespace ge::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kBK = 16;
constexpr int64_t kSMs = 132;  // H100 SXM; only sizes the split-K heuristic
constexpr int64_t kMaxGridYZ = 65535;
constexpr int kMaxPhases = 16;            // phases per launch; larger strides loop
constexpr int64_t kMinSplitK = 16 * kBK;  // a split of the weight gradient's K is never shorter

template <int BM_, int BN_, int TM_, int TN_, int MinBlocks>
struct Tile {
  static constexpr int BM = BM_, BN = BN_, TM = TM_, TN = TN_, BK = kBK;
  static constexpr int kMinBlocks = MinBlocks;  // __launch_bounds__: caps registers per thread
  // The transposed kernel also keeps its phase's tap geometry live: at 3 blocks per SM (80
  // registers) ptxas spilled it to the stack, so that kernel asks for at most 2.
  static constexpr int kTransposeMinBlocks = MinBlocks > 2 ? 2 : MinBlocks;
  static constexpr int TX = BN / TN, TY = BM / TM;  // threads along N and along M
  static_assert(TX * TY == kThreads, "one output tile per block of 256 threads");
  static_assert(TM % 4 == 0 && TN % 4 == 0, "register tiles are made of 4x4 blocks");
  static constexpr int LDA = BM + 4, LDB = BN + 4;  // padding keeps rows 16-byte aligned
  static constexpr int kStage = BK * (LDA + LDB);   // floats of one pipeline stage
  static constexpr size_t kSmemBytes = 2 * kStage * sizeof(float);
  static constexpr int kA = BM * BK / kThreads;  // A elements each thread fetches per step
  static constexpr int kB = BK * BN / kThreads;  // B elements
  static_assert(kA >= 1 && kB >= 1, "every thread fetches part of each tile");

  // The tile-local row of acc[i] and column of acc[.][j] for thread (tx, ty).
  static __device__ __forceinline__ int row(int i, int ty) {
    return i / 4 * TY * 4 + ty * 4 + i % 4;
  }
  static __device__ __forceinline__ int col(int j, int tx) {
    return j / 4 * TX * 4 + tx * 4 + j % 4;
  }
};

using Wide = Tile<64, 64, 4, 4, 3>;   // the default
using Tall = Tile<128, 64, 8, 4, 2>;  // more reuse per thread when M is large and tiles are many
using Thin = Tile<16, 256, 4, 4, 3>;  // M <= 16 (e.g. an RGB or 1-channel output layer)
enum class TileKind { Wide, Tall, Thin };

// The block's corner in the GEMM (grid x walks N tiles, y M tiles) and this thread's place in
// the block's grid of register tiles.
template <class T>
struct TilePos {
  int m0, n0, tx, ty;
  __device__ TilePos()
      : m0(static_cast<int>(blockIdx.y) * T::BM),
        n0(static_cast<int>(blockIdx.x) * T::BN),
        tx(static_cast<int>(threadIdx.x) % T::TX),
        ty(static_cast<int>(threadIdx.x) / T::TX) {}
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
  GE_CONV_UNROLL
  for (int i = 0; i < T::TM; ++i) {
    const RowDest r = rows(at.m(i));
    d.row_off[i] = r.offset;
    d.bias[i] = r.bias;
  }
  GE_CONV_UNROLL
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
  GE_CONV_UNROLL
  for (int r = 0; r < R; ++r)
    S[k_of<span>(0, tid, r) * ld + line] = reg[r];
}

// The sizes the kernels index with, as int (the launchers check every index fits).
struct Geo {
  int batch, in_c, in_h, in_w, out_c, out_h, out_w, kh, kw, sh, sw, ph, pw, groups;
  int cg, og, in_hw, out_hw, khw;
  FastDiv div_khw, div_kw, div_out_hw, div_out_w;
};

Geo make_geo(const ConvShape& s) {
  Geo g;
  g.batch = static_cast<int>(s.batch);
  g.in_c = static_cast<int>(s.in_c);
  g.in_h = static_cast<int>(s.in_h);
  g.in_w = static_cast<int>(s.in_w);
  g.out_c = static_cast<int>(s.out_c);
  g.out_h = static_cast<int>(s.out_h);
  g.out_w = static_cast<int>(s.out_w);
  g.kh = static_cast<int>(s.kh);
  g.kw = static_cast<int>(s.kw);
  g.sh = static_cast<int>(s.stride_h);
  g.sw = static_cast<int>(s.stride_w);
  g.ph = static_cast<int>(s.pad_h);
  g.pw = static_cast<int>(s.pad_w);
  g.groups = static_cast<int>(s.groups);
  g.cg = g.in_c / g.groups;
  g.og = g.out_c / g.groups;
  g.in_hw = g.in_h * g.in_w;
  g.out_hw = g.out_h * g.out_w;
  g.khw = g.kh * g.kw;
  g.div_khw = FastDiv(static_cast<uint32_t>(g.khw));
  g.div_kw = FastDiv(static_cast<uint32_t>(g.kw));
  g.div_out_hw = FastDiv(static_cast<uint32_t>(std::max(g.out_hw, 1)));
  g.div_out_w = FastDiv(static_cast<uint32_t>(std::max(g.out_w, 1)));
  return g;
}

// One stride phase in int, with the divisors of its tap decomposition k = (o, t, u).
struct PhaseInfo {
  int ry, rx, taps_h, taps_w, y0, x0, rows, cols, qy0, qx0;
  FastDiv div_taps, div_taps_w, div_pixels, div_cols;

  // k = (o, t, u): channel o, tap (t, u) of the phase.
  __device__ __forceinline__ void tap(int k, int& o, int& t, int& u) const {
    int rem;
    div_taps.divmod(k, o, rem);
    div_taps_w.divmod(rem, t, u);
  }
  // n = (nb, i, j): sample nb, phase pixel (i, j).
  __device__ __forceinline__ void pixel(int n, int& nb, int& i, int& j) const {
    int pix;
    div_pixels.divmod(n, nb, pix);
    div_cols.divmod(pix, i, j);
  }
};

struct PhaseTable {
  PhaseInfo p[kMaxPhases];
  int count;
};

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

// acc += A_tile^T-slices x B_tile over one K step, from shared memory.
template <class T>
__device__ __forceinline__ void tile_fma(const float* As, const float* Bs,
                                         float (&acc)[T::TM][T::TN], const TilePos<T>& at) {
  GE_CONV_UNROLL
  for (int kk = 0; kk < T::BK; ++kk) {
    float a[T::TM], b[T::TN];
    GE_CONV_UNROLL
    for (int q = 0; q < T::TM / 4; ++q)
      unpack4(load4(As + kk * T::LDA + q * T::TY * 4 + at.ty * 4), a + 4 * q);
    GE_CONV_UNROLL
    for (int q = 0; q < T::TN / 4; ++q)
      unpack4(load4(Bs + kk * T::LDB + q * T::TX * 4 + at.tx * 4), b + 4 * q);
    GE_CONV_UNROLL
    for (int i = 0; i < T::TM; ++i) {
      GE_CONV_UNROLL
      for (int j = 0; j < T::TN; ++j)
        acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
  }
}

// The K loop over [k_begin, k_end) (k_begin a multiple of BK). The loader L fetches one K step
// of A and B into registers (fetch) and writes them to a stage's shared tiles (stash), zeros
// where the GEMM has no element.
template <class T, class L>
__device__ __forceinline__ void main_loop(L& ld, int k_begin, int k_end, float* smem,
                                          float (&acc)[T::TM][T::TN], const TilePos<T>& at) {
  if (k_begin >= k_end) return;  // uniform across the block
  ld.fetch(k_begin);
  ld.stash(smem, smem + T::BK * T::LDA);
  __syncthreads();
  int cur = 0;  // the stage being multiplied; the other one receives the next K step
  for (int k0 = k_begin; k0 < k_end; k0 += T::BK) {
    const bool more = k0 + T::BK < k_end;
    if (more) ld.fetch(k0 + T::BK);
    const float* use = smem + cur * T::kStage;
    tile_fma<T>(use, use + T::BK * T::LDA, acc, at);
    // The other stage was last read before the previous barrier, so it is free to overwrite.
    float* fill = smem + (cur ^ 1) * T::kStage;
    if (more) ld.stash(fill, fill + T::BK * T::LDA);
    __syncthreads();
    cur ^= 1;
  }
}

// Writes the register tile: with z = acc + bias[i], out[row_off[i] + col_off[j]] = f(i, z),
// skipping rows and columns marked -1, and z into `pre` at the same offsets when it is set (the
// pre-activation a PReLU backward reads, since its slopes may be negative). With vec, each
// 4-column block is contiguous and 16-byte aligned whenever its first column is valid.
template <class T, class F>
__device__ __forceinline__ void store_tile(const float (&acc)[T::TM][T::TN], float* out, float* pre,
                                           const TileDest<T>& d, bool vec, F f) {
  const int(&row_off)[T::TM] = d.row_off;
  const int(&col_off)[T::TN] = d.col_off;
  GE_CONV_UNROLL
  for (int i = 0; i < T::TM; ++i) {
    if (row_off[i] < 0) continue;
    GE_CONV_UNROLL
    for (int q = 0; q < T::TN / 4; ++q) {
      float z[4], v[4];
      GE_CONV_UNROLL
      for (int c = 0; c < 4; ++c) {
        z[c] = acc[i][4 * q + c] + d.bias[i];
        v[c] = f(i, z[c]);
      }
      if (vec) {
        if (col_off[4 * q] >= 0) {
          const int at = row_off[i] + col_off[4 * q];
          *reinterpret_cast<float4*>(out + at) = make_float4(v[0], v[1], v[2], v[3]);
          if (pre != nullptr)
            *reinterpret_cast<float4*>(pre + at) = make_float4(z[0], z[1], z[2], z[3]);
        }
      } else {
        GE_CONV_UNROLL
        for (int c = 0; c < 4; ++c) {
          if (col_off[4 * q + c] < 0) continue;
          const int at = row_off[i] + col_off[4 * q + c];
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

// ---- conv2d_forward ----------------------------------------------------------------------

// A = the group's weight rows [og, K] (contiguous in k); B = the gathered input.
template <class T>
struct ForwardLoader {
  const float* __restrict__ w;  // row m0 of this block's group
  const float* __restrict__ x;
  const Geo& g;
  int M, K, m0, tid;
  bool vec_a;
  // This thread's B column (fixed for the whole K loop).
  int n_col, xbase, iy0, ix0;
  bool n_ok;
  float ra[T::kA], rb[T::kB];

  __device__ ForwardLoader(const Geo& geo, const float* w_, const float* x_, int grp, int m0_,
                           int n0, bool vec_a_)
      : w(w_),
        x(x_),
        g(geo),
        M(geo.og),
        K(geo.cg * geo.khw),
        m0(m0_),
        tid(static_cast<int>(threadIdx.x)),
        vec_a(vec_a_) {
    w += static_cast<int64_t>(grp * g.og + m0) * K;
    n_col = tid % T::BN;
    const int n = n0 + n_col;
    n_ok = n < g.batch * g.out_hw;
    int nb = 0, pix = 0, oy = 0, ox = 0;
    if (n_ok) {
      g.div_out_hw.divmod(n, nb, pix);
      g.div_out_w.divmod(pix, oy, ox);
    }
    iy0 = oy * g.sh - g.ph;
    ix0 = ox * g.sw - g.pw;
    xbase = (nb * g.in_c + grp * g.cg) * g.in_hw + iy0 * g.in_w + ix0;
  }

  __device__ __forceinline__ void fetch(int k0) {
    if (T::BM >= 64 && vec_a) {
      // K % 4 == 0 and w 16-byte aligned: one float4 per 4 consecutive k of a row.
      GE_CONV_UNROLL
      for (int r = 0; r < T::kA / 4; ++r) {
        const int q = tid + kThreads * r, m = q / (T::BK / 4), k = q % (T::BK / 4) * 4;
        float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
        if (m0 + m < M && k0 + k < K) v = load4(w + m * K + k0 + k);
        unpack4(v, ra + 4 * r);
      }
    } else {
      GE_CONV_UNROLL
      for (int r = 0; r < T::kA; ++r) {
        const int e = tid + kThreads * r, m = e / T::BK, k = e % T::BK;
        ra[r] = m0 + m < M && k0 + k < K ? w[m * K + k0 + k] : 0.f;
      }
    }
    GE_CONV_UNROLL
    for (int r = 0; r < T::kB; ++r) {
      const int k = k_of<T::BN>(k0, tid, r);
      float v = 0.f;
      if (n_ok && k < K) {
        int ci, rem, ki, kj;
        g.div_khw.divmod(k, ci, rem);
        g.div_kw.divmod(rem, ki, kj);
        if (inside(iy0 + ki, g.in_h) && inside(ix0 + kj, g.in_w))
          v = x[xbase + ci * g.in_hw + ki * g.in_w + kj];
      }
      rb[r] = v;
    }
  }

  __device__ __forceinline__ void stash(float* As, float* Bs) const {
    if (T::BM >= 64 && vec_a) {
      GE_CONV_UNROLL
      for (int r = 0; r < T::kA / 4; ++r) {
        const int q = tid + kThreads * r, m = q / (T::BK / 4), k = q % (T::BK / 4) * 4;
        GE_CONV_UNROLL
        for (int c = 0; c < 4; ++c)
          As[(k + c) * T::LDA + m] = ra[4 * r + c];
      }
    } else {
      GE_CONV_UNROLL
      for (int r = 0; r < T::kA; ++r) {
        const int e = tid + kThreads * r;
        As[e % T::BK * T::LDA + e / T::BK] = ra[r];
      }
    }
    stash_k_major<T::BN, T::LDB>(Bs, rb, tid, n_col);
  }
};

// grid (N tiles, M tiles, groups).
template <class T>
__global__ void __launch_bounds__(kThreads, T::kMinBlocks)
    conv2d_forward_kernel(Geo g, const float* __restrict__ x, const float* __restrict__ w,
                          ConvEpilogue e, float* __restrict__ y, bool vec_a, bool vec_out) {
  GE_DYNAMIC_SHARED(float, smem);
  const int grp = static_cast<int>(blockIdx.z);
  const TilePos<T> at;
  float acc[T::TM][T::TN] = {};
  ForwardLoader<T> ld(g, w, x, grp, at.m0, at.n0, vec_a);
  main_loop<T>(ld, 0, g.cg * g.khw, smem, acc, at);

  const auto rows = [&](int m) { return channel_row(m, grp, g.og, g.out_hw, e.bias); };
  const auto cols = [&](int n) {
    if (n >= g.batch * g.out_hw) return -1;
    int nb, pix;
    g.div_out_hw.divmod(n, nb, pix);
    return nb * g.out_c * g.out_hw + pix;
  };
  if (e.prelu != nullptr) {  // uniform across the grid
    float slope[T::TM];
    GE_CONV_UNROLL
    for (int i = 0; i < T::TM; ++i) {
      const int m = at.m(i);
      slope[i] = m < g.og ? __ldg(e.prelu + grp * g.og + m) : 0.f;
    }
    store_tile<T>(acc, y, e.pre_activation, tile_dest(at, rows, cols), vec_out,
                  [&slope](int i, float z) { return z > 0.f ? z : slope[i] * z; });
    return;
  }
  store_epilogue<T>(acc, y, tile_dest(at, rows, cols), e.act, vec_out);
}

// ---- conv_transpose2d_forward ------------------------------------------------------------

// One phase of one group: A[m][k] = w[g*og + o, m, ry + t*sh, rx + u*sw] with k = (o, t, u);
// B[k][n] = y[nb, g*og + o, qy - t, qx - u] for the phase pixel n = (nb, i, j).
template <class T>
struct TransposeLoader {
  const float* __restrict__ w;
  const float* __restrict__ y;
  const Geo& g;
  const PhaseInfo& ph;
  int M, K, tid;
  // A: this thread's row (fixed) and B: its column (fixed).
  int m_row, wbase;
  bool m_ok;
  int n_col, ybase, qy, qx;
  bool n_ok;
  float ra[T::kA], rb[T::kB];

  __device__ TransposeLoader(const Geo& geo, const PhaseInfo& phase, const float* w_,
                             const float* y_, int grp, int m0, int n0)
      : w(w_),
        y(y_),
        g(geo),
        ph(phase),
        M(geo.cg),
        K(geo.og * phase.taps_h * phase.taps_w),
        tid(static_cast<int>(threadIdx.x)) {
    m_row = tid % T::BM;
    m_ok = m0 + m_row < M;
    wbase = (grp * g.og * g.cg + m0 + m_row) * g.khw + ph.ry * g.kw + ph.rx;
    n_col = tid % T::BN;
    const int n = n0 + n_col;
    n_ok = n < g.batch * ph.rows * ph.cols;
    int nb = 0, i = 0, j = 0;
    if (n_ok) ph.pixel(n, nb, i, j);
    qy = ph.qy0 + i;
    qx = ph.qx0 + j;
    ybase = (nb * g.out_c + grp * g.og) * g.out_hw + qy * g.out_w + qx;
  }

  // reg[r] = value(o, t, u) for slot r's K index k = (o, t, u); 0 when !ok or k >= K.
  template <int span, int R, class Value>
  __device__ __forceinline__ void fetch_taps(float (&reg)[R], int k0, bool ok,
                                             Value&& value) const {
    GE_CONV_UNROLL
    for (int r = 0; r < R; ++r) {
      const int k = k_of<span>(k0, tid, r);
      reg[r] = 0.f;
      if (ok && k < K) {
        int o, t, u;
        ph.tap(k, o, t, u);
        reg[r] = value(o, t, u);
      }
    }
  }

  __device__ __forceinline__ void fetch(int k0) {
    fetch_taps<T::BM>(ra, k0, m_ok, [&](int o, int t, int u) {
      return w[wbase + o * g.cg * g.khw + t * g.sh * g.kw + u * g.sw];
    });
    fetch_taps<T::BN>(rb, k0, n_ok, [&](int o, int t, int u) {
      const bool in = inside(qy - t, g.out_h) && inside(qx - u, g.out_w);
      return in ? y[ybase + o * g.out_hw - t * g.out_w - u] : 0.f;
    });
  }

  __device__ __forceinline__ void stash(float* As, float* Bs) const {
    stash_k_major<T::BM, T::LDA>(As, ra, tid, m_row);
    stash_k_major<T::BN, T::LDB>(Bs, rb, tid, n_col);
  }
};

// grid (N tiles of the largest phase, M tiles, phases x groups); out is the conv2d input x.
template <class T>
__global__ void __launch_bounds__(kThreads, T::kTransposeMinBlocks)
    conv_transpose2d_kernel(Geo g, PhaseTable phases, const float* __restrict__ y,
                            const float* __restrict__ w, ConvEpilogue e, float* __restrict__ x,
                            bool vec_out) {
  GE_DYNAMIC_SHARED(float, smem);
  const int grp = static_cast<int>(blockIdx.z) % g.groups;
  const PhaseInfo ph = phases.p[blockIdx.z / g.groups];
  const TilePos<T> at;
  const int n_count = g.batch * ph.rows * ph.cols;
  if (at.n0 >= n_count) return;  // the whole block: this phase has fewer pixels than the largest
  float acc[T::TM][T::TN] = {};
  TransposeLoader<T> ld(g, ph, w, y, grp, at.m0, at.n0);
  // A phase without taps (kernel smaller than the stride) still writes bias + activation.
  main_loop<T>(ld, 0, g.og * ph.taps_h * ph.taps_w, smem, acc, at);

  const auto rows = [&](int m) { return channel_row(m, grp, g.cg, g.in_hw, e.bias); };
  const auto cols = [&](int n) {
    if (n >= n_count) return -1;
    int nb, i, j;
    ph.pixel(n, nb, i, j);
    return nb * g.in_c * g.in_hw + (ph.y0 + i * g.sh) * g.in_w + ph.x0 + j * g.sw;
  };
  store_epilogue<T>(acc, x, tile_dest(at, rows, cols), e.act, vec_out);
}

// ---- conv2d_weight -----------------------------------------------------------------------

// A[m][k] = dy[nb, g*og + m, pix] and B[k][n] = x[nb, g*cg + ci, oy*sh - ph + ki, ...] with
// k = (nb, pix) and n = (ci, ki, kj). Both tiles are fetched with k fastest across threads
// (consecutive pixels), and each thread decodes its one k per step for both.
template <class T>
struct WeightLoader {
  const float* __restrict__ x;
  const float* __restrict__ dy;
  const Geo& g;
  int grp, m0, k_end, tid, kk;
  int b_coff[T::kB], b_ki[T::kB], b_kj[T::kB];  // this thread's B columns (fixed)
  float ra[T::kA], rb[T::kB];

  __device__ WeightLoader(const Geo& geo, const float* x_, const float* dy_, int grp_, int m0_,
                          int n0, int k_end_)
      : x(x_),
        dy(dy_),
        g(geo),
        grp(grp_),
        m0(m0_),
        k_end(k_end_),
        tid(static_cast<int>(threadIdx.x)),
        kk(tid % T::BK) {
    const int N = g.cg * g.khw;
    GE_CONV_UNROLL
    for (int r = 0; r < T::kB; ++r) {
      const int n = n0 + tid / T::BK + kThreads / T::BK * r;
      int ci = 0, rem = 0, ki = 0, kj = 0;
      if (n < N) {
        g.div_khw.divmod(n, ci, rem);
        g.div_kw.divmod(rem, ki, kj);
      }
      b_coff[r] = n < N ? ci * g.in_hw + ki * g.in_w + kj : -1;
      b_ki[r] = ki;
      b_kj[r] = kj;
    }
  }

  __device__ __forceinline__ void fetch(int k0) {
    const int k = k0 + kk;
    const bool k_ok = k < k_end;
    int nb = 0, pix = 0, oy = 0, ox = 0;
    if (k_ok) {
      g.div_out_hw.divmod(k, nb, pix);
      g.div_out_w.divmod(pix, oy, ox);
    }
    const int abase = (nb * g.out_c + grp * g.og + m0) * g.out_hw + pix;
    GE_CONV_UNROLL
    for (int r = 0; r < T::kA; ++r) {
      const int m = tid / T::BK + kThreads / T::BK * r;
      ra[r] = k_ok && m0 + m < g.og ? dy[abase + m * g.out_hw] : 0.f;
    }
    const int iy0 = oy * g.sh - g.ph, ix0 = ox * g.sw - g.pw;
    const int xbase = (nb * g.in_c + grp * g.cg) * g.in_hw + iy0 * g.in_w + ix0;
    GE_CONV_UNROLL
    for (int r = 0; r < T::kB; ++r) {
      const bool ok =
          k_ok && b_coff[r] >= 0 && inside(iy0 + b_ki[r], g.in_h) && inside(ix0 + b_kj[r], g.in_w);
      rb[r] = ok ? x[xbase + b_coff[r]] : 0.f;
    }
  }

  __device__ __forceinline__ void stash(float* As, float* Bs) const {
    GE_CONV_UNROLL
    for (int r = 0; r < T::kA; ++r)
      As[kk * T::LDA + tid / T::BK + kThreads / T::BK * r] = ra[r];
    GE_CONV_UNROLL
    for (int r = 0; r < T::kB; ++r)
      Bs[kk * T::LDB + tid / T::BK + kThreads / T::BK * r] = rb[r];
  }
};

// grid (N tiles, M tiles, splits x groups); with splits > 1, `out` is the workspace and split s
// writes the s-th dw-sized slice.
template <class T>
__global__ void __launch_bounds__(kThreads, T::kMinBlocks)
    conv2d_weight_kernel(Geo g, const float* __restrict__ x, const float* __restrict__ dy,
                         float* __restrict__ out, int split_len, bool vec_out) {
  GE_DYNAMIC_SHARED(float, smem);
  const int grp = static_cast<int>(blockIdx.z) % g.groups;
  const int split = static_cast<int>(blockIdx.z) / g.groups;
  const TilePos<T> at;
  const int K = g.batch * g.out_hw, N = g.cg * g.khw;
  const int k_begin = split * split_len;
  const int k_end = K < k_begin + split_len ? K : k_begin + split_len;
  float acc[T::TM][T::TN] = {};
  WeightLoader<T> ld(g, x, dy, grp, at.m0, at.n0, k_end);
  main_loop<T>(ld, k_begin, k_end, smem, acc, at);

  const int slice = split * g.out_c * N;
  const auto rows = [&](int m) {
    return RowDest{m < g.og ? slice + (grp * g.og + m) * N : -1, 0.f};
  };
  const auto cols = [&](int n) { return n < N ? n : -1; };
  store_act_tile<T, BiasActFn::Linear>(acc, out, tile_dest(at, rows, cols), BiasActParams{},
                                       vec_out);
}

// dw[i] = sum over splits s of parts[s * n + i], s ascending.
__global__ void sum_splits_kernel(const float* __restrict__ parts, float* __restrict__ dw,
                                  int64_t n, int splits) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    float s = parts[i];
    for (int k = 1; k < splits; ++k)
      s += parts[k * n + i];
    dw[i] = s;
  }
}

// ---- launchers ---------------------------------------------------------------------------

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

constexpr int64_t kIntMax = 0x7fffffff;

// The kernels index with int: every buffer (and the GEMM sizes) must stay below 2^31.
void check_int_range(const ConvShape& s, const char* op) {
  const int64_t x = s.batch * s.in_c * s.in_h * s.in_w;
  const int64_t y = s.batch * s.out_c * s.out_h * s.out_w;
  const int64_t w = s.out_c * (s.groups > 0 ? s.in_c / s.groups : 0) * s.kh * s.kw;
  GE_CHECK(x <= kIntMax && y <= kIntMax && w <= kIntMax, op,
           ": expected every buffer to hold fewer than 2^31 elements, got input ", x, ", output ",
           y, ", weight ", w);
}

void check_epilogue(const ConvEpilogue& e, const char* op) {
  GE_CHECK(e.act.act != BiasActFn::LeakyRelu || e.act.alpha >= 0.f, op,
           ": expected alpha >= 0 for lrelu, got ", e.act.alpha);
  GE_CHECK(std::isfinite(e.act.gain), op, ": expected a finite gain, got ", e.act.gain);
}

TileKind pick_tile(ConvTile forced, int64_t m, int64_t n, int64_t z) {
  switch (forced) {
    case ConvTile::Wide:
      return TileKind::Wide;
    case ConvTile::Tall:
      return TileKind::Tall;
    case ConvTile::Thin:
      return TileKind::Thin;
    case ConvTile::Auto:
      break;
  }
  if (m <= Thin::BM) return TileKind::Thin;
  if (m >= Tall::BM && ceil_div(m, Tall::BM) * ceil_div(n, Tall::BN) * z >= 2 * kSMs)
    return TileKind::Tall;
  return TileKind::Wide;
}

template <class T>
dim3 grid_of(int64_t m, int64_t n, int64_t z) {
  return dim3(static_cast<unsigned>(ceil_div(n, T::BN)), static_cast<unsigned>(ceil_div(m, T::BM)),
              static_cast<unsigned>(z));
}

// Calls f.template operator()<T>() for the tile kind.
template <class F>
void with_tile(TileKind kind, F&& f) {
  switch (kind) {
    case TileKind::Wide:
      return f.template operator()<Wide>();
    case TileKind::Tall:
      return f.template operator()<Tall>();
    case TileKind::Thin:
      return f.template operator()<Thin>();
  }
}

// The weight gradient's B columns are per-thread registers: Thin's 16 each would not fit.
template <class F>
void with_weight_tile(TileKind kind, F&& f) {
  if (kind == TileKind::Tall) return f.template operator()<Tall>();
  return f.template operator()<Wide>();
}

PhaseInfo phase_info(const ConvShape& s, int64_t p) {
  const ConvPhase c = conv_transpose_phase(s, p);
  PhaseInfo i;
  i.ry = static_cast<int>(c.ry);
  i.rx = static_cast<int>(c.rx);
  i.taps_h = static_cast<int>(c.taps_h);
  i.taps_w = static_cast<int>(c.taps_w);
  i.y0 = static_cast<int>(c.y0);
  i.x0 = static_cast<int>(c.x0);
  i.rows = static_cast<int>(c.rows);
  i.cols = static_cast<int>(c.cols);
  i.qy0 = static_cast<int>(c.qy0);
  i.qx0 = static_cast<int>(c.qx0);
  i.div_taps = FastDiv(static_cast<uint32_t>(std::max(i.taps_h * i.taps_w, 1)));
  i.div_taps_w = FastDiv(static_cast<uint32_t>(std::max(i.taps_w, 1)));
  i.div_pixels = FastDiv(static_cast<uint32_t>(std::max(i.rows * i.cols, 1)));
  i.div_cols = FastDiv(static_cast<uint32_t>(std::max(i.cols, 1)));
  return i;
}

struct WeightSplit {
  TileKind tile;
  int64_t splits;
  int64_t split_len;  // a multiple of kBK
};

// Depends on the shape only, so the workspace size and the summation order (hence the bits of
// the result) are the same on every device.
WeightSplit weight_split(const ConvShape& s, ConvTile forced, const char* op) {
  const int64_t m = s.out_c / s.groups, n = s.in_c / s.groups * s.kh * s.kw;
  const int64_t k = s.batch * s.out_h * s.out_w;
  GE_CHECK(forced != ConvTile::Thin, op, ": expected tile Auto, Wide or Tall, got Thin");
  WeightSplit w;
  w.tile = forced == ConvTile::Wide   ? TileKind::Wide
           : forced == ConvTile::Tall ? TileKind::Tall
           : m >= Tall::BM            ? TileKind::Tall
                                      : TileKind::Wide;
  const int64_t bm = w.tile == TileKind::Tall ? Tall::BM : Wide::BM;
  const int64_t tiles = ceil_div(m, bm) * ceil_div(n, Wide::BN) * s.groups;
  const int64_t numel = s.out_c * n;
  int64_t splits = std::min(ceil_div(2 * kSMs, tiles), ceil_div(k, kMinSplitK));
  splits = std::min({splits, kMaxGridYZ / s.groups, kIntMax / std::max<int64_t>(numel, 1)});
  splits = std::max<int64_t>(splits, 1);
  w.split_len = ceil_div(ceil_div(std::max<int64_t>(k, 1), splits), kBK) * kBK;
  w.splits = ceil_div(std::max<int64_t>(k, 1), w.split_len);
  return w;
}

}  // namespace

void conv2d_forward(const ConvShape& s, const float* x, const float* w, const ConvEpilogue& e,
                    float* y, Stream stream, ConvTile tile) {
  const char* op = "conv2d_forward(cuda)";
  check_conv_shape(s, op);
  check_epilogue(e, op);
  check_prelu_epilogue(e, op, true);
  check_int_range(s, op);
  if (s.batch * s.out_c * s.out_h * s.out_w == 0) return;
  const int64_t m = s.out_c / s.groups, n = s.batch * s.out_h * s.out_w;
  const int64_t k = s.in_c / s.groups * s.kh * s.kw;
  GE_CHECK(y != nullptr && (k == 0 || (x != nullptr && w != nullptr)), op,
           ": expected non-null x, w and y");
  GE_CHECK(s.groups <= kMaxGridYZ, op, ": expected groups <= ", kMaxGridYZ, ", got ", s.groups);
  const Geo g = make_geo(s);
  const bool vec_a = k % 4 == 0 && aligned16(w);
  const bool vec_out = s.out_h * s.out_w % 4 == 0 && aligned16(y);
  with_tile(pick_tile(tile, m, n, s.groups), [&]<class T>() {
    GE_LAUNCH((conv2d_forward_kernel<T>), grid_of<T>(m, n, s.groups), kThreads, T::kSmemBytes,
              stream, g, x, w, e, y, vec_a, vec_out);
  });
}

void conv_transpose2d_forward(const ConvShape& s, const float* y, const float* w,
                              const ConvEpilogue& e, float* x, Stream stream, ConvTile tile) {
  const char* op = "conv_transpose2d_forward(cuda)";
  check_conv_shape(s, op);
  check_epilogue(e, op);
  check_prelu_epilogue(e, op, false);
  check_int_range(s, op);
  if (s.batch * s.in_c * s.in_h * s.in_w == 0) return;
  GE_CHECK(x != nullptr && (s.out_c == 0 || (y != nullptr && w != nullptr)), op,
           ": expected non-null y, w and x");
  const Geo g = make_geo(s);
  const int64_t m = s.in_c / s.groups;
  const int64_t phases = s.stride_h * s.stride_w;
  const int64_t per_launch = std::min<int64_t>(kMaxPhases, kMaxGridYZ / s.groups);
  GE_CHECK(per_launch >= 1, op, ": expected groups <= ", kMaxGridYZ, ", got ", s.groups);
  // Stride 1 has one phase covering every pixel in order: rows of the output stay contiguous.
  const bool vec_out = phases == 1 && s.in_h * s.in_w % 4 == 0 && aligned16(x);
  for (int64_t first = 0; first < phases; first += per_launch) {
    PhaseTable table{};
    table.count = static_cast<int>(std::min(per_launch, phases - first));
    int64_t n_max = 0;
    for (int i = 0; i < table.count; ++i) {
      table.p[i] = phase_info(s, first + i);
      n_max = std::max<int64_t>(n_max, s.batch * table.p[i].rows * table.p[i].cols);
    }
    if (n_max == 0) continue;
    const int64_t z = table.count * s.groups;
    with_tile(pick_tile(tile, m, n_max, z), [&]<class T>() {
      GE_LAUNCH((conv_transpose2d_kernel<T>), grid_of<T>(m, n_max, z), kThreads, T::kSmemBytes,
                stream, g, table, y, w, e, x, vec_out);
    });
  }
}

int64_t conv2d_weight_workspace_floats(const ConvShape& s, ConvTile tile) {
  const char* op = "conv2d_weight_workspace_floats(cuda)";
  check_conv_shape(s, op);
  const int64_t numel = s.out_c * (s.in_c / s.groups) * s.kh * s.kw;
  const WeightSplit w = weight_split(s, tile, op);
  return w.splits > 1 ? w.splits * numel : 0;
}

void conv2d_weight(const ConvShape& s, const float* x, const float* dy, float* dw, float* workspace,
                   Stream stream, ConvTile tile) {
  const char* op = "conv2d_weight(cuda)";
  check_conv_shape(s, op);
  check_int_range(s, op);
  const int64_t m = s.out_c / s.groups, n = s.in_c / s.groups * s.kh * s.kw;
  const int64_t numel = s.out_c * n;
  if (numel == 0) return;
  const int64_t k = s.batch * s.out_h * s.out_w;
  GE_CHECK(dw != nullptr && (k == 0 || (x != nullptr && dy != nullptr)), op,
           ": expected non-null x, dy and dw");
  GE_CHECK(k <= kIntMax, op, ": expected batch * out_h * out_w < 2^31, got ", k);
  const WeightSplit split = weight_split(s, tile, op);
  GE_CHECK(split.splits == 1 || workspace != nullptr, op, ": expected a workspace of ",
           split.splits * numel, " floats (conv2d_weight_workspace_floats), got null");
  GE_CHECK(s.groups * split.splits <= kMaxGridYZ, op, ": expected groups <= ", kMaxGridYZ, ", got ",
           s.groups);
  const Geo g = make_geo(s);
  float* out = split.splits > 1 ? workspace : dw;
  const bool vec_out = n % 4 == 0 && aligned16(out);
  const int64_t z = s.groups * split.splits;
  with_weight_tile(split.tile, [&]<class T>() {
    GE_LAUNCH((conv2d_weight_kernel<T>), grid_of<T>(m, n, z), kThreads, T::kSmemBytes, stream, g, x,
              dy, out, static_cast<int>(split.split_len), vec_out);
  });
  if (split.splits > 1) {
    GE_LAUNCH(sum_splits_kernel, grid_for(numel), kBlock, 0, stream, workspace, dw, numel,
              static_cast<int>(split.splits));
  }
}

}  // namespace ge::kernels::cuda
