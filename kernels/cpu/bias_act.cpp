// CPU bias_act: rows of `inner` elements that share one bias value, so the inner loop is a flat
// loop over a constant the compiler can vectorize; without a bias, one flat loop.
#include "common/bias_act.h"

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

void bias_act(BiasActMode mode, const BiasActParams& p, const BiasActArgs& a) {
  bias_act_check(mode, p, a);
  if (a.n == 0) return;
  const BiasActParams params = p;  // a local copy the loops can keep in registers
  dispatch_bias_act(mode, p.act, [&]<BiasActMode M, BiasActFn A>() {
    const float* x = a.x;
    const float* y = a.y;
    const float* dy = a.dy;
    float* out = a.out;
    if (M == BiasActMode::Forward && a.bias != nullptr) {
      const int64_t rows = a.n / a.inner;
      for (int64_t r = 0; r < rows; ++r) {
        const float b = a.bias[r % a.channels];
        const int64_t base = r * a.inner;
        for (int64_t j = base; j < base + a.inner; ++j)
          out[j] = bias_act_apply<M, A>(x[j], b, 0.f, 0.f, params);
      }
      return;
    }
    for (int64_t i = 0; i < a.n; ++i) {
      const float yi = M == BiasActMode::Forward ? 0.f : y[i];
      const float dyi = M == BiasActMode::SecondOrder ? dy[i] : 0.f;
      out[i] = bias_act_apply<M, A>(x[i], 0.f, yi, dyi, params);
    }
  });
}

}  // namespace cpu
}  // namespace ge::kernels
