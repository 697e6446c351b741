// Conditional DCGAN: labels required, projection discriminator, gradients, training.
#include "ganengine/models/cgan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gan_test_util.h"
#include "ganengine/autograd.h"
#include "ganengine/ops.h"

namespace ge::models {
namespace {

using gantest::all_close;
using gantest::error_of;

GanOptions cgan_options(Device d) {
  GanOptions o = gantest::tiny_options("cgan", d);
  o.num_classes = 3;
  return o;
}

TEST(CganTest, Layout) {
  GanOptions o = cgan_options(kCPU);
  Generator g(1);
  Cgan gan(o, g);
  const auto gs = gan.generator().state_dict();
  EXPECT_EQ(gs.at("label_emb.weight").shape(), (Shape{3, 3}));
  // z and the class embedding enter the first transposed conv together.
  EXPECT_EQ(gs.at("main.0.weight").shape(), (Shape{o.latent_dim + 3, 4 * 16 / 8, 4, 4}));
  const auto ds = gan.discriminator().state_dict();
  const int64_t features = 4 * 16 / 8;
  EXPECT_EQ(ds.at("embed.weight").shape(), (Shape{3, features}));
  EXPECT_EQ(ds.at("linear.weight").shape(), (Shape{1, features}));
  EXPECT_EQ(ds.at("linear.bias").shape(), (Shape{1}));
}

class CganDeviceTest : public DeviceTest {};

TEST_P(CganDeviceTest, RejectsMissingLabels) {
  const GanOptions o = cgan_options(device());
  Generator g(2);
  auto gan = make_gan(o, g);
  gan->to(device());
  const int64_t n = gantest::tiny_batch(device());
  const Tensor z = gan->sample_latent(n, g, device());
  const Tensor real = gantest::fake_real_batch(o, n, device());
  StepContext ctx;
  ctx.generator = &g;
  for (const std::string& e : {error_of([&] { gan->generate(z, Tensor()); }),
                               error_of([&] { gan->discriminate(real, Tensor()); }),
                               error_of([&] { gan->discriminator_loss(real, Tensor(), ctx); })})
    EXPECT_NE(e.find("labels"), std::string::npos) << e;
  // Wrong count and out-of-range ids.
  EXPECT_NE(error_of([&] { gan->generate(z, gan->sample_labels(n + 1, device())); }).find("labels"),
            std::string::npos);
  EXPECT_NE(error_of([&] { gan->generate(z, full({n}, 3.f, device())); }).find("[0, 3)"),
            std::string::npos);
}

TEST_P(CganDeviceTest, ShapesAndLabelDependence) {
  const GanOptions o = cgan_options(device());
  Generator g(3);
  auto gan = make_gan(o, g);
  gan->to(device());
  gan->generator().eval();
  gan->discriminator().eval();
  const int64_t n = gantest::tiny_batch(device());
  const Tensor z = gan->sample_latent(n, g, device());
  const Tensor y0 = zeros({n}, device()), y1 = ones({n}, device());
  const Tensor x0 = gan->generate(z, y0), x1 = gan->generate(z, y1);
  EXPECT_EQ(x0.shape(), (Shape{n, 1, o.resolution, o.resolution}));
  EXPECT_NE(x0.to_vector(), x1.to_vector());
  EXPECT_EQ(gan->discriminate(x0, y0).shape(), (Shape{n}));
}

// logit(x, y) - logit(x, y') = <embed[y] - embed[y'], phi(x)>, phi the sum-pooled features.
TEST_P(CganDeviceTest, ProjectionTerm) {
  const GanOptions o = cgan_options(device());
  Generator g(4);
  Cgan gan(o, g);
  gan.to(device());
  gan.discriminator().eval();
  const int64_t n = gantest::tiny_batch(device());
  const Tensor x = gantest::fake_real_batch(o, n, device());
  NoGradGuard no_grad;
  const std::vector<float> l0 = gan.discriminate(x, zeros({n}, device())).to_vector();
  const std::vector<float> l2 = gan.discriminate(x, full({n}, 2.f, device())).to_vector();
  const Tensor h = gan.d->main->forward(x);  // [n, c, 4, 4]
  const int64_t c = h.size(1);
  const std::vector<float> hv = h.to_vector(), e = gan.d->embed->weight.to_vector();
  for (int64_t i = 0; i < n; ++i) {
    double dot = 0;
    for (int64_t k = 0; k < c; ++k) {
      double phi = 0;
      for (int64_t p = 0; p < 16; ++p)
        phi += hv[(i * c + k) * 16 + p];
      dot += (e[0 * c + k] - e[2 * c + k]) * phi;
    }
    EXPECT_NEAR(l0[i] - l2[i], dot, 1e-5) << "sample " << i;
  }
}

TEST_P(CganDeviceTest, GradientsReachEveryParameter) {
  Generator g(5);
  auto gan = make_gan(cgan_options(device()), g);
  gan->to(device());
  gantest::expect_gradients_reach_every_parameter(*gan, device());
}

TEST_P(CganDeviceTest, GeneratorLossDrawsLabelsWhenGivenNone) {
  Generator g(6);
  auto gan = make_gan(cgan_options(device()), g);
  gan->to(device());
  const int64_t n = gantest::tiny_batch(device());
  Generator with(1), without(1);
  StepContext ctx;
  ctx.generator = &with;
  gan->generator_loss(n, gan->sample_labels(n, device()), ctx);
  ctx.generator = &without;
  const LossResult r = gan->generator_loss(n, Tensor(), ctx);
  EXPECT_TRUE(std::isfinite(r.loss.item()));
  // The labels are the only extra draw.
  EXPECT_GT(without.offset(), with.offset());
}

TEST_P(CganDeviceTest, ThreeAdamSteps) {
  Generator g(7);
  auto gan = make_gan(cgan_options(device()), g);
  gan->to(device());
  gantest::smoke_train(*gan, device());
}

GE_INSTANTIATE_DEVICE_TEST(CganDeviceTest);

}  // namespace
}  // namespace ge::models
