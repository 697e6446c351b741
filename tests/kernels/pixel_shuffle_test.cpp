// pixel_shuffle launchers on cpu and cuda in both modes against a naive loop over the large
// side's indices (PyTorch's order: large[p, h*r + i, w*r + j] = deep[p*r*r + i*r + j, h, w]),
// for factors 1 to 4 and odd sizes; the two modes invert each other; argument errors.
#include "ganengine/kernels/pixel_shuffle.h"

#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace ge::kernels::testing {
namespace {

using ::testing::HasSubstr;

class PixelShuffleKernelTest : public KernelTest {
 protected:
  std::vector<float> run(PixelShuffleMode mode, const std::vector<float>& in,
                         const PixelShuffleShape& s) {
    const int64_t n = s.numel();
    Buffer ib(GetParam(), in), ob(GetParam(), n);
    launch([&] { cuda::pixel_shuffle(mode, ib.data(), ob.data(), s, nullptr); },
           [&] { cpu::pixel_shuffle(mode, ib.data(), ob.data(), s); });
    return ob.download(n);
  }
};

TEST_P(PixelShuffleKernelTest, BothModesMatchReference) {
  const PixelShuffleShape shapes[] = {
      {3, 4, 5, 2}, {2, 3, 3, 3}, {1, 2, 7, 4}, {4, 1, 1, 2}, {2, 5, 3, 1}, {1, 33, 17, 2},
  };
  for (const PixelShuffleShape& s : shapes) {
    SCOPED_TRACE("planes " + std::to_string(s.planes) + " h " + std::to_string(s.h) + " w " +
                 std::to_string(s.w) + " r " + std::to_string(s.r));
    const int64_t n = s.numel(), r = s.r, lh = s.h * r, lw = s.w * r;
    const std::vector<float> deep = lcg(n, 7), large = lcg(n, 8);
    std::vector<double> shuffled(static_cast<size_t>(n)), unshuffled(static_cast<size_t>(n));
    for (int64_t p = 0; p < s.planes; ++p)
      for (int64_t y = 0; y < lh; ++y)
        for (int64_t x = 0; x < lw; ++x) {
          const int64_t l = (p * lh + y) * lw + x;
          const int64_t d = ((p * r * r + (y % r) * r + x % r) * s.h + y / r) * s.w + x / r;
          shuffled[static_cast<size_t>(l)] = deep[static_cast<size_t>(d)];
          unshuffled[static_cast<size_t>(d)] = large[static_cast<size_t>(l)];
        }
    EXPECT_TRUE(close(run(PixelShuffleMode::Shuffle, deep, s), shuffled, 0, 0)) << "shuffle";
    EXPECT_TRUE(close(run(PixelShuffleMode::Unshuffle, large, s), unshuffled, 0, 0)) << "unshuffle";
    const std::vector<float> round_trip =
        run(PixelShuffleMode::Unshuffle, run(PixelShuffleMode::Shuffle, deep, s), s);
    EXPECT_EQ(round_trip, deep);
  }
}

TEST_P(PixelShuffleKernelTest, EmptyIsANoOp) {
  const PixelShuffleShape s{0, 4, 4, 2};
  launch([&] { cuda::pixel_shuffle(PixelShuffleMode::Shuffle, nullptr, nullptr, s, nullptr); },
         [&] { cpu::pixel_shuffle(PixelShuffleMode::Shuffle, nullptr, nullptr, s); });
}

TEST_P(PixelShuffleKernelTest, RejectsBadArguments) {
  Buffer a(GetParam(), 64), b(GetParam(), 64);
  auto call = [&](PixelShuffleMode mode, const PixelShuffleShape& s, float* out) {
    if (cuda()) {
      cuda::pixel_shuffle(mode, a.data(), out, s, nullptr);
    } else {
      cpu::pixel_shuffle(mode, a.data(), out, s);
    }
  };
  EXPECT_THAT(error_of([&] {
                call(PixelShuffleMode::Shuffle, {1, 2, 2, 0}, b.data());
              }),
              HasSubstr("pixel_shuffle: expected a factor r >= 1, got 0"));
  EXPECT_THAT(error_of([&] {
                call(PixelShuffleMode::Unshuffle, {1, -2, 2, 2}, b.data());
              }),
              HasSubstr("pixel_unshuffle: expected non-negative sizes, got [1, -2, 2]"));
  EXPECT_THAT(error_of([&] {
                call(PixelShuffleMode::Shuffle, {1, 2, 2, 2}, nullptr);
              }),
              HasSubstr("expected non-null input and output for 16 elements"));
}

GE_INSTANTIATE_KERNEL_TEST(PixelShuffleKernelTest);

}  // namespace
}  // namespace ge::kernels::testing
