// PixelShuffle and PixelUnshuffle on every device: no parameters, values worked out by hand from
// F.pixel_shuffle's definition, one undoing the other, gradients through the layer, and the
// constructors' and forward's errors.
#include "ganengine/nn/pixel_shuffle.h"

#include <vector>

#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

class NnPixelShuffleTest : public DeviceTest {};

TEST_P(NnPixelShuffleTest, ShuffleAndUnshuffle) {
  nn::PixelShuffle up(2);
  nn::PixelUnshuffle down(2);
  EXPECT_EQ(up.name(), "PixelShuffle");
  EXPECT_EQ(down.name(), "PixelUnshuffle");
  EXPECT_TRUE(up.named_parameters().empty());
  EXPECT_TRUE(down.named_parameters().empty());
  // Channels 0..3 of one pixel each: a 2x2 map [[c0, c1], [c2, c3]].
  const Tensor x = from_vector({10, 20, 30, 40}, {1, 4, 1, 1}, device());
  const Tensor y = up(x);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_TRUE(all_close(y, {10, 20, 30, 40}, 0, 0));
  const std::vector<float> v = lcg_values(2 * 8 * 3 * 2, 5);
  EXPECT_TRUE(all_close(down(up(from_vector(v, {2, 8, 3, 2}, device()))), v, 0, 0));
  // Every input element lands on exactly one output element: the gradient of a sum is ones.
  const Tensor xg = from_vector(v, {2, 8, 3, 2}, TensorOptions(device()).requires_grad(true));
  sum(up(xg) * 2.f).backward();
  EXPECT_TRUE(all_close(xg.grad(), std::vector<float>(v.size(), 2.f), 0, 0));
}

GE_INSTANTIATE_DEVICE_TEST(NnPixelShuffleTest);

TEST(NnPixelShuffle, Errors) {
  EXPECT_TRUE(contains(error_of([] { nn::PixelShuffle(0); }),
                       "PixelShuffle: expected upscale_factor >= 1, got 0"));
  EXPECT_TRUE(contains(error_of([] { nn::PixelUnshuffle(-3); }),
                       "PixelUnshuffle: expected downscale_factor >= 1, got -3"));
  nn::PixelShuffle up(3);
  EXPECT_TRUE(contains(error_of([&] {
                         up(zeros({1, 8, 2, 2}));
                       }),
                       "pixel_shuffle: expected the channel count to be divisible by"));
}

}  // namespace
}  // namespace ge::nntest
