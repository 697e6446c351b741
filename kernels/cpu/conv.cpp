// CPU convolutions: im2col/col2im around OpenBLAS GEMMs, batch split over threads.
//
// Each thread takes a contiguous range of samples and walks it in chunks of a few samples, so
// that the chunk's column matrix [C*kh*kw, chunk*L] stays in its L2 and its GEMM is long enough
// to run near peak; the epilogue (bias + activation) is applied while the chunk's output is
// still in cache. Inside the parallel region each GEMM runs on its own thread; when the batch
// gives a single thread the work, cpu::gemm spreads each GEMM over the team instead.
#include "ganengine/kernels/conv.h"

#include <algorithm>
#include <climits>
#include <cstdint>

#include "common/bias_act.h"
#include "common/im2col.h"
#include "cpu/parallel.h"
#include "ganengine/error.h"
#include "ganengine/kernels/im2col.h"
#include "ganengine/kernels/matmul.h"

namespace ge::kernels {

void check_conv_shape(const ConvShape& s, const char* op) {
  GE_CHECK(s.batch >= 0, op, ": expected batch >= 0, got ", s.batch);
  GE_CHECK(s.in_c >= 1 && s.out_c >= 1, op, ": expected at least one channel, got in_c ", s.in_c,
           ", out_c ", s.out_c);
  GE_CHECK(s.kh >= 1 && s.kw >= 1, op, ": expected a positive kernel size, got ", s.kh, "x", s.kw);
  GE_CHECK(s.stride_h >= 1 && s.stride_w >= 1, op, ": expected a positive stride, got ", s.stride_h,
           "x", s.stride_w);
  GE_CHECK(s.pad_h >= 0 && s.pad_w >= 0, op, ": expected non-negative padding, got ", s.pad_h, "x",
           s.pad_w);
  GE_CHECK(s.groups >= 1 && s.in_c % s.groups == 0 && s.out_c % s.groups == 0, op,
           ": expected groups >= 1 dividing in_c ", s.in_c, " and out_c ", s.out_c, ", got ",
           s.groups);
  GE_CHECK(s.in_h >= 1 && s.in_w >= 1, op, ": expected a non-empty image, got ", s.in_h, "x",
           s.in_w);
  GE_CHECK(s.in_h + 2 * s.pad_h >= s.kh && s.in_w + 2 * s.pad_w >= s.kw, op,
           ": expected the padded image ", s.in_h + 2 * s.pad_h, "x", s.in_w + 2 * s.pad_w,
           " to be at least the kernel ", s.kh, "x", s.kw);
  // Floor division also accepts the conv_transpose2d sizes that carry output_padding: they
  // exceed the inverted size by less than the stride.
  const int64_t oh = (s.in_h + 2 * s.pad_h - s.kh) / s.stride_h + 1;
  const int64_t ow = (s.in_w + 2 * s.pad_w - s.kw) / s.stride_w + 1;
  GE_CHECK(s.out_h == oh && s.out_w == ow, op, ": expected output size ", oh, "x", ow,
           " = (in + 2*pad - k) / stride + 1 for input ", s.in_h, "x", s.in_w, ", kernel ", s.kh,
           "x", s.kw, ", stride ", s.stride_h, "x", s.stride_w, ", padding ", s.pad_h, "x", s.pad_w,
           ", got ", s.out_h, "x", s.out_w);
}

void check_prelu_epilogue(const ConvEpilogue& e, const char* op, bool prelu_supported) {
  GE_CHECK(e.pre_activation == nullptr || e.prelu != nullptr, op,
           ": expected pre_activation only with a prelu epilogue");
  if (e.prelu == nullptr) return;
  GE_CHECK(prelu_supported, op, ": expected no prelu epilogue (conv2d_forward's only)");
  GE_CHECK(e.act.act == BiasActFn::Linear && e.act.gain == 1.f && e.act.clamp < 0.f, op,
           ": expected the identity activation with a prelu epilogue, got ", name(e.act.act),
           " gain ", e.act.gain, " clamp ", e.act.clamp);
}

namespace cpu {
namespace {

enum class Pass { Forward, Transpose, Weight };

// Column budget of one chunk: a GEMM of this many columns runs near OpenBLAS's peak, and
// kColBudget floats of columns still fit a core's L2 next to the GEMM's packed panels.
constexpr int64_t kTargetCols = 256;
constexpr int64_t kColBudget = int64_t{1} << 18;
// Below this many multiply-adds a parallel region costs more than it saves.
constexpr int64_t kParallelMacs = int64_t{1} << 21;

// How one call splits its work; conv_workspace_floats and the launchers derive it alike.
struct Plan {
  int64_t cin_g = 0, cout_g = 0;
  int64_t k = 0, l = 0;  // GEMM depth (cin_g * kh * kw) and spatial size (out_h * out_w)
  int64_t chunk = 1;     // samples per chunk
  int threads = 1;
  int64_t col = 0, panel = 0, partial = 0;  // floats per thread
  int64_t per_thread() const { return col + panel + partial; }
};

Plan make_plan(const ConvShape& s, Pass pass) {
  Plan p;
  p.cin_g = s.in_c / s.groups;
  p.cout_g = s.out_c / s.groups;
  p.k = p.cin_g * s.kh * s.kw;
  p.l = s.out_h * s.out_w;
  if (s.batch == 0) return p;
  const int64_t macs = s.batch * s.out_c * p.k * p.l;
  p.threads =
      macs >= kParallelMacs ? static_cast<int>(std::min<int64_t>(max_threads(), s.batch)) : 1;
  const int64_t per_thread = (s.batch + p.threads - 1) / p.threads;
  // Samples are batched only while one sample's GEMM is short of the target: a chunk of several
  // costs a gather or scatter of its [cout_g, chunk * L] operand.
  const int64_t want = std::max<int64_t>(1, kTargetCols / p.l);
  const int64_t fits = std::max<int64_t>(1, kColBudget / (p.k * p.l));
  const int64_t largest = std::min({want, fits, per_thread});
  const int64_t chunks = (per_thread + largest - 1) / largest;
  p.chunk = (per_thread + chunks - 1) / chunks;  // the same count, samples spread evenly
  p.col = p.k * p.chunk * p.l;
  // A chunk of several samples needs its [cout_g, chunk * L] operand gathered or scattered.
  p.panel = p.chunk > 1 ? p.cout_g * p.chunk * p.l : 0;
  // Weight gradients: threads other than the first accumulate into their own copy.
  p.partial = pass == Pass::Weight && p.threads > 1 ? s.out_c * p.k : 0;
  return p;
}

// Row-major C[m x n] = op(A) op(B) + beta C; the sizes fit int (check_sizes).
void sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  GemmArgs g;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m, g.n = n, g.k = k;
  g.a = a, g.lda = lda;
  g.b = b, g.ldb = ldb;
  g.beta = beta;
  g.c = c, g.ldc = ldc;
  gemm(g);
}

bool is_identity(const ConvEpilogue& e) {
  return e.bias == nullptr && e.prelu == nullptr && e.act.act == BiasActFn::Linear &&
         e.act.gain == 1.f && e.act.clamp < 0.f;
}

// f over n floats in blocks of 8: a fixed-width inner loop is what -O2 vectorizes. In place
// (src == dst) the loop reads and writes through one pointer, otherwise through two that do
// not alias.
template <typename F>
void map_floats(const float* src, float* dst, int64_t n, F f) {
  auto run = [&](const float* __restrict in, float* __restrict out) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int64_t u = 0; u < 8; ++u)
        out[i + u] = f(in[i + u]);
    for (; i < n; ++i)
      out[i] = f(in[i]);
  };
  if (src != dst) {
    run(src, dst);
    return;
  }
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int64_t u = 0; u < 8; ++u)
      dst[i + u] = f(dst[i + u]);
  for (; i < n; ++i)
    dst[i] = f(dst[i]);
}

// dst[i] = epilogue(src[i] + bias) for one channel's row; src may equal dst. The piecewise-linear
// activations are bias_act_apply<Forward> rewritten so that they vectorize (the same values up
// to the rounding of alpha * gain); tanh and sigmoid call libm per element either way.
template <BiasActFn A>
void epilogue_row(const float* src, float* dst, int64_t n, float bias, const BiasActParams& p) {
  if constexpr (A == BiasActFn::Tanh || A == BiasActFn::Sigmoid) {
    const BiasActParams q = p;
    map_floats(src, dst, n, [&](float v) {
      return bias_act_apply<BiasActMode::Forward, A>(v, bias, 0.f, 0.f, q);
    });
  } else {
    const float gain = p.gain, clamp = p.clamp;
    const float low = A == BiasActFn::LeakyRelu ? p.alpha * p.gain : 0.f;
    auto act = [=](float v) {
      const float u = v + bias;
      // One product after a select (of operands, never of results) is what if-converts into
      // vector blends; NaN fails u < 0 and stays NaN, as in bias_act.
      if constexpr (A == BiasActFn::Linear) return u * gain;
      if constexpr (A == BiasActFn::Relu) return (u < 0.f ? 0.f : u) * gain;
      return u * (u < 0.f ? low : gain);
    };
    if (clamp < 0.f) {
      map_floats(src, dst, n, act);
    } else {
      map_floats(src, dst, n, [=](float v) {
        const float y = act(v);
        return y > clamp ? clamp : (y < -clamp ? -clamp : y);
      });
    }
  }
}

// z = src + bias into pre (when set), dst = z > 0 ? z : slope * z, for one channel's row; src
// may equal dst.
void prelu_row(const float* src, float* dst, float* pre, int64_t n, float bias, float slope) {
  if (pre != nullptr) {
    map_floats(src, pre, n, [=](float v) { return v + bias; });
    src = pre;
    bias = 0.f;
  }
  map_floats(src, dst, n, [=](float v) {
    const float z = v + bias;
    return z * (z > 0.f ? 1.f : slope);
  });
}

// Calls f.template operator()<A>() for the epilogue's activation.
template <typename F>
void dispatch_act(BiasActFn act, F&& f) {
  dispatch_bias_act(BiasActMode::Forward, act, [&]<BiasActMode M, BiasActFn A>() {
    if constexpr (M == BiasActMode::Forward) f.template operator()<A>();
  });
}

// One chunk of a thread's share: samples [n0, n0 + count), `first` when it opens the share.
struct Chunk {
  int thread;
  int64_t n0, count;
  bool first;
  float* ws;  // this thread's workspace
};

// Runs f(Chunk) over the plan's sample ranges, each thread walking its contiguous share in
// chunks. Returns the team size that ran.
template <typename F>
int for_each_chunk(const ConvShape& s, const Plan& p, float* workspace, F&& f) {
  int team_used = 1;
  parallel_team(p.threads, [&](int t, int team) {
    if (t == 0) team_used = team;
    const int64_t begin = s.batch * t / team, end = s.batch * (t + 1) / team;
    float* ws = workspace + t * p.per_thread();
    for (int64_t n0 = begin; n0 < end; n0 += p.chunk)
      f(Chunk{t, n0, std::min(p.chunk, end - n0), n0 == begin, ws});
  });
  return team_used;
}

void check_sizes(const ConvShape& s, const Plan& p, const char* op) {
  for (int64_t v : {p.k, p.l * p.chunk, p.cout_g, s.out_c * p.k}) {
    GE_CHECK(v <= INT_MAX, op, ": expected GEMM sizes <= ", INT_MAX, ", got ", v);
  }
}

// im2col of samples [n0, n0 + count), group g, into col [k, count * l].
void gather_columns(const ConvShape& s, const Plan& p, const Im2colArgs& a, const float* x,
                    int64_t n0, int64_t count, int64_t g, float* col) {
  const int64_t plane = s.in_h * s.in_w, taps = s.kh * s.kw, ld = count * p.l;
  for (int64_t j = 0; j < count; ++j) {
    const float* img = x + ((n0 + j) * s.in_c + g * p.cin_g) * plane;
    for (int64_t c = 0; c < p.cin_g; ++c)
      im2col_plane(a, img + c * plane, col + c * taps * ld + j * p.l, ld);
  }
}

// panel [cout_g, count * l] = t[n0 + j, g * cout_g + o, :] over the chunk's samples.
void gather_panel(const ConvShape& s, const Plan& p, const float* t, int64_t n0, int64_t count,
                  int64_t g, float* panel) {
  for (int64_t o = 0; o < p.cout_g; ++o) {
    for (int64_t j = 0; j < count; ++j) {
      const float* src = t + ((n0 + j) * s.out_c + g * p.cout_g + o) * p.l;
      std::copy(src, src + p.l, panel + (o * count + j) * p.l);
    }
  }
}

}  // namespace

int64_t conv_workspace_floats(const ConvShape& s) {
  check_conv_shape(s, "conv_workspace_floats");
  int64_t most = 0;
  for (Pass pass : {Pass::Forward, Pass::Transpose, Pass::Weight}) {
    const Plan p = make_plan(s, pass);
    if (s.batch > 0) most = std::max(most, p.threads * p.per_thread());
  }
  return most;
}

void conv2d_forward(const ConvShape& s, const float* x, const float* w, const ConvEpilogue& e,
                    float* y, float* workspace) {
  check_conv_shape(s, "conv2d");
  if (s.batch == 0) return;
  GE_CHECK(x != nullptr && w != nullptr && y != nullptr && workspace != nullptr,
           "conv2d: expected non-null x, w, y and workspace");
  check_prelu_epilogue(e, "conv2d", true);
  const Plan p = make_plan(s, Pass::Forward);
  check_sizes(s, p, "conv2d");
  const Im2colArgs a = plane_im2col_args(s);
  const bool identity = is_identity(e);
  const BiasActParams act = e.act;
  // One output row (sample n, channel c) through the epilogue, from src.
  const auto finish = [&]<BiasActFn A>(const float* src, int64_t n, int64_t c) {
    const float b = e.bias != nullptr ? e.bias[c] : 0.f;
    float* dst = y + (n * s.out_c + c) * p.l;
    if (e.prelu != nullptr) {
      float* pre =
          e.pre_activation != nullptr ? e.pre_activation + (n * s.out_c + c) * p.l : nullptr;
      prelu_row(src, dst, pre, p.l, b, e.prelu[c]);
    } else {
      epilogue_row<A>(src, dst, p.l, b, act);
    }
  };
  dispatch_act(e.act.act, [&]<BiasActFn A>() {
    for_each_chunk(s, p, workspace, [&](const Chunk& ch) {
      const int64_t n0 = ch.n0, count = ch.count;
      float* col = ch.ws;
      float* panel = ch.ws + p.col;
      for (int64_t g = 0; g < s.groups; ++g) {
        gather_columns(s, p, a, x, n0, count, g, col);
        const float* wg = w + g * p.cout_g * p.k;
        float* yg = y + (n0 * s.out_c + g * p.cout_g) * p.l;
        if (count == 1) {
          // The GEMM writes the sample's output directly; the epilogue follows in cache.
          sgemm(false, false, p.cout_g, p.l, p.k, wg, p.k, col, p.l, 0.f, yg, p.l);
          if (identity) continue;
          for (int64_t o = 0; o < p.cout_g; ++o)
            finish.template operator()<A>(yg + o * p.l, n0, g * p.cout_g + o);
          continue;
        }
        const int64_t ld = count * p.l;
        sgemm(false, false, p.cout_g, ld, p.k, wg, p.k, col, ld, 0.f, panel, ld);
        for (int64_t j = 0; j < count; ++j) {
          for (int64_t o = 0; o < p.cout_g; ++o)
            finish.template operator()<A>(panel + o * ld + j * p.l, n0 + j, g * p.cout_g + o);
        }
      }
    });
  });
}

void conv_transpose2d_forward(const ConvShape& s, const float* y, const float* w,
                              const ConvEpilogue& e, float* x, float* workspace) {
  check_conv_shape(s, "conv_transpose2d");
  if (s.batch == 0) return;
  GE_CHECK(x != nullptr && w != nullptr && y != nullptr && workspace != nullptr,
           "conv_transpose2d: expected non-null y, w, x and workspace");
  check_prelu_epilogue(e, "conv_transpose2d", false);
  const Plan p = make_plan(s, Pass::Transpose);
  check_sizes(s, p, "conv_transpose2d");
  const Im2colArgs a = plane_im2col_args(s);
  const bool act_identity =
      e.act.act == BiasActFn::Linear && e.act.gain == 1.f && e.act.clamp < 0.f;
  const BiasActParams act = e.act;
  const int64_t plane = s.in_h * s.in_w, taps = s.kh * s.kw;
  dispatch_act(e.act.act, [&]<BiasActFn A>() {
    for_each_chunk(s, p, workspace, [&](const Chunk& ch) {
      const int64_t n0 = ch.n0, count = ch.count;
      float* col = ch.ws;
      float* panel = ch.ws + p.col;
      const int64_t ld = count * p.l;
      for (int64_t g = 0; g < s.groups; ++g) {
        const float* rhs = y + (n0 * s.out_c + g * p.cout_g) * p.l;
        if (count > 1) {
          gather_panel(s, p, y, n0, count, g, panel);
          rhs = panel;
        }
        sgemm(true, false, p.k, ld, p.cout_g, w + g * p.cout_g * p.k, p.k, rhs, ld, 0.f, col, ld);
        for (int64_t j = 0; j < count; ++j) {
          for (int64_t c = 0; c < p.cin_g; ++c) {
            const int64_t ch = g * p.cin_g + c;
            float* dst = x + ((n0 + j) * s.in_c + ch) * plane;
            const float b = e.bias != nullptr ? e.bias[ch] : 0.f;
            std::fill(dst, dst + plane, b);
            col2im_plane_add(a, col + c * taps * ld + j * p.l, ld, dst);
            if (!act_identity) epilogue_row<A>(dst, dst, plane, 0.f, act);
          }
        }
      }
    });
  });
}

void conv2d_weight(const ConvShape& s, const float* x, const float* dy, float* dw,
                   float* workspace) {
  check_conv_shape(s, "conv2d_weight");
  GE_CHECK(dw != nullptr, "conv2d_weight: expected a non-null dw");
  const Plan p = make_plan(s, Pass::Weight);
  const int64_t dw_floats = s.out_c * p.k;
  if (s.batch == 0) {
    std::fill(dw, dw + dw_floats, 0.f);
    return;
  }
  GE_CHECK(x != nullptr && dy != nullptr && workspace != nullptr,
           "conv2d_weight: expected non-null x, dy and workspace");
  check_sizes(s, p, "conv2d_weight");
  const Im2colArgs a = plane_im2col_args(s);
  const int team = for_each_chunk(s, p, workspace, [&](const Chunk& ch) {
    float* col = ch.ws;
    float* panel = ch.ws + p.col;
    float* acc = ch.thread == 0 ? dw : ch.ws + p.col + p.panel;
    const int64_t ld = ch.count * p.l;
    for (int64_t g = 0; g < s.groups; ++g) {
      gather_columns(s, p, a, x, ch.n0, ch.count, g, col);
      const float* lhs = dy + (ch.n0 * s.out_c + g * p.cout_g) * p.l;
      if (ch.count > 1) {
        gather_panel(s, p, dy, ch.n0, ch.count, g, panel);
        lhs = panel;
      }
      sgemm(false, true, p.cout_g, p.k, ld, lhs, ld, col, ld, ch.first ? 0.f : 1.f,
            acc + g * p.cout_g * p.k, p.k);
    }
  });
  if (team == 1) return;
  // The threads' partial sums, added in thread order so that the result does not depend on
  // which thread finished first.
  constexpr int64_t kBlock = int64_t{1} << 14;
  parallel_for((dw_floats + kBlock - 1) / kBlock, dw_floats >= kParallelGrain, [&](int64_t b) {
    const int64_t begin = b * kBlock, end = std::min(dw_floats, begin + kBlock);
    for (int t = 1; t < team; ++t) {
      const float* part = workspace + t * p.per_thread() + p.col + p.panel;
      for (int64_t i = begin; i < end; ++i)
        dw[i] += part[i];
    }
  });
}

}  // namespace cpu
}  // namespace ge::kernels
