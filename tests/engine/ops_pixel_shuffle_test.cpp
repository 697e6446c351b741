// pixel_shuffle and pixel_unshuffle on every device against PyTorch's index formula written as a
// loop here (4-D and 3-D inputs, factors 1 to 3, non-contiguous input); a hand-worked example;
// gradcheck and gradgradcheck; the backward of each is the other; argument errors.
#include "ganengine/pixel_shuffle.h"

#include <string>
#include <utility>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class PixelShuffleTest : public DeviceTest {};

// The shuffle of a deep [N, C*r*r, H, W] tensor (N = 1 for 3-D): large[n, c, y, x] =
// deep[n, c*r*r + (y % r)*r + x % r, y / r, x / r].
std::vector<float> shuffle_ref(const std::vector<float>& deep, const Shape& s, int64_t r) {
  const size_t d = s.size();
  const int64_t n = d == 4 ? s[0] : 1, c = s[d - 3] / (r * r), h = s[d - 2], w = s[d - 1];
  std::vector<float> out(deep.size());
  int64_t at = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h * r; ++y)
        for (int64_t x = 0; x < w * r; ++x) {
          const int64_t k = ch * r * r + (y % r) * r + x % r;
          out[static_cast<size_t>(at++)] =
              deep[static_cast<size_t>(((b * c * r * r + k) * h + y / r) * w + x / r)];
        }
  return out;
}

// The unshuffle of a large [N, C, H*r, W*r] tensor, element by element from the same formula.
std::vector<float> unshuffle_ref(const std::vector<float>& large, const Shape& s, int64_t r) {
  const size_t d = s.size();
  const int64_t n = d == 4 ? s[0] : 1, c = s[d - 3], h = s[d - 2] / r, w = s[d - 1] / r;
  std::vector<float> out(large.size());
  int64_t at = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < c * r * r; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const int64_t ch = k / (r * r), i = k % (r * r) / r, j = k % r;
          out[static_cast<size_t>(at++)] =
              large[static_cast<size_t>(((b * c + ch) * h * r + y * r + i) * w * r + x * r + j)];
        }
  return out;
}

TEST_P(PixelShuffleTest, ShuffleMatchesReference) {
  const std::pair<Shape, int64_t> cases[] = {
      {{2, 8, 3, 5}, 2}, {{1, 18, 2, 3}, 3}, {{2, 3, 4, 4}, 1}, {{12, 3, 2}, 2}, {{1, 4, 1, 1}, 2},
  };
  for (const auto& [shape, r] : cases) {
    SCOPED_TRACE(to_string(shape) + " r " + std::to_string(r));
    const std::vector<float> x = lcg_values(count(shape), 1);
    const Tensor y = pixel_shuffle(make(x, shape, device()), r);
    Shape want = shape;
    const size_t d = shape.size();
    want[d - 3] /= r * r;
    want[d - 2] *= r;
    want[d - 1] *= r;
    EXPECT_EQ(y.shape(), want);
    EXPECT_TRUE(all_close(y, shuffle_ref(x, shape, r), 0, 0));
  }
}

TEST_P(PixelShuffleTest, UnshuffleMatchesReference) {
  const std::pair<Shape, int64_t> cases[] = {
      {{2, 3, 4, 6}, 2}, {{1, 2, 6, 3}, 3}, {{3, 4, 2}, 2}, {{1, 1, 2, 2}, 2}, {{2, 2, 3, 3}, 1},
  };
  for (const auto& [shape, r] : cases) {
    SCOPED_TRACE(to_string(shape) + " r " + std::to_string(r));
    const std::vector<float> x = lcg_values(count(shape), 2);
    const Tensor y = pixel_unshuffle(make(x, shape, device()), r);
    Shape want = shape;
    const size_t d = shape.size();
    want[d - 3] *= r * r;
    want[d - 2] /= r;
    want[d - 1] /= r;
    EXPECT_EQ(y.shape(), want);
    EXPECT_TRUE(all_close(y, unshuffle_ref(x, shape, r), 0, 0));
  }
}

// By hand from F.pixel_shuffle's definition: four 1x1 channels become one 2x2 map, in
// channel order row by row.
TEST_P(PixelShuffleTest, KnownValues) {
  const Tensor x = make({1, 2, 3, 4, 5, 6, 7, 8}, {1, 8, 1, 1}, device());
  const Tensor y = pixel_shuffle(x, 2);
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}));
  // A 4x4 map of 1..16 unshuffled by 2: channel (i, j) holds the pixels at (2h + i, 2w + j).
  std::vector<float> m(16);
  for (int i = 0; i < 16; ++i)
    m[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  EXPECT_EQ(pixel_unshuffle(make(m, {1, 1, 4, 4}, device()), 2).to_vector(),
            (std::vector<float>{1, 3, 9, 11, 2, 4, 10, 12, 5, 7, 13, 15, 6, 8, 14, 16}));
}

TEST_P(PixelShuffleTest, NonContiguousInput) {
  const std::vector<float> base = lcg_values(48, 3);
  const Tensor x = make(base, {1, 3, 4, 4}, device()).permute({0, 2, 3, 1});  // [1, 4, 4, 3]
  ASSERT_FALSE(x.is_contiguous());
  const std::vector<float> xv = permuted(base, {1, 3, 4, 4}, {0, 2, 3, 1});
  EXPECT_TRUE(all_close(pixel_shuffle(x, 2), shuffle_ref(xv, {1, 4, 4, 3}, 2), 0, 0));
}

TEST_P(PixelShuffleTest, Gradients) {
  const auto shuffle = [](const std::vector<Tensor>& in) { return pixel_shuffle(in[0], 2); };
  const auto unshuffle = [](const std::vector<Tensor>& in) { return pixel_unshuffle(in[0], 3); };
  const std::vector<Tensor> deep = {make(lcg_values(48, 4), {1, 8, 2, 3}, device(), true)};
  const std::vector<Tensor> large = {make(lcg_values(36, 5), {1, 1, 6, 6}, device(), true)};
  EXPECT_TRUE(grad_ok(shuffle, deep));
  EXPECT_TRUE(gradgrad_ok(shuffle, deep));
  EXPECT_TRUE(grad_ok(unshuffle, large));
  EXPECT_TRUE(gradgrad_ok(unshuffle, large));
}

// A permutation's backward is its inverse: the gradient of <shuffle(x), g> is unshuffle(g),
// and the gradient of that with respect to g, against v, is shuffle(v).
TEST_P(PixelShuffleTest, BackwardIsTheInverse) {
  const Shape s = {2, 4, 2, 3};
  const Tensor x = make(lcg_values(count(s), 6), s, device(), true);
  const std::vector<float> gv = lcg_values(count(s), 7), vv = lcg_values(count(s), 8);
  const Tensor g = make(gv, {2, 1, 4, 6}, device(), true);
  const Tensor dx = grad({pixel_shuffle(x, 2)}, {x}, {g}, /*create_graph=*/true)[0];
  EXPECT_TRUE(all_close(dx, unshuffle_ref(gv, {2, 1, 4, 6}, 2), 0, 0));
  const Tensor dg = grad({sum(dx * make(vv, s, device()))}, {g})[0];
  EXPECT_TRUE(all_close(dg, shuffle_ref(vv, s, 2), 0, 0));
}

TEST_P(PixelShuffleTest, Errors) {
  const Device d = device();
  EXPECT_TRUE(contains(error_of([&] {
                         pixel_shuffle(zeros({1, 6, 2, 2}, d), 2);
                       }),
                       "pixel_shuffle: expected the channel count to be divisible by "
                       "upscale_factor^2 = 4, got 6 channels (shape [1, 6, 2, 2])"));
  EXPECT_TRUE(contains(error_of([&] {
                         pixel_unshuffle(zeros({1, 1, 4, 5}, d), 2);
                       }),
                       "pixel_unshuffle: expected height and width divisible by "
                       "downscale_factor = 2, got 4x5"));
  EXPECT_TRUE(contains(error_of([&] {
                         pixel_shuffle(zeros({1, 4, 2, 2}, d), 0);
                       }),
                       "pixel_shuffle: expected upscale_factor >= 1, got 0"));
  EXPECT_TRUE(contains(error_of([&] {
                         pixel_unshuffle(zeros({1, 4, 2, 2}, d), -1);
                       }),
                       "pixel_unshuffle: expected downscale_factor >= 1, got -1"));
  EXPECT_TRUE(contains(error_of([&] {
                         pixel_shuffle(zeros({4, 2}, d), 2);
                       }),
                       "pixel_shuffle: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got "
                       "shape [4, 2]"));
  EXPECT_TRUE(contains(error_of([&] {
                         pixel_unshuffle(zeros({1, 1, 1, 2, 2}, d), 2);
                       }),
                       "pixel_unshuffle: expected a 3-D [C, H, W] or 4-D"));
  EXPECT_TRUE(
      contains(error_of([&] { pixel_shuffle(Tensor(), 2); }), "pixel_shuffle: expected a defined"));
}

GE_INSTANTIATE_DEVICE_TEST(PixelShuffleTest);

}  // namespace
}  // namespace ge::optest
