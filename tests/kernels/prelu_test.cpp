// prelu launchers on cpu and cuda in every mode against double references, with one shared and
// per-channel slopes (negative among them), inner sizes that do and do not allow the float4
// path, misaligned buffers, exact zeros in x (x = 0 counts as negative, as in PyTorch);
// argument errors.
#include "ganengine/kernels/prelu.h"

#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

struct Case {
  int64_t outer, channels, inner;
  bool shared;    // one slope for every channel
  int64_t shift;  // of every buffer: 1 breaks the vector path
};

double reference(PreluMode mode, double x, double g, double w) {
  const bool pos = x > 0;
  switch (mode) {
    case PreluMode::Forward:
      return pos ? x : w * x;
    case PreluMode::Backward:
      return pos ? g : w * g;
    case PreluMode::WeightTerms:
      return pos ? 0 : g * x;
    case PreluMode::NegativeMask:
      return pos ? 0 : g;
  }
  return 0;
}

class PreluKernelTest : public KernelTest {};

TEST_P(PreluKernelTest, EveryModeMatchesReference) {
  const Case cases[] = {
      {2, 3, 16, false, 0}, {2, 3, 16, false, 1}, {3, 5, 7, false, 0}, {2, 4, 1, false, 0},
      {1, 1, 37, true, 0},  {2, 6, 8, true, 0},   {2, 6, 8, true, 2},  {1, 3, 4097, false, 0},
  };
  const PreluMode modes[] = {PreluMode::Forward, PreluMode::Backward, PreluMode::WeightTerms,
                             PreluMode::NegativeMask};
  for (const Case& c : cases) {
    const int64_t n = c.outer * c.channels * c.inner, nw = c.shared ? 1 : c.channels;
    std::vector<float> x = lcg(n, 11), g = lcg(n, 12), w = lcg(nw, 13, -0.5f, 1.5f);
    x[0] = 0.f;  // the boundary belongs to the negative side
    if (!c.shared && nw > 1) w[1] = -0.75f;
    Buffer xb(GetParam(), x, c.shift), gb(GetParam(), g, c.shift), wb(GetParam(), w),
        ob(GetParam(), n + c.shift);
    for (PreluMode mode : modes) {
      SCOPED_TRACE(std::string(name(mode)) + " [" + std::to_string(c.outer) + "," +
                   std::to_string(c.channels) + "," + std::to_string(c.inner) + "] shared " +
                   std::to_string(c.shared) + " shift " + std::to_string(c.shift));
      PreluArgs a;
      a.x = xb.data(c.shift);
      a.g = gb.data(c.shift);
      a.weight = wb.data();
      a.out = ob.data(c.shift);
      a.n = n;
      a.channels = c.shared ? 1 : c.channels;
      a.inner = c.shared ? 1 : c.inner;
      launch([&] { cuda::prelu(mode, a, nullptr); }, [&] { cpu::prelu(mode, a); });
      std::vector<double> want(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        const int64_t ch = c.shared ? 0 : i / c.inner % c.channels;
        want[static_cast<size_t>(i)] = reference(
            mode, x[static_cast<size_t>(i)], g[static_cast<size_t>(i)], w[static_cast<size_t>(ch)]);
      }
      EXPECT_TRUE(close(ob.download(n, c.shift), want, 1e-7, 1e-6));
    }
  }
}

TEST_P(PreluKernelTest, EmptyIsANoOp) {
  PreluArgs a;
  launch([&] { cuda::prelu(PreluMode::Forward, a, nullptr); },
         [&] { cpu::prelu(PreluMode::Forward, a); });
}

TEST_P(PreluKernelTest, RejectsBadArguments) {
  Buffer x(GetParam(), 8), out(GetParam(), 8);
  auto call = [&](PreluMode mode, const PreluArgs& a) {
    if (cuda()) {
      cuda::prelu(mode, a, nullptr);
    } else {
      cpu::prelu(mode, a);
    }
  };
  PreluArgs a;
  a.x = x.data();
  a.out = out.data();
  a.n = 8;
  EXPECT_THAT(error_of([&] { call(PreluMode::Forward, a); }),
              HasSubstr("prelu_forward: expected a non-null weight of 1 slopes"));
  EXPECT_THAT(error_of([&] { call(PreluMode::WeightTerms, a); }),
              HasSubstr("prelu_weight_terms: expected a non-null g"));
  a.channels = 0;
  EXPECT_THAT(error_of([&] { call(PreluMode::NegativeMask, a); }),
              HasSubstr("expected n >= 0, channels >= 1, inner >= 1, got n 8, channels 0"));
  EXPECT_THAT(error_of([&] { call(static_cast<PreluMode>(7), a); }),
              HasSubstr("prelu: expected a PreluMode, got 7"));
}

GE_INSTANTIATE_KERNEL_TEST(PreluKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
