// ReflectionPad2d and ReplicationPad2d on every device, against values worked out by hand from
// F.pad's definition: the int and 4-tuple constructors, no parameters, gradients through the
// layer, and the constructor's and forward's errors.
#include "ganengine/nn/padding.h"

#include <array>
#include <cstdint>
#include <vector>

#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

class NnPaddingTest : public DeviceTest {};

// The 2x3 map [[1, 2, 3], [4, 5, 6]].
const std::vector<float> kMap = {1, 2, 3, 4, 5, 6};

TEST_P(NnPaddingTest, ReflectionPad2d) {
  const Tensor x = from_vector(kMap, {1, 1, 2, 3}, device());
  nn::ReflectionPad2d same(1);
  EXPECT_EQ(same.pad, (std::array<int64_t, 4>{1, 1, 1, 1}));
  EXPECT_TRUE(same.named_parameters().empty());
  // Rows reflect to [row 1, row 0, row 1, row 0]; each row [a, b, c] to [b, a, b, c, b].
  EXPECT_TRUE(all_close(same(x), {5, 4, 5, 6, 5,  //
                                  2, 1, 2, 3, 2,  //
                                  5, 4, 5, 6, 5,  //
                                  2, 1, 2, 3, 2},
                        0, 0));
  nn::ReflectionPad2d left_top({2, 0, 1, 0});
  const Tensor y = left_top(x);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 5}));
  EXPECT_TRUE(all_close(y, {6, 5, 4, 5, 6, 3, 2, 1, 2, 3, 6, 5, 4, 5, 6}, 0, 0));
}

TEST_P(NnPaddingTest, ReplicationPad2d) {
  const Tensor x = from_vector(kMap, {2, 3}, device()).reshape({1, 2, 3});  // 3-D [C, H, W]
  nn::ReplicationPad2d right_bottom({0, 2, 0, 1});
  EXPECT_EQ(right_bottom.name(), "ReplicationPad2d");
  EXPECT_TRUE(all_close(right_bottom(x), {1, 2, 3, 3, 3, 4, 5, 6, 6, 6, 4, 5, 6, 6, 6}, 0, 0));
  const Tensor xg = from_vector(kMap, {1, 1, 2, 3}, TensorOptions(device()).requires_grad(true));
  // Each corner is copied (1 + pad)^2 = 9 times, each edge middle 3 times, by pad 2.
  sum(nn::ReplicationPad2d(2)(xg)).backward();
  EXPECT_TRUE(all_close(xg.grad(), {9, 3, 9, 9, 3, 9}, 0, 0));
}

GE_INSTANTIATE_DEVICE_TEST(NnPaddingTest);

TEST(NnPadding, Errors) {
  EXPECT_TRUE(contains(error_of([] { nn::ReflectionPad2d(-1); }),
                       "ReflectionPad2d: expected non-negative pads {left, right, top, bottom}, "
                       "got {-1, -1, -1, -1}"));
  EXPECT_TRUE(contains(error_of([] {
                         nn::ReplicationPad2d({0, 1, -2, 0});
                       }),
                       "ReplicationPad2d: expected non-negative pads"));
  nn::ReflectionPad2d too_wide(3);
  EXPECT_TRUE(contains(error_of([&] {
                         too_wide(zeros({1, 1, 3, 8}));
                       }),
                       "reflection_pad2d: expected the top pad below the input height 3, got 3"));
}

}  // namespace
}  // namespace ge::nntest
