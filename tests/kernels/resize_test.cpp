// resize launchers on cpu and cuda against the double-precision matrices of
// support/resize_reference.h: forward and adjoint, antialias and align_corners both ways, up and
// down by integer and non-integer ratios, single-pixel inputs and outputs, wide antialias windows
// (a large downscale) and many readers per input (a large upscale); run-to-run bitwise equality;
// argument errors.
#include "ganengine/kernels/resize.h"

#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "support/resize_reference.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

struct Case {
  int64_t planes, h, w, oh, ow;
};

std::string describe(const ResizeShape& s) {
  return "[" + std::to_string(s.planes) + "," + std::to_string(s.in_h) + "," +
         std::to_string(s.in_w) + "] -> " + std::to_string(s.out_h) + "x" +
         std::to_string(s.out_w) + (s.align_corners ? " align_corners" : "") +
         (s.antialias ? " antialias" : "");
}

class ResizeKernelTest : public KernelTest {
 protected:
  // y = R x and dx = R^T dy on this test's device.
  std::pair<std::vector<float>, std::vector<float>> run(const ResizeShape& s,
                                                        const std::vector<float>& x,
                                                        const std::vector<float>& dy) {
    const Dev dev = GetParam();
    Buffer xb(dev, x), dyb(dev, dy), yb(dev, s.out_numel()), dxb(dev, s.in_numel());
    if (cuda()) {
      const int64_t n = cuda::resize_bicubic2d_workspace(s);
      Buffer ws(dev, n);
      cuda::resize_bicubic2d(xb.data(), yb.data(), s, ws.data(), n, nullptr);
      cuda::resize_bicubic2d_backward(dyb.data(), dxb.data(), s, ws.data(), n, nullptr);
      GE_TEST_CUDA(cudaDeviceSynchronize());
    } else {
      cpu::resize_bicubic2d(xb.data(), yb.data(), s);
      cpu::resize_bicubic2d_backward(dyb.data(), dxb.data(), s);
    }
    return {yb.download(s.out_numel()), dxb.download(s.in_numel())};
  }

  void check(const Case& c) {
    for (bool align : {false, true})
      for (bool aa : {false, true}) {
        const ResizeShape s{c.planes, c.h, c.w, c.oh, c.ow, align, aa};
        SCOPED_TRACE(describe(s));
        const std::vector<float> x = lcg(s.in_numel(), 61), dy = lcg(s.out_numel(), 62);
        const ge::testing::ResizeRef ref =
            ge::testing::resize_reference(x, dy, c.planes, c.h, c.w, c.oh, c.ow, align, aa);
        const auto [y, dx] = run(s, x, dy);
        // The engine places taps with float coordinates; the reference in double: the
        // difference is eps * |src| times the data's slope, well inside these bounds for sides
        // below 100.
        EXPECT_TRUE(close(y, ref.y, 2e-5, 2e-5)) << "forward";
        EXPECT_TRUE(close(dx, ref.dx, 5e-5, 2e-5)) << "backward";
      }
  }
};

TEST_P(ResizeKernelTest, UpMatchesReference) {
  const Case cases[] = {
      {2, 3, 5, 12, 20},  // x4
      {1, 4, 6, 8, 12},   // x2
      {2, 7, 5, 17, 23},  // non-integer ratios
      {1, 3, 2, 27, 18},  // x9: more readers per input
      {1, 1, 1, 3, 2},    // a single input pixel
      {1, 1, 4, 5, 9},    // a single input row
  };
  for (const Case& c : cases)
    check(c);
}

TEST_P(ResizeKernelTest, DownMatchesReference) {
  const Case cases[] = {
      {2, 16, 12, 4, 3},  // x4
      {1, 23, 17, 6, 4},  // non-integer ratios
      {1, 40, 3, 2, 3},   // x20 along H: a 81-tap antialias window
      {2, 5, 4, 1, 1},    // a single output pixel
      {1, 9, 1, 4, 1},    // a single column
  };
  for (const Case& c : cases)
    check(c);
}

TEST_P(ResizeKernelTest, MixedAndSameSize) {
  const Case cases[] = {
      {2, 4, 5, 4, 5},    // same size: the identity
      {1, 12, 3, 5, 11},  // down along H, up along W
      {3, 2, 9, 7, 2},    // up along H, down along W
  };
  for (const Case& c : cases)
    check(c);
}

TEST_P(ResizeKernelTest, RunsAreBitwiseEqual) {
  const ResizeShape s{4, 13, 11, 40, 5, false, true};
  const std::vector<float> x = lcg(s.in_numel(), 63), dy = lcg(s.out_numel(), 64);
  const auto first = run(s, x, dy), second = run(s, x, dy);
  EXPECT_EQ(first.first, second.first);
  EXPECT_EQ(first.second, second.second);
}

TEST_P(ResizeKernelTest, NoPlanesIsANoOp) {
  const ResizeShape s{0, 4, 4, 8, 8, false, false};
  if (cuda()) {
    EXPECT_EQ(cuda::resize_bicubic2d_workspace(s), 0);
    EXPECT_NO_THROW(cuda::resize_bicubic2d(nullptr, nullptr, s, nullptr, 0, nullptr));
  } else {
    EXPECT_NO_THROW(cpu::resize_bicubic2d(nullptr, nullptr, s));
  }
}

TEST_P(ResizeKernelTest, RejectsBadArguments) {
  Buffer x(GetParam(), 16), y(GetParam(), 64), ws(GetParam(), 4096);
  auto run = [&](const ResizeShape& s, float* out, int64_t ws_size = 4096) {
    if (cuda()) {
      cuda::resize_bicubic2d(x.data(), out, s, ws.data(), ws_size, nullptr);
    } else {
      cpu::resize_bicubic2d(x.data(), out, s);
    }
  };
  EXPECT_THAT(error_of([&] {
                run({1, 4, 4, 0, 8}, y.data());
              }),
              HasSubstr("resize_bicubic2d: expected sizes >= 1, got 4x4 -> 0x8"));
  EXPECT_THAT(error_of([&] {
                run({-1, 4, 4, 8, 8}, y.data());
              }),
              HasSubstr("resize_bicubic2d: expected a non-negative plane count, got -1"));
  EXPECT_THAT(error_of([&] {
                run({1, 4, 4, 8, 8}, nullptr);
              }),
              HasSubstr("expected non-null input and output for 1 planes"));
  if (cuda()) {
    const ResizeShape s{1, 4, 4, 8, 8, false, false};
    const int64_t need = cuda::resize_bicubic2d_workspace(s);
    EXPECT_THAT(error_of([&] { run(s, y.data(), need - 1); }),
                HasSubstr("resize_bicubic2d: expected a workspace of " + std::to_string(need) +
                          " floats, got " + std::to_string(need - 1)));
  }
}

GE_INSTANTIATE_KERNEL_TEST(ResizeKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
