// GanOptions JSON, make_gan's option checks and the Gan base helpers (latents, labels, EMA).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "gan_test_util.h"
#include "ganengine/error.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/mlp_gan.h"
#include "ganengine/ops.h"

namespace ge::models {
namespace {

using gantest::all_close;
using gantest::error_of;

bool mentions(const std::string& message, const std::vector<std::string>& parts) {
  for (const std::string& p : parts)
    if (message.find(p) == std::string::npos) return false;
  return true;
}

TEST(GanOptionsTest, JsonRoundTripKeepsEveryField) {
  GanOptions o;
  o.arch = "sngan";
  o.channels = 3;
  o.resolution = 64;
  o.latent_dim = 128;
  o.num_classes = 7;
  o.width = 96;
  o.gp_lambda = 2.5f;
  o.w_dim = 256;
  o.mapping_layers = 2;
  o.style_mixing_prob = 0.3f;
  o.r1_gamma = 0.125f;
  o.r1_interval = 4;
  o.w_avg_beta = 0.99f;
  o.pack = 4;
  o.resnet_blocks = 9;
  o.d_layers = 2;
  o.lambda_cycle = 5.f;
  o.lambda_identity = 0.25f;
  o.pool_size = 7;
  o.cycle_noise = 0.125f;
  const GanOptions back = GanOptions::from_json(o.to_json());
  EXPECT_EQ(back.arch, "sngan");
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.resolution, 64);
  EXPECT_EQ(back.latent_dim, 128);
  EXPECT_EQ(back.num_classes, 7);
  EXPECT_EQ(back.width, 96);
  EXPECT_EQ(back.gp_lambda, 2.5f);
  EXPECT_EQ(back.w_dim, 256);
  EXPECT_EQ(back.mapping_layers, 2);
  EXPECT_EQ(back.style_mixing_prob, 0.3f);  // float -> JSON double -> float is exact
  EXPECT_EQ(back.r1_gamma, 0.125f);
  EXPECT_EQ(back.r1_interval, 4);
  EXPECT_EQ(back.w_avg_beta, 0.99f);
  EXPECT_EQ(back.pack, 4);
  EXPECT_EQ(back.resnet_blocks, 9);
  EXPECT_EQ(back.d_layers, 2);
  EXPECT_EQ(back.lambda_cycle, 5.f);
  EXPECT_EQ(back.lambda_identity, 0.25f);
  EXPECT_EQ(back.pool_size, 7);
  EXPECT_EQ(back.cycle_noise, 0.125f);
  EXPECT_EQ(back.to_json(), o.to_json());
}

TEST(GanOptionsTest, MissingKeysKeepDefaults) {
  const GanOptions o = GanOptions::from_json(R"({"arch": "wgan-gp", "gp_lambda": 5})");
  const GanOptions d;
  EXPECT_EQ(o.arch, "wgan-gp");
  EXPECT_EQ(o.gp_lambda, 5.f);
  EXPECT_EQ(o.resolution, d.resolution);
  EXPECT_EQ(o.latent_dim, d.latent_dim);
  EXPECT_EQ(o.r1_interval, d.r1_interval);
  EXPECT_EQ(o.pack, 1);  // checkpoints from before packing existed judge one image at a time
}

TEST(GanOptionsTest, UnknownKeyIsAnErrorNamingIt) {
  const std::string e = error_of([] { GanOptions::from_json(R"({"arch": "dcgan", "widht": 8})"); });
  EXPECT_TRUE(mentions(e, {"unknown key", "\"widht\"", "width"})) << e;
}

TEST(GanOptionsTest, WrongTypesAndBadJsonAreErrors) {
  EXPECT_TRUE(mentions(error_of([] { GanOptions::from_json(R"({"resolution": "32"})"); }),
                       {"resolution", "integer"}));
  EXPECT_TRUE(mentions(error_of([] { GanOptions::from_json(R"({"resolution": 32.5})"); }),
                       {"resolution", "integer"}));
  EXPECT_TRUE(mentions(error_of([] { GanOptions::from_json(R"({"arch": 3})"); }), {"arch"}));
  EXPECT_TRUE(mentions(error_of([] { GanOptions::from_json("{\"arch\": "); }), {"JSON"}));
  EXPECT_TRUE(mentions(error_of([] { GanOptions::from_json("[1, 2]"); }), {"object"}));
}

TEST(MakeGanTest, RejectsImpossibleOptions) {
  Generator g(1);
  const auto err = [&](GanOptions o) { return error_of([&] { make_gan(o, g); }); };
  GanOptions o;
  o.arch = "biggan";
  EXPECT_TRUE(mentions(err(o), {"unknown arch", "biggan", "dcgan", "sngan-mlp"})) << err(o);
  o = GanOptions{};
  o.resolution = 24;
  EXPECT_TRUE(mentions(err(o), {"resolution 24", "power of two"})) << err(o);
  o.resolution = 4;
  EXPECT_TRUE(mentions(err(o), {"resolution 4"}));
  o = GanOptions{};
  o.channels = 0;
  EXPECT_TRUE(mentions(err(o), {"channels", "dcgan"}));
  o = GanOptions{};
  o.arch = "cgan";
  EXPECT_TRUE(mentions(err(o), {"num_classes", "cgan"}));
  o = GanOptions{};
  o.num_classes = 10;
  EXPECT_TRUE(mentions(err(o), {"unconditional", "num_classes"}));
  o = GanOptions{};
  o.arch = "gan-mlp";  // channels keeps its image default of 1
  EXPECT_TRUE(mentions(err(o), {"channels 0", "gan-mlp"}));
  o = GanOptions{};
  o.width = 0;
  EXPECT_TRUE(mentions(err(o), {"width"}));
  o = GanOptions{};
  o.pack = 2;
  EXPECT_TRUE(mentions(err(o), {"pack 1", "dcgan", "got 2"})) << err(o);
}

TEST(MakeGanTest, BuildsEachArchitecture) {
  Generator g(2);
  for (const std::string arch :
       {"dcgan", "cgan", "wgan-gp", "sngan", "gan-mlp", "dcgan-mlp", "wgan-gp-mlp", "sngan-mlp"}) {
    GanOptions o = gantest::tiny_options(arch, kCPU);
    if (arch == "cgan") o.num_classes = 3;
    const auto gan = make_gan(o, g);
    EXPECT_EQ(gan->options().arch, arch);
    EXPECT_GT(gan->generator().num_parameters(), 0);
    EXPECT_GT(gan->discriminator().num_parameters(), 0);
    EXPECT_EQ(gan->generator_ema(), nullptr);
  }
}

TEST(MakeGanTest, SameGeneratorSeedSameWeights) {
  const GanOptions o = gantest::tiny_options("dcgan", kCPU);
  Generator g1(9), g2(9), g3(10);
  const auto a = make_gan(o, g1), b = make_gan(o, g2), c = make_gan(o, g3);
  const auto sa = a->generator().state_dict(), sb = b->generator().state_dict(),
             sc = c->generator().state_dict();
  EXPECT_EQ(sa.at("main.0.weight").to_vector(), sb.at("main.0.weight").to_vector());
  EXPECT_NE(sa.at("main.0.weight").to_vector(), sc.at("main.0.weight").to_vector());
}

class GanBaseTest : public DeviceTest {};

TEST_P(GanBaseTest, SampleLatentAndLabels) {
  GanOptions o = gantest::tiny_options("cgan", device());
  o.num_classes = 3;
  Generator g(3);
  const auto gan = make_gan(o, g);
  Generator s1(5), s2(5);
  const Tensor z = gan->sample_latent(4, s1, device());
  EXPECT_EQ(z.shape(), (Shape{4, o.latent_dim}));
  EXPECT_EQ(z.device(), device());
  EXPECT_EQ(z.to_vector(), randn({4, o.latent_dim}, kCPU, &s2).to_vector());
  const Tensor y = gan->sample_labels(7, device());
  EXPECT_EQ(y.device(), device());
  EXPECT_TRUE(all_close(y, {0, 1, 2, 0, 1, 2, 0}, 0));
  const auto uncond = make_gan(gantest::tiny_options("dcgan", device()), g);
  EXPECT_FALSE(uncond->sample_labels(4, device()).defined());
}

TEST_P(GanBaseTest, ToMovesBothNetworks) {
  Generator g(4);
  const auto gan = make_gan(gantest::tiny_options("dcgan", kCPU), g);
  EXPECT_EQ(gan->device(), kCPU);
  gan->to(device());
  EXPECT_EQ(gan->device(), device());
  EXPECT_EQ(gan->generator().device(), device());
  EXPECT_EQ(gan->discriminator().device(), device());
}

// An architecture with an EMA generator, to check update_ema's arithmetic on its own.
class EmaGan : public Gan {
 public:
  explicit EmaGan(Generator& gen)
      : Gan(GanOptions{}),
        g(std::make_shared<MlpGenerator>(2, 3, /*batch_norm=*/true, gen)),
        ema(std::make_shared<MlpGenerator>(2, 3, true, gen)),
        d(std::make_shared<MlpDiscriminator>(3, false, gen)) {}
  nn::Module& generator() override { return *g; }
  nn::Module& discriminator() override { return *d; }
  nn::Module* generator_ema() override { return ema.get(); }
  Tensor generate(const Tensor& z, const Tensor&, bool, float) override { return g->forward(z); }
  Tensor discriminate(const Tensor& x, const Tensor&) override { return d->forward(x); }
  LossResult discriminator_loss(const Tensor&, const Tensor&, StepContext&) override { return {}; }
  LossResult generator_loss(int64_t, const Tensor&, StepContext&) override { return {}; }
  std::shared_ptr<MlpGenerator> g, ema;
  std::shared_ptr<MlpDiscriminator> d;
};

TEST_P(GanBaseTest, UpdateEmaLerpsParametersAndCopiesBuffers) {
  Generator gen(6);
  EmaGan gan(gen);
  gan.to(device());
  {
    // Give G running statistics that differ from the EMA's initial ones.
    gan.g->forward(randn({5, 2}, device(), &gen));
  }
  // state_dict() aliases the module's tensors: keep copies of the values before the update.
  std::map<std::string, std::vector<float>> src, before;
  for (const auto& [name, t] : gan.g->state_dict())
    src[name] = t.to_vector();
  for (const auto& [name, t] : gan.ema->state_dict())
    before[name] = t.to_vector();
  const float beta = 0.75f;
  gan.update_ema(beta);
  const auto after = gan.ema->state_dict();
  for (const auto& [name, p] : gan.g->named_parameters()) {
    const std::vector<float>& s = src.at(name);
    const std::vector<float>& b = before.at(name);
    std::vector<float> expected(s.size());
    for (size_t i = 0; i < s.size(); ++i)
      expected[i] = s[i] + beta * (b[i] - s[i]);
    EXPECT_TRUE(all_close(after.at(name), expected, 1e-6, 1e-6)) << name;
  }
  for (const auto& [name, buf] : gan.g->named_buffers())
    EXPECT_EQ(after.at(name).to_vector(), buf.to_vector()) << name;
  EXPECT_NE(after.at("main.1.running_mean").to_vector(), before.at("main.1.running_mean"));
  EXPECT_EQ(gan.g->state_dict().at("main.0.weight").to_vector(), src.at("main.0.weight"));

  Generator g2(7);
  const auto plain = make_gan(gantest::tiny_options("dcgan", kCPU), g2);
  EXPECT_TRUE(mentions(error_of([&] { plain->update_ema(0.9f); }), {"dcgan", "EMA"}));
}

GE_INSTANTIATE_DEVICE_TEST(GanBaseTest);

}  // namespace
}  // namespace ge::models
