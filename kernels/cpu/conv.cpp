// CPU convolutions: im2col/col2im around the kernels' own GEMM (cpu/sgemm.h), batch split over
// threads. With AVX-512, the GEMMs gather their packed panels of B straight from the image
// (forward, weight gradient) or the output (transpose, one GEMM per stride phase, without
// col2im), cpu/conv_pack.h, instead of reading an im2col buffer.
//
// The batch is cut into chunks of a few consecutive samples, so that a chunk's column matrix
// [C*kh*kw, chunk*L] stays in L2 and its GEMM is long enough to run near peak; the epilogue
// (bias + activation) is applied while the chunk's output is still in cache. The team takes
// contiguous ranges of chunks, each chunk's GEMM one call on its thread; a batch of one sample
// runs its chunk on the calling thread and cpu::gemm spreads the GEMM over the team instead.
//
// Results are bitwise identical whatever the number of threads: the chunks, and so every GEMM's
// sizes, are a function of the shape alone. Weight gradients sum over the batch: each of a
// fixed number of slots (consecutive chunks) accumulates into its own copy, and the copies are
// added in slot order, however the slots were spread over the threads.
#include "ganengine/kernels/conv.h"

#include <algorithm>
#include <climits>
#include <cstdint>

#include "common/bias_act.h"
#include "common/im2col.h"
#include "cpu/conv_pack.h"
#include "cpu/cpu_isa.h"
#include "cpu/parallel.h"
#include "cpu/sgemm.h"
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

// Column budget of one chunk: a GEMM of this many columns runs near the GEMM's peak, and
// kColBudget floats of columns still fit a core's L2 next to the GEMM's packed panels.
constexpr int64_t kTargetCols = 256;
constexpr int64_t kColBudget = int64_t{1} << 18;
// Below this many multiply-adds a parallel region costs more than it saves.
constexpr int64_t kParallelMacs = int64_t{1} << 21;
// A parallel call cuts its batch into a multiple of this many chunks, so that 2 or 4 threads
// share them evenly.
constexpr int64_t kChunkMultiple = 4;
// Weight gradients: at most this many slots, and their copies of dw (all but the first, which
// is dw itself) within kSlotBudget floats; a dw too large for two slots sums on one, its GEMMs
// spread over the team by cpu::gemm.
constexpr int64_t kMaxSlots = 4;
constexpr int64_t kSlotBudget = int64_t{1} << 22;
// A transposed convolution goes by phases when its GEMMs have this many rows (input channels
// per group) or more: each packed value of B then feeds two register tiles at least. With
// fewer (an image's 1 or 3 channels) the im2col GEMM, kh * kw times taller, runs faster even
// with its col2im.
constexpr int64_t kPhaseMinRows = 16;

// How one call splits its work: a function of the shape alone, apart from `threads`, which
// only sizes the workspace. conv_workspace_floats and the launchers derive it alike.
struct Plan {
  int64_t batch = 0;
  int64_t cin_g = 0, cout_g = 0;
  int64_t k = 0, l = 0;        // GEMM depth (cin_g * kh * kw) and spatial size (out_h * out_w)
  int64_t chunks = 1;          // chunk c holds samples [chunk_begin(c), chunk_begin(c + 1))
  int64_t chunk = 1;           // samples in the largest chunk
  bool parallel = false;       // the team takes chunks (slots), each GEMM one call on its thread
  int64_t slots = 1;           // weight gradients: slot s sums chunks [slot_begin(s), ...)
  int threads = 1;             // scratch areas in the workspace
  int64_t col = 0, panel = 0;  // scratch floats per thread
  int64_t partial = 0;         // floats per slot copy
  cpu::CpuIsa isa = cpu::CpuIsa::scalar;  // the GEMM's instruction set
  // The GEMMs pack B from the image (forward, weight) or the output (transpose, by phases),
  // cpu/conv_pack.h; the transpose's phase weights take `shared` floats after the rest.
  bool implicit = false;
  int64_t shared = 0;
  int64_t chunk_begin(int64_t c) const { return batch * c / chunks; }
  int64_t slot_begin(int64_t slot) const { return chunks * slot / slots; }
  int64_t scratch() const { return col + panel; }
  int64_t workspace() const { return threads * scratch() + (slots - 1) * partial + shared; }
  float* shared_area(float* base) const { return base + workspace() - shared; }
};

Plan make_plan(const ConvShape& s, Pass pass) {
  Plan p;
  p.isa = cpu::active_isa();
  p.batch = s.batch;
  p.cin_g = s.in_c / s.groups;
  p.cout_g = s.out_c / s.groups;
  p.k = p.cin_g * s.kh * s.kw;
  p.l = s.out_h * s.out_w;
  if (s.batch == 0) return p;
  const int64_t macs = s.batch * s.out_c * p.k * p.l;
  // Samples are batched only while one sample's GEMM is short of the target: a chunk of several
  // costs a gather or scatter of its [cout_g, chunk * L] operand.
  const int64_t want = std::max<int64_t>(1, kTargetCols / p.l);
  const int64_t fits = std::max<int64_t>(1, kColBudget / (p.k * p.l));
  const int64_t largest = std::min({want, fits, s.batch});
  p.chunks = (s.batch + largest - 1) / largest;
  if (macs >= kParallelMacs) {
    p.chunks = std::min(s.batch, (p.chunks + kChunkMultiple - 1) / kChunkMultiple * kChunkMultiple);
  }
  p.chunk = (s.batch + p.chunks - 1) / p.chunks;  // chunks differ by at most one sample
  p.parallel = macs >= kParallelMacs && p.chunks > 1;
  int64_t items = p.chunks;
  if (pass == Pass::Weight) {
    const int64_t dw_floats = s.out_c * p.k;
    p.slots = std::min({p.chunks, kMaxSlots, 1 + kSlotBudget / dw_floats});
    if (!p.parallel) p.slots = 1;
    p.parallel = p.parallel && p.slots > 1;
    p.partial = p.slots > 1 ? dw_floats : 0;
    items = p.slots;
  }
  p.threads = p.parallel ? static_cast<int>(std::min<int64_t>(max_threads(), items)) : 1;
  // The packers run a chunk's GEMM on its own thread: in a parallel plan, or in a product too
  // small to spread.
  p.implicit =
      p.isa == cpu::CpuIsa::avx512 && cpu::sgemm_panel_width(p.isa) == cpu::kConvPackWidth &&
      (p.parallel || macs < kParallelMacs) &&
      (pass == Pass::Transpose ? p.cin_g >= kPhaseMinRows && cpu::conv_phase_fits(s, p.chunk)
                               : cpu::conv_pack_fits(s, p.chunk));
  if (p.implicit && pass == Pass::Transpose) {
    // A phase's product [cin_g, chunk * rows * cols] of the phase, then scattered.
    const int64_t rows = (s.in_h + s.stride_h - 1) / s.stride_h;
    const int64_t cols = (s.in_w + s.stride_w - 1) / s.stride_w;
    p.col = p.cin_g * p.chunk * rows * cols;
    p.shared = cpu::conv_phase_weights_floats(s);
    return p;
  }
  // The im2col buffer; the packers read the image instead.
  p.col = p.implicit ? 0 : p.k * p.chunk * p.l;
  // A chunk of several samples needs its [cout_g, chunk * L] operand gathered or scattered.
  p.panel = p.chunk > 1 ? p.cout_g * p.chunk * p.l : 0;
  return p;
}

// Row-major C[m x n] = op(A) op(B) + beta C; the sizes fit int (check_sizes). A plan parallel
// over chunks runs each product whole on its thread, otherwise cpu::gemm spreads a large product
// over the team.
void sgemm(const Plan& p, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (p.parallel) {
    cpu::sgemm(p.isa, ta, tb, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
    return;
  }
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

// f(i, scratch) for every i in [0, items): each thread of the team (when the plan is parallel)
// takes a contiguous range and its own scratch area of the workspace. Which thread runs an item
// never changes what the item computes.
template <typename F>
void for_each_item(const Plan& p, int64_t items, float* workspace, F&& f) {
  parallel_team(p.parallel ? p.threads : 1, [&](int t, int team) {
    float* scratch = workspace + t * p.scratch();
    for (int64_t i = items * t / team; i < items * (t + 1) / team; ++i)
      f(i, scratch);
  });
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
    if (s.batch > 0) most = std::max(most, p.workspace());
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
    for_each_item(p, p.chunks, workspace, [&](int64_t c, float* scratch) {
      const int64_t n0 = p.chunk_begin(c), count = p.chunk_begin(c + 1) - n0;
      float* col = scratch;
      float* panel = scratch + p.col;
      const int64_t ld = count * p.l;
      for (int64_t g = 0; g < s.groups; ++g) {
        const float* wg = w + g * p.cout_g * p.k;
        // out[cout_g, ld] = wg[cout_g, k] col[k, ld]; col packed from x or gathered first.
        const auto product = [&](float* out) {
          if (p.implicit) {
            const cpu::ConvColumns columns{&s, x, n0, count, g};
            cpu::sgemm(p.isa, false, p.cout_g, ld, p.k, 1.f, wg, p.k,
                       cpu::conv_pack_columns_avx512(columns), 0.f, out, ld);
            return;
          }
          gather_columns(s, p, a, x, n0, count, g, col);
          sgemm(p, false, false, p.cout_g, ld, p.k, wg, p.k, col, ld, 0.f, out, ld);
        };
        float* yg = y + (n0 * s.out_c + g * p.cout_g) * p.l;
        if (count == 1) {
          // The GEMM writes the sample's output directly; the epilogue follows in cache.
          product(yg);
          if (identity) continue;
          for (int64_t o = 0; o < p.cout_g; ++o)
            finish.template operator()<A>(yg + o * p.l, n0, g * p.cout_g + o);
          continue;
        }
        product(panel);
        for (int64_t j = 0; j < count; ++j) {
          for (int64_t o = 0; o < p.cout_g; ++o)
            finish.template operator()<A>(panel + o * ld + j * p.l, n0 + j, g * p.cout_g + o);
        }
      }
    });
  });
}

namespace {

// conv_transpose2d_forward by phases (cpu/conv_pack.h): per chunk, group and phase, one GEMM
// whose B is gathered from y, then bias and activation on the product and its scatter into the
// phase's pixels of x. Every pixel of x lies in exactly one phase.
void conv_transpose_phases(const ConvShape& s, const Plan& p, const float* y, const float* w,
                           const ConvEpilogue& e, float* x, float* workspace) {
  float* const weights = p.shared_area(workspace);
  cpu::conv_pack_phase_weights(s, w, weights);
  const int64_t plane = s.in_h * s.in_w;
  const BiasActParams act = e.act;
  dispatch_act(e.act.act, [&]<BiasActFn A>() {
    for_each_item(p, p.chunks, workspace, [&](int64_t chunk, float* product) {
      const int64_t n0 = p.chunk_begin(chunk), count = p.chunk_begin(chunk + 1) - n0;
      for (int64_t ry = 0; ry < s.stride_h; ++ry) {
        const cpu::PhaseAxis ay = cpu::phase_axis(s.in_h, s.kh, s.stride_h, s.pad_h, ry);
        for (int64_t rx = 0; rx < s.stride_w; ++rx) {
          const cpu::PhaseAxis ax = cpu::phase_axis(s.in_w, s.kw, s.stride_w, s.pad_w, rx);
          const int64_t per_sample = ay.count * ax.count, positions = count * per_sample;
          if (positions == 0) continue;
          const int64_t depth = p.cout_g * ay.taps * ax.taps;
          const float* phase_w = weights + cpu::conv_phase_weights_offset(s, ry, rx);
          // Stride 1, one sample: the product's rows are the sample's planes, written in place.
          const bool in_place = s.stride_h == 1 && s.stride_w == 1 && count == 1;
          for (int64_t g = 0; g < s.groups; ++g) {
            const cpu::PhaseColumns columns{&s, y, n0, count, g, ay, ax};
            float* const out = in_place ? x + (n0 * s.in_c + g * p.cin_g) * plane : product;
            cpu::sgemm(p.isa, false, p.cin_g, positions, depth, 1.f, phase_w + g * p.cin_g * depth,
                       depth, cpu::conv_pack_phase_avx512(columns), 0.f, out, positions);
            if (in_place) {
              for (int64_t c = 0; c < p.cin_g; ++c) {
                float* const plane_c = out + c * plane;
                const int64_t ch = g * p.cin_g + c;
                epilogue_row<A>(plane_c, plane_c, plane, e.bias != nullptr ? e.bias[ch] : 0.f, act);
              }
              continue;
            }
            for (int64_t c = 0; c < p.cin_g; ++c) {
              const int64_t ch = g * p.cin_g + c;
              float* row = product + c * positions;
              epilogue_row<A>(row, row, positions, e.bias != nullptr ? e.bias[ch] : 0.f, act);
              for (int64_t j = 0; j < count; ++j) {
                float* image = x + ((n0 + j) * s.in_c + ch) * plane;
                for (int64_t my = 0; my < ay.count; ++my) {
                  const int64_t iy = ry - s.pad_h + (ay.m_lo + my) * s.stride_h;
                  float* dst = image + iy * s.in_w + rx - s.pad_w + ax.m_lo * s.stride_w;
                  const float* src = row + (j * ay.count + my) * ax.count;
                  for (int64_t mx = 0; mx < ax.count; ++mx)
                    dst[mx * s.stride_w] = src[mx];
                }
              }
            }
          }
        }
      }
    });
  });
}

}  // namespace

void conv_transpose2d_forward(const ConvShape& s, const float* y, const float* w,
                              const ConvEpilogue& e, float* x, float* workspace) {
  check_conv_shape(s, "conv_transpose2d");
  if (s.batch == 0) return;
  GE_CHECK(x != nullptr && w != nullptr && y != nullptr && workspace != nullptr,
           "conv_transpose2d: expected non-null y, w, x and workspace");
  check_prelu_epilogue(e, "conv_transpose2d", false);
  const Plan p = make_plan(s, Pass::Transpose);
  check_sizes(s, p, "conv_transpose2d");
  if (p.implicit) {
    conv_transpose_phases(s, p, y, w, e, x, workspace);
    return;
  }
  const Im2colArgs a = plane_im2col_args(s);
  const bool act_identity =
      e.act.act == BiasActFn::Linear && e.act.gain == 1.f && e.act.clamp < 0.f;
  const BiasActParams act = e.act;
  const int64_t plane = s.in_h * s.in_w, taps = s.kh * s.kw;
  dispatch_act(e.act.act, [&]<BiasActFn A>() {
    for_each_item(p, p.chunks, workspace, [&](int64_t c, float* scratch) {
      const int64_t n0 = p.chunk_begin(c), count = p.chunk_begin(c + 1) - n0;
      float* col = scratch;
      float* panel = scratch + p.col;
      const int64_t ld = count * p.l;
      for (int64_t g = 0; g < s.groups; ++g) {
        const float* rhs = y + (n0 * s.out_c + g * p.cout_g) * p.l;
        if (count > 1) {
          gather_panel(s, p, y, n0, count, g, panel);
          rhs = panel;
        }
        sgemm(p, true, false, p.k, ld, p.cout_g, w + g * p.cout_g * p.k, p.k, rhs, ld, 0.f, col,
              ld);
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
  float* copies = workspace + p.threads * p.scratch();
  for_each_item(p, p.slots, workspace, [&](int64_t slot, float* scratch) {
    float* col = scratch;
    float* panel = scratch + p.col;
    float* acc = slot == 0 ? dw : copies + (slot - 1) * p.partial;
    for (int64_t c = p.slot_begin(slot); c < p.slot_begin(slot + 1); ++c) {
      const int64_t n0 = p.chunk_begin(c), count = p.chunk_begin(c + 1) - n0;
      const int64_t ld = count * p.l;
      const float beta = c == p.slot_begin(slot) ? 0.f : 1.f;
      for (int64_t g = 0; g < s.groups; ++g) {
        const float* lhs = dy + (n0 * s.out_c + g * p.cout_g) * p.l;
        if (count > 1) {
          gather_panel(s, p, dy, n0, count, g, panel);
          lhs = panel;
        }
        // dw_g[cout_g, k] (+)= dy_g[cout_g, ld] col[k, ld]^T; col packed from x or gathered.
        float* dw_g = acc + g * p.cout_g * p.k;
        if (p.implicit) {
          const cpu::ConvColumns columns{&s, x, n0, count, g};
          cpu::sgemm(p.isa, false, p.cout_g, p.k, ld, 1.f, lhs, ld,
                     cpu::conv_pack_columns_transposed_avx512(columns), beta, dw_g, p.k);
          continue;
        }
        gather_columns(s, p, a, x, n0, count, g, col);
        sgemm(p, false, true, p.cout_g, p.k, ld, lhs, ld, col, ld, beta, dw_g, p.k);
      }
    }
  });
  if (p.slots == 1) return;
  // The slots' copies, added in slot order: the sum does not depend on which thread ran a slot.
  constexpr int64_t kBlock = int64_t{1} << 14;
  parallel_for((dw_floats + kBlock - 1) / kBlock, dw_floats >= kParallelGrain, [&](int64_t b) {
    const int64_t begin = b * kBlock, end = std::min(dw_floats, begin + kBlock);
    for (int64_t slot = 1; slot < p.slots; ++slot) {
      const float* part = copies + (slot - 1) * p.partial;
      for (int64_t i = begin; i < end; ++i)
        dw[i] += part[i];
    }
  });
}

}  // namespace cpu
}  // namespace ge::kernels
