// --minibatch-discrimination in the discriminators that take it (dcgan, wgan, the MLP GANs): where
// the layer sits and what the last layer then reads, that a sample's score depends on the rest of
// the batch only with the layer, training steps on every device, and the option checks.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/models/dcgan.h"
#include "ganengine/models/mlp_gan.h"
#include "ganengine/ops.h"
#include "models/gan_test_util.h"
#include "support/devices.h"

namespace ge::models::gantest {
namespace {

GanOptions with_minibatch(const std::string& arch, Device device, int64_t b = 3, int64_t c = 2) {
  GanOptions o = tiny_options(arch, device);
  o.minibatch_kernels = b;
  o.minibatch_kernel_dim = c;
  return o;
}

// D(x)[0] with sample 1 replaced by `other`: the score of sample 0 as the batch changes.
float first_score(Gan& gan, Tensor x, const Tensor& other) {
  NoGradGuard no_grad;
  x = x.clone();
  x.slice(0, 1, 2).copy_(other);
  return gan.discriminate(x, Tensor()).to_vector()[0];
}

TEST(MinibatchDiscriminationModel, LayersAndKeys) {
  Generator g(1);
  auto mlp = make_gan(with_minibatch("gan-mlp", kCPU), g);
  const auto keys = mlp->discriminator().state_dict();
  // Three hidden (Linear, LeakyReLU) pairs, then the layer at main.6, the output Linear at main.7
  // reading width 8 + 3 kernels.
  ASSERT_EQ(keys.count("main.6.T"), 1u);
  EXPECT_EQ(keys.at("main.6.T").shape(), (Shape{8, 3, 2}));
  EXPECT_EQ(keys.at("main.7.weight").shape(), (Shape{1, 11}));

  auto dcgan = make_gan(with_minibatch("dcgan", kCPU, 5, 4), g);
  const auto dk = dcgan->discriminator().state_dict();
  // 16 px, width 4: features 4 * 16 / 8 = 8 channels at 4x4, 128 flattened.
  ASSERT_EQ(dk.count("minibatch.T"), 1u);
  EXPECT_EQ(dk.at("minibatch.T").shape(), (Shape{128, 5, 4}));
  EXPECT_EQ(dk.at("head.weight").shape(), (Shape{1, 133}));
  // Without the option the DCGAN discriminator keeps its last conv and nothing else.
  auto plain = make_gan(tiny_options("dcgan", kCPU), g);
  EXPECT_EQ(plain->discriminator().state_dict().count("minibatch.T"), 0u);
}

class MinibatchDiscriminationModelDevice : public DeviceTest {};

TEST_P(MinibatchDiscriminationModelDevice, ScoresDependOnTheBatchOnlyWithTheLayer) {
  for (const char* arch : {"gan-mlp", "dcgan", "wgan"}) {
    SCOPED_TRACE(arch);
    for (bool on : {true, false}) {
      Generator g(2);
      GanOptions o = on ? with_minibatch(arch, device()) : tiny_options(arch, device());
      auto gan = make_gan(o, g);
      gan->to(device());
      ModelEvalGuard eval(*gan);  // batch norm on running statistics: only the layer couples
      const Tensor x = fake_real_batch(o, 4, device(), 3);
      const Tensor other = fake_real_batch(o, 1, device(), 4);
      const float a = first_score(*gan, x, x.slice(0, 1, 2)), b = first_score(*gan, x, other);
      if (on) {
        EXPECT_NE(a, b) << "sample 0's score ignores the rest of the batch";
      } else {
        EXPECT_EQ(a, b) << "sample 0's score depends on another sample without the layer";
      }
    }
  }
}

TEST_P(MinibatchDiscriminationModelDevice, Trains) {
  for (const char* arch : {"gan-mlp", "dcgan"}) {
    SCOPED_TRACE(arch);
    Generator g(5);
    auto gan = make_gan(with_minibatch(arch, device()), g);
    gan->to(device());
    smoke_train(*gan, device());
  }
}

GE_INSTANTIATE_DEVICE_TEST(MinibatchDiscriminationModelDevice);

TEST(MinibatchDiscriminationModel, OptionsAreChecked) {
  Generator g(0);
  for (const char* arch : {"sngan", "wgan-gp", "wgan-gp-mlp", "cgan"}) {
    GanOptions o = with_minibatch(arch, kCPU);
    if (std::string(arch) == "cgan") o.num_classes = 10;
    EXPECT_NE(error_of([&] { make_model(o, g); }).find("minibatch discrimination"),
              std::string::npos)
        << arch;
  }
  GanOptions o = with_minibatch("gan-mlp", kCPU, 3, 0);
  EXPECT_NE(error_of([&] {
              make_model(o, g);
            }).find("expected minibatch discrimination kernels and kernel_dim >= 1, got 3 and 0"),
            std::string::npos);
}

}  // namespace
}  // namespace ge::models::gantest
