// bias_act launchers on cpu and cuda, every mode and activation, against references in double
// that work from x (not from y, as the kernels do).
#include "ganengine/kernels/bias_act.h"

#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "support/act_reference.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

constexpr BiasActFn kFns[] = {BiasActFn::Linear, BiasActFn::Relu, BiasActFn::LeakyRelu,
                              BiasActFn::Tanh, BiasActFn::Sigmoid};

double slope_ref(BiasActFn f, double u, double alpha) {
  switch (f) {
    case BiasActFn::Linear:
      return 1.0;
    case BiasActFn::Relu:
      return u > 0 ? 1.0 : 0.0;
    case BiasActFn::LeakyRelu:
      return u > 0 ? 1.0 : alpha;
    case BiasActFn::Tanh:
      return 1.0 - std::tanh(u) * std::tanh(u);
    case BiasActFn::Sigmoid: {
      const double s = 1.0 / (1.0 + std::exp(-u));
      return s * (1.0 - s);
    }
  }
  return NAN;
}

double curvature_ref(BiasActFn f, double u) {
  switch (f) {
    case BiasActFn::Tanh: {
      const double t = std::tanh(u), s = 1.0 - t * t;
      return -2.0 * t * s;
    }
    case BiasActFn::Sigmoid: {
      const double s = 1.0 / (1.0 + std::exp(-u));
      return s * (1.0 - s) * (1.0 - 2.0 * s);
    }
    default:
      return 0.0;
  }
}

struct Case {
  int64_t outer, channels, inner;
  bool bias;
  float clamp;
  float gain;
  int64_t shift;    // of every buffer: misaligned together still vectorizes
  int64_t x_shift;  // of x alone: forces the scalar path when it differs from shift
};

std::string describe(BiasActFn f, const Case& c) {
  return std::string(name(f)) + " [" + std::to_string(c.outer) + "," + std::to_string(c.channels) +
         "," + std::to_string(c.inner) + "] bias " + std::to_string(c.bias) + " clamp " +
         std::to_string(c.clamp) + " gain " + std::to_string(c.gain) + " shifts " +
         std::to_string(c.shift) + "/" + std::to_string(c.x_shift);
}

class BiasActKernelTest : public KernelTest {
 protected:
  void run(BiasActMode mode, const BiasActParams& p, const BiasActArgs& a) {
    if (cuda()) {
      cuda::bias_act(mode, p, a, nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::bias_act(mode, p, a);
    }
  }

  void check(BiasActFn f, const Case& c) {
    SCOPED_TRACE(describe(f, c));
    const Dev dev = GetParam();
    const int64_t n = c.outer * c.channels * c.inner;
    BiasActParams p;
    p.act = f;
    p.alpha = 0.3f;
    p.gain = c.gain;
    p.clamp = c.clamp;
    const std::vector<float> x = lcg(n, 11, -2.f, 2.f), b = lcg(c.channels, 12, -0.5f, 0.5f);
    const std::vector<float> dy = lcg(n, 13), g = lcg(n, 14);

    std::vector<double> y_ref(static_cast<size_t>(n)), dx_ref(y_ref), second_ref(y_ref);
    std::vector<float> y_float(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const size_t k = static_cast<size_t>(i);
      const double bias = c.bias ? b[static_cast<size_t>((i / c.inner) % c.channels)] : 0.0;
      const double u = static_cast<double>(x[k]) + bias;
      const double y = ::ge::testing::epilogue_ref(f, u, p.alpha, c.gain, c.clamp);
      y_ref[k] = y;
      y_float[k] = static_cast<float>(y);
      const bool live = c.clamp < 0 || std::fabs(y_float[k]) < c.clamp;
      const double slope = slope_ref(f, u, p.alpha);
      dx_ref[k] = live ? dy[k] * c.gain * slope : 0.0;
      // d(gain * act'(u))/dy = act''(u) / act'(u), the curvature the SecondOrder mode reads.
      second_ref[k] = live && slope != 0.0 ? g[k] * dy[k] * curvature_ref(f, u) / slope : 0.0;
    }

    Buffer xb(dev, x, c.x_shift), bb(dev, b), yb(dev, y_float, c.shift), dyb(dev, dy, c.shift),
        gb(dev, g, c.x_shift), out(dev, n + c.shift);
    BiasActArgs a;
    a.n = n;
    a.out = out.data(c.shift);

    a.x = xb.data(c.x_shift);
    a.bias = c.bias ? bb.data() : nullptr;
    a.channels = c.channels;
    a.inner = c.inner;
    run(BiasActMode::Forward, p, a);
    EXPECT_TRUE(close(out.download(n, c.shift), y_ref, 1e-6, 1e-5)) << "forward";

    a = BiasActArgs{};
    a.n = n;
    a.out = out.data(c.shift);
    a.x = dyb.data(c.shift);
    a.y = yb.data(c.shift);
    run(BiasActMode::Backward, p, a);
    EXPECT_TRUE(close(out.download(n, c.shift), dx_ref, 1e-6, 1e-5)) << "backward";

    a.x = gb.data(c.x_shift);
    a.dy = dyb.data(c.shift);
    run(BiasActMode::SecondOrder, p, a);
    EXPECT_TRUE(close(out.download(n, c.shift), second_ref, 1e-6, 1e-5)) << "second order";
  }
};

TEST_P(BiasActKernelTest, AllModesMatchReference) {
  const Case cases[] = {
      {3, 5, 7, true, -1.f, 1.4f, 0, 0},       // odd sizes, aligned
      {2, 4, 16, true, -1.f, 1.f, 1, 1},       // misaligned together: vector path with a head
      {2, 4, 16, true, 0.7f, 2.f, 3, 3},       // clamp
      {2, 3, 9, true, 0.5f, 1.f, 2, 1},        // mismatched alignment: scalar path
      {1, 1, 1, false, -1.f, 1.f, 0, 0},       // a single element
      {1, 1, 1003, false, 0.9f, -1.5f, 1, 1},  // no bias, negative gain
      {4, 64, 1, true, -1.f, 1.f, 0, 0},       // bias along the last dim
  };
  for (BiasActFn f : kFns)
    for (const Case& c : cases)
      check(f, c);
}

TEST_P(BiasActKernelTest, LargeGridStride) {
  // More elements than the capped grid has threads, so each thread loops.
  check(BiasActFn::LeakyRelu, {3, 7, 70001, true, 1.f, 1.414f, 1, 1});
  check(BiasActFn::Tanh, {3, 7, 70001, false, -1.f, 1.f, 0, 2});
}

TEST_P(BiasActKernelTest, EmptyIsANoOp) {
  BiasActArgs a;  // all null, n = 0
  EXPECT_NO_THROW(run(BiasActMode::Forward, BiasActParams{}, a));
}

TEST_P(BiasActKernelTest, RejectsBadArguments) {
  Buffer x(GetParam(), 12), b(GetParam(), 3), out(GetParam(), 12);
  BiasActArgs a;
  a.x = x.data();
  a.out = out.data();
  a.n = 12;
  BiasActParams p;
  p.act = BiasActFn::LeakyRelu;
  p.alpha = -0.1f;
  EXPECT_THAT(error_of([&] { run(BiasActMode::Forward, p, a); }),
              HasSubstr("expected alpha >= 0 for lrelu"));
  p.alpha = 0.2f;
  a.bias = b.data();
  a.channels = 5;
  a.inner = 1;
  EXPECT_THAT(error_of([&] { run(BiasActMode::Forward, p, a); }),
              HasSubstr("expected n divisible by channels * inner = 5, got n = 12"));
  a.bias = nullptr;
  EXPECT_THAT(error_of([&] { run(BiasActMode::Backward, p, a); }),
              HasSubstr("bias_act(backward): expected the forward output y, got null"));
  a.y = x.data();
  EXPECT_THAT(error_of([&] { run(BiasActMode::SecondOrder, p, a); }),
              HasSubstr("expected the backward's gradient dy, got null"));
  a.out = nullptr;
  EXPECT_THAT(error_of([&] { run(BiasActMode::Backward, p, a); }),
              HasSubstr("expected non-null input and output for n = 12"));
}

GE_INSTANTIATE_KERNEL_TEST(BiasActKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
