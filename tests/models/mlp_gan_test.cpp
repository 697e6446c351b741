// The 2-D point GANs: layouts per variant, shapes, gradients, training.
#include "ganengine/models/mlp_gan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gan_test_util.h"
#include "ganengine/ops.h"

namespace ge::models {
namespace {

const std::vector<std::string> kArchs = {"gan-mlp", "dcgan-mlp", "wgan-gp-mlp", "sngan-mlp"};

TEST(MlpGanTest, LayoutPerVariant) {
  Generator g(1);
  GanOptions o = gantest::tiny_options("gan-mlp", kCPU);
  o.width = 16;
  o.latent_dim = 2;
  const auto plain = make_gan(o, g);
  const auto gs = plain->generator().state_dict();
  EXPECT_EQ(gs.size(), 8u);  // 4 linears
  EXPECT_EQ(gs.at("main.0.weight").shape(), (Shape{16, 2}));
  EXPECT_EQ(gs.at("main.6.weight").shape(), (Shape{2, 16}));
  const auto ds = plain->discriminator().state_dict();
  EXPECT_EQ(ds.size(), 8u);
  EXPECT_EQ(ds.at("main.0.weight").shape(), (Shape{16, 2}));
  EXPECT_EQ(ds.at("main.6.weight").shape(), (Shape{1, 16}));

  o.arch = "dcgan-mlp";
  const auto bn = make_gan(o, g)->generator().state_dict();
  EXPECT_EQ(bn.at("main.1.running_mean").shape(), (Shape{16}));  // BatchNorm1d after Linear
  EXPECT_EQ(bn.at("main.9.weight").shape(), (Shape{2, 16}));
  EXPECT_EQ(bn.size(), 8u + 3u * 5u);

  o.arch = "sngan-mlp";
  const auto sn = make_gan(o, g)->discriminator().state_dict();
  EXPECT_EQ(sn.size(), 16u);
  EXPECT_EQ(sn.at("main.6.weight_orig").shape(), (Shape{1, 16}));
  EXPECT_EQ(sn.at("main.2.weight_v").shape(), (Shape{16}));
  EXPECT_EQ(sn.count("main.0.weight"), 0u);
}

TEST(MlpGanTest, ObjectivesAndDefaults) {
  Generator g(2);
  const auto build = [&](const std::string& arch) {
    auto gan = make_gan(gantest::tiny_options(arch, kCPU), g);
    return std::unique_ptr<AdversarialGan>(dynamic_cast<AdversarialGan*>(gan.release()));
  };
  EXPECT_EQ(build("gan-mlp")->objective(), Objective::NonSaturating);
  EXPECT_EQ(build("dcgan-mlp")->objective(), Objective::NonSaturating);
  EXPECT_EQ(build("wgan-gp-mlp")->objective(), Objective::Wasserstein);
  EXPECT_EQ(build("sngan-mlp")->objective(), Objective::Hinge);
  EXPECT_EQ(build("wgan-gp-mlp")->train_defaults().n_critic, 5);
  EXPECT_EQ(build("gan-mlp")->train_defaults().n_critic, 1);
}

TEST(MlpGanTest, MinimaxLossIsAnOptionOfTheLogisticGans) {
  Generator g(2);
  for (const char* arch : {"gan-mlp", "dcgan-mlp", "dcgan", "cgan"}) {
    GanOptions o = gantest::tiny_options(arch, kCPU);
    if (o.arch == "cgan") o.num_classes = 10;
    o.loss = "minimax";
    auto gan = make_gan(o, g);
    EXPECT_EQ(dynamic_cast<AdversarialGan&>(*gan).objective(), Objective::Minimax) << arch;
    o.loss = "nonsaturating";
    gan = make_gan(o, g);
    EXPECT_EQ(dynamic_cast<AdversarialGan&>(*gan).objective(), Objective::NonSaturating) << arch;
  }
  GanOptions o = gantest::tiny_options("gan-mlp", kCPU);
  o.loss = "saturating";
  EXPECT_NE(gantest::error_of([&] {
              make_gan(o, g);
            }).find("expected loss \"nonsaturating\" or \"minimax\", got \"saturating\""),
            std::string::npos);
  for (const char* arch : {"wgan-gp-mlp", "sngan-mlp", "wgan", "stylegan-lite"}) {
    o = gantest::tiny_options(arch, kCPU);
    o.loss = "minimax";
    EXPECT_NE(gantest::error_of([&] { make_gan(o, g); }).find("has its own loss"),
              std::string::npos)
        << arch;
  }
  // The minimax generator trains.
  o = gantest::tiny_options("gan-mlp", kCPU);
  o.loss = "minimax";
  auto gan = make_gan(o, g);
  gantest::smoke_train(*gan, kCPU);
}

class MlpGanDeviceTest : public DeviceTest {};

TEST_P(MlpGanDeviceTest, Shapes) {
  for (const std::string& arch : kArchs) {
    Generator g(3);
    auto gan = make_gan(gantest::tiny_options(arch, device()), g);
    gan->to(device());
    const Tensor x = gan->generate(gan->sample_latent(5, g, device()), Tensor());
    EXPECT_EQ(x.shape(), (Shape{5, 2})) << arch;
    EXPECT_EQ(gan->discriminate(x, Tensor()).shape(), (Shape{5})) << arch;
    EXPECT_NE(gantest::error_of([&] {
                gan->discriminate(zeros({5, 3}, device()), Tensor());
              }).find("[N, 2]"),
              std::string::npos);
  }
}

TEST_P(MlpGanDeviceTest, GradientsReachEveryParameter) {
  for (const std::string& arch : kArchs) {
    SCOPED_TRACE(arch);
    Generator g(4);
    auto gan = make_gan(gantest::tiny_options(arch, device()), g);
    gan->to(device());
    gantest::expect_gradients_reach_every_parameter(*gan, device());
  }
}

TEST_P(MlpGanDeviceTest, ThreeAdamSteps) {
  for (const std::string& arch : kArchs) {
    SCOPED_TRACE(arch);
    Generator g(5);
    auto gan = make_gan(gantest::tiny_options(arch, device()), g);
    gan->to(device());
    gantest::smoke_train(*gan, device());
  }
}

GE_INSTANTIATE_DEVICE_TEST(MlpGanDeviceTest);

}  // namespace
}  // namespace ge::models
