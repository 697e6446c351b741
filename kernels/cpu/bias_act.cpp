// CPU bias_act. The flat buffer is cut into blocks spread over the threads; inside a block the
// work runs in stretches that share one bias value (a row of `inner` elements), or, when inner
// is 1, stretches that read the bias as an array alongside x.
//
// The piecewise-linear activations (linear, relu, lrelu) in Forward and Backward run four floats
// at a time through the compiler's vector extension, with compares and bit masks for every
// select: an element-wise branch on the sign of u costs a misprediction per element on zero-mean
// data, and -O2's vectorizer leaves the scalar loop alone (it will not speculate the u * alpha of
// a select, and wants loops it can replace whole). The vector math performs the same float
// operations in the same order as common/bias_act.h, so its results are bit-identical to the
// scalar path that handles the tails, tanh, sigmoid and the second order.
#include <algorithm>
#include <cstdint>

#include "common/bias_act.h"
#include "cpu/parallel.h"
#include "cpu/vec4.h"
#include "ganengine/kernels/bias_act.h"

namespace ge::kernels {

const char* name(BiasActMode mode) {
  switch (mode) {
    case BiasActMode::Forward:
      return "forward";
    case BiasActMode::Backward:
      return "backward";
    case BiasActMode::SecondOrder:
      return "second_order";
  }
  return "unknown_bias_act_mode";
}

const char* name(BiasActFn act) {
  switch (act) {
    case BiasActFn::Linear:
      return "linear";
    case BiasActFn::Relu:
      return "relu";
    case BiasActFn::LeakyRelu:
      return "lrelu";
    case BiasActFn::Tanh:
      return "tanh";
    case BiasActFn::Sigmoid:
      return "sigmoid";
  }
  return "unknown_bias_act_fn";
}

namespace cpu {
namespace {

using namespace vec4;

F4 abs(F4 v) {
  constexpr int32_t kMagnitude = 0x7fffffff;
  const M4 magnitude = {kMagnitude, kMagnitude, kMagnitude, kMagnitude};
  return reinterpret_cast<F4>(reinterpret_cast<M4>(v) & magnitude);
}

constexpr bool is_piecewise_linear(BiasActFn a) {
  return a == BiasActFn::Linear || a == BiasActFn::Relu || a == BiasActFn::LeakyRelu;
}

// The parameters splatted once per stretch.
struct Lanes {
  F4 zero, alpha, gain, low_gain, clamp, neg_clamp;
  bool clamped, gain_nonneg;
  explicit Lanes(const BiasActParams& p, BiasActFn a)
      : zero(splat(0.f)),
        alpha(splat(p.alpha)),
        gain(splat(p.gain)),
        // bias_act_slope's gain * low, computed the same way.
        low_gain(splat(p.gain * (a == BiasActFn::LeakyRelu ? p.alpha : 0.f))),
        clamp(splat(p.clamp)),
        neg_clamp(splat(-p.clamp)),
        clamped(p.clamp >= 0.f),
        gain_nonneg(p.gain >= 0.f) {}
};

// bias_act_apply<Forward, A> on four elements.
template <BiasActFn A>
F4 forward4(F4 v, F4 b, const Lanes& k) {
  const F4 u = v + b;
  F4 act = u;
  if constexpr (A == BiasActFn::Relu) act = select(u < k.zero, k.zero, u);
  if constexpr (A == BiasActFn::LeakyRelu) act = select(u < k.zero, u * k.alpha, u);
  const F4 y = act * k.gain;
  if (!k.clamped) return y;
  return select(y > k.clamp, k.clamp, select(y < k.neg_clamp, k.neg_clamp, y));
}

// bias_act_apply<Backward, A> on four elements.
template <BiasActFn A>
F4 backward4(F4 dy, F4 y, const Lanes& k) {
  F4 dx;
  if constexpr (A == BiasActFn::Linear) {
    dx = dy * k.gain;
  } else {
    const M4 positive = k.gain_nonneg ? y > k.zero : y < k.zero;
    dx = dy * select(positive, k.gain, k.low_gain);
  }
  if (!k.clamped) return dx;
  return select(abs(y) < k.clamp, dx, k.zero);
}

// How a stretch reads the bias: not at all, one value for the whole stretch, or one per element.
enum class BiasRead { None, Scalar, Array };

// Elements [0, n) of one stretch; every pointer already points at the stretch's first element.
template <BiasActMode M, BiasActFn A, BiasRead B>
void stretch(const BiasActParams& p, const float* __restrict v, const float* __restrict bias,
             const float* __restrict y, const float* __restrict dy, float* __restrict out,
             int64_t n) {
  const float b0 = B == BiasRead::Scalar ? bias[0] : 0.f;
  int64_t j = 0;
  if constexpr (M != BiasActMode::SecondOrder && is_piecewise_linear(A)) {
    const Lanes k(p, A);
    const F4 b4 = splat(b0);
    for (; j + kWidth <= n; j += kWidth) {
      if constexpr (M == BiasActMode::Forward) {
        store(out + j, forward4<A>(load(v + j), B == BiasRead::Array ? load(bias + j) : b4, k));
      } else {
        store(out + j, backward4<A>(load(v + j), load(y + j), k));
      }
    }
  }
  for (; j < n; ++j) {
    const float b = B == BiasRead::Array ? bias[j] : b0;
    const float yj = M == BiasActMode::Forward ? 0.f : y[j];
    const float dyj = M == BiasActMode::SecondOrder ? dy[j] : 0.f;
    out[j] = bias_act_apply<M, A>(v[j], b, yj, dyj, p);
  }
}

// Blocks of whole cache lines keep two threads from writing the same line.
constexpr int64_t kBlock = int64_t{1} << 14;

}  // namespace

void bias_act(BiasActMode mode, const BiasActParams& p, const BiasActArgs& a) {
  bias_act_check(mode, p, a);
  if (a.n == 0) return;
  const BiasActParams params = p;  // a local copy: nothing the stores could alias
  const int64_t blocks = (a.n + kBlock - 1) / kBlock;
  const bool parallel = a.n >= 2 * kParallelGrain;
  dispatch_bias_act(mode, p.act, [&]<BiasActMode M, BiasActFn A>() {
    if (M != BiasActMode::Forward || a.bias == nullptr) {
      parallel_for(blocks, parallel, [&](int64_t blk) {
        const int64_t begin = blk * kBlock, end = std::min(a.n, begin + kBlock);
        const float* y = M == BiasActMode::Forward ? nullptr : a.y + begin;
        const float* dy = M == BiasActMode::SecondOrder ? a.dy + begin : nullptr;
        stretch<M, A, BiasRead::None>(params, a.x + begin, nullptr, y, dy, a.out + begin,
                                      end - begin);
      });
      return;
    }
    const int64_t inner = a.inner, channels = a.channels;
    parallel_for(blocks, parallel, [&](int64_t blk) {
      const int64_t begin = blk * kBlock, end = std::min(a.n, begin + kBlock);
      // One division per block; the channel then advances row by row.
      const int64_t row = begin / inner;
      int64_t c = row % channels, i = begin;
      if (inner == 1) {
        // Runs of consecutive channels, up to the end of the channel axis.
        while (i < end) {
          const int64_t len = std::min(end - i, channels - c);
          stretch<M, A, BiasRead::Array>(params, a.x + i, a.bias + c, nullptr, nullptr, a.out + i,
                                         len);
          i += len;
          c = 0;
        }
        return;
      }
      int64_t row_end = (row + 1) * inner;
      while (i < end) {
        const int64_t len = std::min(end, row_end) - i;
        stretch<M, A, BiasRead::Scalar>(params, a.x + i, a.bias + c, nullptr, nullptr, a.out + i,
                                        len);
        i += len;
        row_end += inner;
        if (++c == channels) c = 0;
      }
    });
  });
}

}  // namespace cpu
}  // namespace ge::kernels
