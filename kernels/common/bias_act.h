#pragma once
// bias_act's scalar math, shared by the CPU loop and the CUDA kernel. Derivatives are written as
// functions of the output y = clamp(gain * act(u), -clamp, clamp) (u = x + bias), which is all
// the backward keeps:
//   relu/lrelu: act'(u) depends only on the sign of u, which y keeps (alpha >= 0; a negative
//               gain flips it).
//   tanh:       act' = 1 - a^2,  with a = y / gain.
//   sigmoid:    act' = a (1 - a).
//   clamp:      zero where |y| reached the clamp.
#include <cmath>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/bias_act.h"

namespace ge::kernels {

template <BiasActFn A>
GE_HOST_DEVICE float bias_act_fn(float u, float alpha) {
  if constexpr (A == BiasActFn::Linear) {
    return u;
  } else if constexpr (A == BiasActFn::Relu) {
    return u < 0.f ? 0.f : u;  // NaN passes through
  } else if constexpr (A == BiasActFn::LeakyRelu) {
    return u < 0.f ? u * alpha : u;
  } else if constexpr (A == BiasActFn::Tanh) {
    return tanhf(u);
  } else {
    static_assert(A == BiasActFn::Sigmoid, "unhandled BiasActFn");
    return 1.f / (1.f + expf(-u));
  }
}

// act(u) recovered from y; 0 when gain is 0 (y carries no information, and every derivative
// below is then multiplied by a zero gain or is itself zero).
GE_HOST_DEVICE float bias_act_unscale(float y, float gain) {
  return gain != 0.f ? y / gain : 0.f;
}

GE_HOST_DEVICE bool bias_act_unclamped(float y, float clamp) {
  return clamp < 0.f || fabsf(y) < clamp;
}

// gain * act'(u), from y.
template <BiasActFn A>
GE_HOST_DEVICE float bias_act_slope(float y, const BiasActParams& p) {
  if constexpr (A == BiasActFn::Linear) {
    return p.gain;
  } else if constexpr (A == BiasActFn::Relu || A == BiasActFn::LeakyRelu) {
    const bool positive = p.gain >= 0.f ? y > 0.f : y < 0.f;
    const float low = A == BiasActFn::Relu ? 0.f : p.alpha;
    return positive ? p.gain : p.gain * low;
  } else if constexpr (A == BiasActFn::Tanh) {
    const float a = bias_act_unscale(y, p.gain);
    return p.gain * (1.f - a * a);
  } else {
    static_assert(A == BiasActFn::Sigmoid, "unhandled BiasActFn");
    const float a = bias_act_unscale(y, p.gain);
    return p.gain * a * (1.f - a);
  }
}

// d(gain * act'(u)) / dy: zero for the piecewise-linear activations.
template <BiasActFn A>
GE_HOST_DEVICE float bias_act_curvature(float y, const BiasActParams& p) {
  if constexpr (A == BiasActFn::Tanh) {
    return -2.f * bias_act_unscale(y, p.gain);
  } else if constexpr (A == BiasActFn::Sigmoid) {
    return p.gain != 0.f ? 1.f - 2.f * bias_act_unscale(y, p.gain) : 0.f;
  } else {
    return 0.f;
  }
}

// One element. v is x (Forward), dy (Backward) or g (SecondOrder); yref and dyref are only read
// by the modes that need them.
template <BiasActMode M, BiasActFn A>
GE_HOST_DEVICE float bias_act_apply(float v, float bias, float yref, float dyref,
                                    const BiasActParams& p) {
  if constexpr (M == BiasActMode::Forward) {
    const float y = bias_act_fn<A>(v + bias, p.alpha) * p.gain;
    if (p.clamp < 0.f) return y;
    // Comparisons rather than fminf/fmaxf so that NaN propagates.
    return y > p.clamp ? p.clamp : (y < -p.clamp ? -p.clamp : y);
  } else if constexpr (M == BiasActMode::Backward) {
    return bias_act_unclamped(yref, p.clamp) ? v * bias_act_slope<A>(yref, p) : 0.f;
  } else {
    static_assert(M == BiasActMode::SecondOrder, "unhandled BiasActMode");
    return bias_act_unclamped(yref, p.clamp) ? v * dyref * bias_act_curvature<A>(yref, p) : 0.f;
  }
}

// Argument checks shared by both launchers.
inline void bias_act_check(BiasActMode mode, const BiasActParams& p, const BiasActArgs& a) {
  const char* m = name(mode);
  GE_CHECK(a.n >= 0, "bias_act(", m, "): expected n >= 0, got ", a.n);
  GE_CHECK(p.act != BiasActFn::LeakyRelu || p.alpha >= 0.f, "bias_act(", m,
           "): expected alpha >= 0 for lrelu (the backward reads the sign of x from y), got ",
           p.alpha);
  GE_CHECK(std::isfinite(p.gain), "bias_act(", m, "): expected a finite gain, got ", p.gain);
  if (a.n == 0) return;
  GE_CHECK(a.x != nullptr && a.out != nullptr, "bias_act(", m,
           "): expected non-null input and output for n = ", a.n);
  if (mode == BiasActMode::Forward && a.bias != nullptr) {
    GE_CHECK(a.channels >= 1 && a.inner >= 1, "bias_act(", m,
             "): expected channels >= 1 and inner >= 1, got ", a.channels, " and ", a.inner);
    GE_CHECK(a.n % (a.channels * a.inner) == 0, "bias_act(", m, "): expected n divisible by ",
             "channels * inner = ", a.channels * a.inner, ", got n = ", a.n);
  }
  GE_CHECK(mode == BiasActMode::Forward || a.y != nullptr, "bias_act(", m,
           "): expected the forward output y, got null");
  GE_CHECK(mode != BiasActMode::SecondOrder || a.dy != nullptr, "bias_act(", m,
           "): expected the backward's gradient dy, got null");
}

// Calls f.template operator()<M, A>() for the runtime mode and activation.
template <typename F>
void dispatch_bias_act(BiasActMode mode, BiasActFn act, F&& f) {
  auto with_mode = [&]<BiasActMode M>() {
    switch (act) {
      case BiasActFn::Linear:
        return f.template operator()<M, BiasActFn::Linear>();
      case BiasActFn::Relu:
        return f.template operator()<M, BiasActFn::Relu>();
      case BiasActFn::LeakyRelu:
        return f.template operator()<M, BiasActFn::LeakyRelu>();
      case BiasActFn::Tanh:
        return f.template operator()<M, BiasActFn::Tanh>();
      case BiasActFn::Sigmoid:
        return f.template operator()<M, BiasActFn::Sigmoid>();
    }
    ::ge::fail("bias_act: unknown BiasActFn value ", static_cast<int>(act));
  };
  switch (mode) {
    case BiasActMode::Forward:
      return with_mode.template operator()<BiasActMode::Forward>();
    case BiasActMode::Backward:
      return with_mode.template operator()<BiasActMode::Backward>();
    case BiasActMode::SecondOrder:
      return with_mode.template operator()<BiasActMode::SecondOrder>();
  }
  ::ge::fail("bias_act: unknown BiasActMode value ", static_cast<int>(mode));
}

}  // namespace ge::kernels
