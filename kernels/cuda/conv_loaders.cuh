#pragma once
// What the implicit-GEMM convolutions (conv.cu) read: the problem's sizes as int (Geo), the stride
// phases of a transposed convolution, and one loader per problem, which knows where each element
// of a K step's A and B tiles comes from (null where the GEMM has a zero: padding, or past M, N or
// K) and moves it either through registers (fetch, then stash: the FP32 tiles) or with cp.async
// straight into shared memory (issue: the tensor-core pipeline).
#include <cstdint>

#include "common/grid.h"
#include "cuda/conv_tiles.cuh"
#include "ganengine/kernels/conv.h"

namespace ge::kernels::cuda::conv_detail {

// The sizes the kernels index with, as int (the launchers check every index fits).
struct Geo {
  int batch, in_c, in_h, in_w, out_c, out_h, out_w, kh, kw, sh, sw, ph, pw, groups;
  int cg, og, in_hw, out_hw, khw;
  FastDiv div_khw, div_kw, div_out_hw, div_out_w;
};

inline Geo make_geo(const ConvShape& s) {
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

constexpr int kMaxPhases = 16;  // phases per launch; larger strides loop

struct PhaseTable {
  PhaseInfo p[kMaxPhases];
  int count;
};

// *src, or 0 for a null src.
__device__ __forceinline__ float load_or_zero(const float* src) {
  return src != nullptr ? *src : 0.f;
}

// cp.async of one float from src into dst, or a zero for a null src (the copy then reads
// nothing; `base` is only a valid address to name).
__device__ __forceinline__ void copy_or_zero(float* dst, const float* src, const float* base) {
  cp_async4(dst, src != nullptr ? src : base, src != nullptr ? 4 : 0);
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
      GE_UNROLL
      for (int r = 0; r < T::kA / 4; ++r) {
        const int q = tid + kThreads * r, m = q / (T::BK / 4), k = q % (T::BK / 4) * 4;
        float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
        if (m0 + m < M && k0 + k < K) v = load4(w + m * K + k0 + k);
        unpack4(v, ra + 4 * r);
      }
    } else {
      GE_UNROLL
      for (int r = 0; r < T::kA; ++r) {
        const int e = tid + kThreads * r, m = e / T::BK, k = e % T::BK;
        ra[r] = m0 + m < M && k0 + k < K ? w[m * K + k0 + k] : 0.f;
      }
    }
    GE_UNROLL
    for (int r = 0; r < T::kB; ++r)
      rb[r] = load_or_zero(b_src(k_of<T::BN>(k0, tid, r)));
  }

  // The input element of B[k][this thread's column], null where the GEMM has a zero (padding,
  // or past K or N).
  __device__ __forceinline__ const float* b_src(int k) const {
    if (!n_ok || k >= K) return nullptr;
    int ci, rem, ki, kj;
    g.div_khw.divmod(k, ci, rem);
    g.div_kw.divmod(rem, ki, kj);
    if (!inside(iy0 + ki, g.in_h) || !inside(ix0 + kj, g.in_w)) return nullptr;
    return x + xbase + ci * g.in_hw + ki * g.in_w + kj;
  }

  // One K step's copies into a stage (the tensor-core pipeline): A element e = tid + 256 r of
  // the BM x BK tile is row e / BK, column e % BK (consecutive threads read along a weight row).
  __device__ __forceinline__ void issue(float* As, float* Bs, int k0) const {
    GE_UNROLL
    for (int r = 0; r < T::kA; ++r) {
      const int e = tid + kThreads * r, m = e / T::BK, k = e % T::BK;
      const bool ok = m0 + m < M && k0 + k < K;
      copy_or_zero(As + k * T::LDA + m, ok ? w + m * K + k0 + k : nullptr, w);
    }
    GE_UNROLL
    for (int r = 0; r < T::kB; ++r) {
      const int k = k_of<T::BN>(k0, tid, r);
      copy_or_zero(Bs + (k - k0) * T::LDB + n_col, b_src(k), x);
    }
  }

  __device__ __forceinline__ void stash(float* As, float* Bs) const {
    if (T::BM >= 64 && vec_a) {
      GE_UNROLL
      for (int r = 0; r < T::kA / 4; ++r) {
        const int q = tid + kThreads * r, m = q / (T::BK / 4), k = q % (T::BK / 4) * 4;
        GE_UNROLL
        for (int c = 0; c < 4; ++c)
          As[(k + c) * T::LDA + m] = ra[4 * r + c];
      }
    } else {
      GE_UNROLL
      for (int r = 0; r < T::kA; ++r) {
        const int e = tid + kThreads * r;
        As[e % T::BK * T::LDA + e / T::BK] = ra[r];
      }
    }
    stash_k_major<T::BN, T::LDB>(Bs, rb, tid, n_col);
  }
};

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

  // The element of slot r's K index k = (o, t, u) as src(o, t, u) gives it (null: a zero);
  // null when !ok or k >= K.
  template <int span, class Src>
  __device__ __forceinline__ const float* tap_src(int k0, int r, bool ok, Src&& src) const {
    const int k = k_of<span>(k0, tid, r);
    if (!ok || k >= K) return nullptr;
    int o, t, u;
    ph.tap(k, o, t, u);
    return src(o, t, u);
  }
  __device__ __forceinline__ const float* a_src(int k0, int r) const {
    return tap_src<T::BM>(k0, r, m_ok, [&](int o, int t, int u) {
      return w + wbase + o * g.cg * g.khw + t * g.sh * g.kw + u * g.sw;
    });
  }
  __device__ __forceinline__ const float* b_src(int k0, int r) const {
    return tap_src<T::BN>(k0, r, n_ok, [&](int o, int t, int u) -> const float* {
      const bool in = inside(qy - t, g.out_h) && inside(qx - u, g.out_w);
      return in ? y + ybase + o * g.out_hw - t * g.out_w - u : nullptr;
    });
  }

  __device__ __forceinline__ void fetch(int k0) {
    GE_UNROLL
    for (int r = 0; r < T::kA; ++r)
      ra[r] = load_or_zero(a_src(k0, r));
    GE_UNROLL
    for (int r = 0; r < T::kB; ++r)
      rb[r] = load_or_zero(b_src(k0, r));
  }

  __device__ __forceinline__ void issue(float* As, float* Bs, int k0) const {
    GE_UNROLL
    for (int r = 0; r < T::kA; ++r)
      copy_or_zero(As + k_of<T::BM>(0, tid, r) * T::LDA + m_row, a_src(k0, r), w);
    GE_UNROLL
    for (int r = 0; r < T::kB; ++r)
      copy_or_zero(Bs + k_of<T::BN>(0, tid, r) * T::LDB + n_col, b_src(k0, r), y);
  }

  __device__ __forceinline__ void stash(float* As, float* Bs) const {
    stash_k_major<T::BM, T::LDA>(As, ra, tid, m_row);
    stash_k_major<T::BN, T::LDB>(Bs, rb, tid, n_col);
  }
};

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
    GE_UNROLL
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

  // Where this thread's K index k0 + kk reads A and B: the sample and pixel it decodes to.
  struct Step {
    bool k_ok;
    int abase, xbase, iy0, ix0;
  };
  __device__ __forceinline__ Step step(int k0) const {
    const int k = k0 + kk;
    Step st{k < k_end, 0, 0, 0, 0};
    int nb = 0, pix = 0, oy = 0, ox = 0;
    if (st.k_ok) {
      g.div_out_hw.divmod(k, nb, pix);
      g.div_out_w.divmod(pix, oy, ox);
    }
    st.abase = (nb * g.out_c + grp * g.og + m0) * g.out_hw + pix;
    st.iy0 = oy * g.sh - g.ph;
    st.ix0 = ox * g.sw - g.pw;
    st.xbase = (nb * g.in_c + grp * g.cg) * g.in_hw + st.iy0 * g.in_w + st.ix0;
    return st;
  }
  // A row m = tid / BK + (256 / BK) r and B column slot r of the step (null: a zero).
  __device__ __forceinline__ const float* a_src(const Step& st, int r) const {
    const int m = tid / T::BK + kThreads / T::BK * r;
    return st.k_ok && m0 + m < g.og ? dy + st.abase + m * g.out_hw : nullptr;
  }
  __device__ __forceinline__ const float* b_src(const Step& st, int r) const {
    const bool ok = st.k_ok && b_coff[r] >= 0 && inside(st.iy0 + b_ki[r], g.in_h) &&
                    inside(st.ix0 + b_kj[r], g.in_w);
    return ok ? x + st.xbase + b_coff[r] : nullptr;
  }

  __device__ __forceinline__ void fetch(int k0) {
    const Step st = step(k0);
    GE_UNROLL
    for (int r = 0; r < T::kA; ++r)
      ra[r] = load_or_zero(a_src(st, r));
    GE_UNROLL
    for (int r = 0; r < T::kB; ++r)
      rb[r] = load_or_zero(b_src(st, r));
  }

  __device__ __forceinline__ void issue(float* As, float* Bs, int k0) const {
    const Step st = step(k0);
    GE_UNROLL
    for (int r = 0; r < T::kA; ++r)
      copy_or_zero(As + kk * T::LDA + tid / T::BK + kThreads / T::BK * r, a_src(st, r), dy);
    GE_UNROLL
    for (int r = 0; r < T::kB; ++r)
      copy_or_zero(Bs + kk * T::LDB + tid / T::BK + kThreads / T::BK * r, b_src(st, r), x);
  }

  __device__ __forceinline__ void stash(float* As, float* Bs) const {
    GE_UNROLL
    for (int r = 0; r < T::kA; ++r)
      As[kk * T::LDA + tid / T::BK + kThreads / T::BK * r] = ra[r];
    GE_UNROLL
    for (int r = 0; r < T::kB; ++r)
      Bs[kk * T::LDB + tid / T::BK + kThreads / T::BK * r] = rb[r];
  }
};

}  // namespace ge::kernels::cuda::conv_detail
