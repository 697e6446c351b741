// PReLU on every device: the parameter `weight` (torch.nn.PReLU's name and shape, initialised to
// `init`), a forward against a plain loop with per-channel slopes set by hand (one negative),
// the slope gradient reaching the parameter, and the constructor's and forward's errors.
#include "ganengine/nn/prelu.h"

#include <vector>

#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

class NnPreluTest : public DeviceTest {};

TEST_P(NnPreluTest, SharedSlopeByDefault) {
  nn::PReLU layer;
  layer.to(device());
  EXPECT_EQ(layer.name(), "PReLU");
  const auto params = layer.named_parameters();
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].first, "weight");
  EXPECT_EQ(layer.weight.shape(), (Shape{1}));
  EXPECT_TRUE(all_close(layer.weight, {0.25f}, 0, 0));
  const Tensor y = layer(from_vector({-4, 2, -1, 0}, {2, 2}, device()));
  EXPECT_TRUE(all_close(y, {-1, 2, -0.25f, 0}, 0, 0));
}

TEST_P(NnPreluTest, PerChannelSlopes) {
  nn::PReLU layer(3, 0.1f);
  layer.to(device());
  EXPECT_TRUE(all_close(layer.weight, {0.1f, 0.1f, 0.1f}, 0, 0));
  set_values(layer.weight, {0.5f, -2.f, 1.f});
  const std::vector<float> xv = lcg_values(2 * 3 * 4, 9);
  const Tensor x = from_vector(xv, {2, 3, 2, 2}, device());
  const Tensor y = layer(x);
  std::vector<float> want(xv.size()), gw(3, 0.f);
  const float slopes[] = {0.5f, -2.f, 1.f};
  for (size_t i = 0; i < xv.size(); ++i) {
    const size_t c = i / 4 % 3;
    want[i] = xv[i] > 0 ? xv[i] : slopes[c] * xv[i];
    if (xv[i] <= 0) gw[c] += xv[i];
  }
  EXPECT_TRUE(all_close(y, want));
  sum(y).backward();
  EXPECT_TRUE(all_close(layer.weight.grad(), gw, 1e-5, 1e-5));
}

GE_INSTANTIATE_DEVICE_TEST(NnPreluTest);

TEST(NnPrelu, Errors) {
  EXPECT_TRUE(
      contains(error_of([] { nn::PReLU(0); }), "PReLU: expected num_parameters >= 1, got 0"));
  nn::PReLU layer(4);
  EXPECT_TRUE(
      contains(error_of([&] {
                 layer(zeros({2, 3, 5}));
               }),
               "prelu: expected a weight of 1 or 3 (the input's channels) elements, got 4"));
}

}  // namespace
}  // namespace ge::nntest
