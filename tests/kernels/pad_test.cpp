// pad launchers on cpu and cuda against naive references: the forward from F.pad's index rules
// written here independently (reflection by folding, replication by clamping), the backward as
// the scatter-add adjoint of that forward (the kernels gather); asymmetric pads, zero pads, pads
// up to the reflection limit, replication pads wider than the input, single-pixel sides, rows
// wider than a block, many planes; the gather's bits do not depend on the device; errors.
#include "ganengine/kernels/pad.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

// The input index output o reads along an axis of `in` with `lo` leading pad: reflection folds
// o - lo back into [0, in) as often as needed (once, when pad < in), replication clamps it.
int64_t source(PadMode mode, int64_t o, int64_t lo, int64_t in) {
  int64_t i = o - lo;
  if (mode == PadMode::Replicate) return std::clamp<int64_t>(i, 0, in - 1);
  const int64_t period = 2 * (in - 1);
  if (period == 0) return 0;
  i = ((i % period) + period) % period;
  return i < in ? i : period - i;
}

std::string describe(PadMode mode, const PadShape& s) {
  return std::string(name(mode)) + " [" + std::to_string(s.planes) + "," + std::to_string(s.in_h) +
         "," + std::to_string(s.in_w) + "] pad {" + std::to_string(s.left) + "," +
         std::to_string(s.right) + "," + std::to_string(s.top) + "," + std::to_string(s.bottom) +
         "}";
}

class PadKernelTest : public KernelTest {
 protected:
  // Runs forward and backward; returns {y, dx}.
  std::pair<std::vector<float>, std::vector<float>> run(PadMode mode, const PadShape& s,
                                                        const std::vector<float>& x,
                                                        const std::vector<float>& dy) {
    const Dev dev = GetParam();
    Buffer xb(dev, x), dyb(dev, dy), yb(dev, s.out_numel()), dxb(dev, s.in_numel());
    launch([&] { cuda::pad2d(mode, xb.data(), yb.data(), s, nullptr); },
           [&] { cpu::pad2d(mode, xb.data(), yb.data(), s); });
    launch([&] { cuda::pad2d_backward(mode, dyb.data(), dxb.data(), s, nullptr); },
           [&] { cpu::pad2d_backward(mode, dyb.data(), dxb.data(), s); });
    return {yb.download(s.out_numel()), dxb.download(s.in_numel())};
  }

  void check(PadMode mode, const PadShape& s) {
    SCOPED_TRACE(describe(mode, s));
    const int64_t oh = s.out_h(), ow = s.out_w();
    const std::vector<float> x = lcg(s.in_numel(), 61), dy = lcg(s.out_numel(), 62);
    std::vector<double> y(static_cast<size_t>(s.out_numel())),
        dx(static_cast<size_t>(s.in_numel()));
    for (int64_t p = 0; p < s.planes; ++p)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          const size_t o = static_cast<size_t>((p * oh + i) * ow + j);
          const size_t at =
              static_cast<size_t>((p * s.in_h + source(mode, i, s.top, s.in_h)) * s.in_w +
                                  source(mode, j, s.left, s.in_w));
          y[o] = x[at];
          dx[at] += dy[o];
        }
    const auto [yk, dxk] = run(mode, s, x, dy);
    EXPECT_TRUE(close(yk, y, 0.0, 0.0)) << "forward";  // a copy: exact
    EXPECT_TRUE(close(dxk, dx, 1e-6, 1e-6)) << "backward";
  }
};

constexpr PadMode kModes[] = {PadMode::Reflect, PadMode::Replicate};

TEST_P(PadKernelTest, MatchesReference) {
  const PadShape cases[] = {
      {2, 4, 5, 3, 3, 3, 3},    // CycleGAN's c7s1 reflection pad 3 on a 4x5 map
      {3, 5, 6, 1, 2, 0, 3},    // asymmetric, no top pad
      {1, 4, 4, 0, 0, 2, 1},    // rows only
      {2, 3, 7, 2, 0, 0, 0},    // left only
      {1, 2, 2, 1, 1, 1, 1},    // every input pixel is read from several sides
      {2, 6, 3, 2, 2, 5, 5},    // the largest reflection pads the height allows
      {1, 1, 5, 3, 1, 0, 0},    // a single row
      {1, 3, 300, 4, 3, 1, 2},  // rows wider than a CUDA block
      {70, 3, 3, 1, 1, 1, 1},   // many small planes
      {2, 4, 5, 0, 0, 0, 0},    // no padding: a copy
  };
  for (PadMode mode : kModes)
    for (const PadShape& s : cases)
      check(mode, s);
}

// Replication may pad beyond the input's size, even around a single pixel.
TEST_P(PadKernelTest, ReplicationBeyondTheInput) {
  check(PadMode::Replicate, {2, 2, 3, 5, 4, 3, 6});
  check(PadMode::Replicate, {1, 1, 1, 2, 3, 4, 1});
}

// The gather sums in the same order on both devices, so the two agree bit for bit; a rerun too.
TEST_P(PadKernelTest, BackwardIsReproducible) {
  const PadShape s{3, 5, 9, 4, 2, 3, 4};
  const std::vector<float> x = lcg(s.in_numel(), 63), dy = lcg(s.out_numel(), 64);
  for (PadMode mode : kModes) {
    const std::vector<float> first = run(mode, s, x, dy).second;
    const std::vector<float> again = run(mode, s, x, dy).second;
    EXPECT_EQ(std::memcmp(first.data(), again.data(), first.size() * sizeof(float)), 0);
    std::vector<float> on_cpu(first.size());
    cpu::pad2d_backward(mode, dy.data(), on_cpu.data(), s);
    EXPECT_EQ(std::memcmp(first.data(), on_cpu.data(), first.size() * sizeof(float)), 0)
        << name(mode) << ": differs from the CPU's gather";
  }
}

TEST_P(PadKernelTest, EmptyIsANoOp) {
  for (PadMode mode : kModes) {
    launch(
        [&] {
          cuda::pad2d(mode, nullptr, nullptr, {0, 4, 4, 1, 1, 1, 1}, nullptr);
        },
        [&] {
          cpu::pad2d(mode, nullptr, nullptr, {0, 4, 4, 1, 1, 1, 1});
        });
    launch(
        [&] {
          cuda::pad2d_backward(mode, nullptr, nullptr, {2, 0, 3, 1, 1, 0, 0}, nullptr);
        },
        [&] {
          cpu::pad2d_backward(mode, nullptr, nullptr, {2, 0, 3, 1, 1, 0, 0});
        });
  }
}

TEST_P(PadKernelTest, RejectsBadArguments) {
  Buffer x(GetParam(), 64), y(GetParam(), 256);
  auto run_fwd = [&](PadMode mode, const PadShape& s, float* out) {
    launch([&] { cuda::pad2d(mode, x.data(), out, s, nullptr); },
           [&] { cpu::pad2d(mode, x.data(), out, s); });
  };
  EXPECT_THAT(error_of([&] {
                run_fwd(PadMode::Reflect, {1, 4, 5, 5, 0, 0, 0}, y.data());
              }),
              HasSubstr("pad2d(reflect): expected the left pad below the input width 5, got 5"));
  EXPECT_THAT(error_of([&] {
                run_fwd(PadMode::Reflect, {1, 4, 5, 0, 0, 0, 4}, y.data());
              }),
              HasSubstr("expected the bottom pad below the input height 4, got 4"));
  EXPECT_THAT(error_of([&] {
                run_fwd(PadMode::Replicate, {1, 4, 5, 0, -1, 0, 0}, y.data());
              }),
              HasSubstr("pad2d(replicate): expected a non-negative right pad, got -1"));
  EXPECT_THAT(error_of([&] {
                run_fwd(PadMode::Replicate, {1, 0, 5, 0, 0, 2, 0}, y.data());
              }),
              HasSubstr("expected a non-empty input height for the top pad 2, got height 0"));
  EXPECT_THAT(error_of([&] {
                run_fwd(PadMode::Reflect, {1, -4, 5, 0, 0, 0, 0}, y.data());
              }),
              HasSubstr("expected non-negative sizes, got [1, -4, 5]"));
  EXPECT_THAT(error_of([&] {
                run_fwd(PadMode::Reflect, {1, 4, 4, 1, 1, 1, 1}, nullptr);
              }),
              HasSubstr("expected non-null input and output for 16 input elements"));
  EXPECT_THAT(error_of([&] {
                run_fwd(static_cast<PadMode>(5), {1, 4, 4, 1, 1, 1, 1}, y.data());
              }),
              HasSubstr("expected mode reflect or replicate, got 5"));
}

GE_INSTANTIATE_KERNEL_TEST(PadKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
