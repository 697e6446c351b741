// SRResNet and SRGAN: the paper's network sizes and shapes, the losses against a host
// computation, tiled upscaling against the whole image, option checks, --init from an SRResNet
// run, and training through the trainer (bitwise resume, NaN stop) on cpu and emulated cuda.
#include "ganengine/models/srgan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/ops.h"
#include "ganengine/pixel_shuffle.h"
#include "ganengine/prelu.h"
#include "ganengine/resize.h"
#include "models/host_losses.h"
#include "models/tiny_gan.h"
#include "models/train_test_util.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge::testing {
namespace {

using models::GanOptions;
using models::kSrScale;
using models::SrGan;
using models::train::Trainer;
using models::train::TrainOptions;

GanOptions tiny_sr(const std::string& arch = "srresnet", int64_t channels = 1) {
  GanOptions o;
  o.arch = arch;
  o.channels = channels;
  o.resolution = 8;
  o.width = 4;
  o.sr_blocks = 1;
  return o;
}

TEST(SrGan, NetworksHaveThePaperSizes) {
  Generator g(0);
  // SRResNet, B = 16, 64 channels, RGB: 9x9 conv + PReLU; per block two 3x3 convs with biases,
  // two batch norms and a PReLU; the body's 3x3 conv + batch norm; two 3x3 convs to 256 channels,
  // each with a PReLU of 64 slopes; the 9x9 output conv.
  const int64_t c = 64, conv3 = c * c * 9 + c, bn = 2 * c;
  const int64_t expected_g = (3 * 81 * c + c + c) + 16 * (2 * conv3 + 2 * bn + c) + (conv3 + bn) +
                             2 * (c * 9 * 4 * c + 4 * c + c) + (c * 81 * 3 + 3);
  models::SrResNetGenerator gen(3, 64, 16, {}, g);
  EXPECT_EQ(parameter_count(gen), expected_g);
  EXPECT_EQ(expected_g, 1550659);
  // Without batch norm (EDSR's, MSRResNet's): the same less the 33 batch norms' weights and
  // biases; the bicubic skip has no parameters.
  models::SrGeneratorOptions plain;
  plain.batch_norm = false;
  plain.bicubic_skip = true;
  models::SrResNetGenerator gen_plain(3, 64, 16, plain, g);
  EXPECT_EQ(parameter_count(gen_plain), expected_g - 33 * bn);
  // The discriminator at 96 px: k3n64s1 (bias), then seven convs without bias, each with a batch
  // norm: n64s2, n128s1, n128s2, n256s1, n256s2, n512s1, n512s2; 96 / 16 = 6, so dense
  // 512 * 6 * 6 -> 1024 -> 1.
  const int64_t widths[8] = {64, 64, 128, 128, 256, 256, 512, 512};
  int64_t expected_d = 3 * 9 * 64 + 64, in = 64;
  for (int i = 1; i < 8; ++i) {
    expected_d += in * 9 * widths[i] + 2 * widths[i];
    in = widths[i];
  }
  expected_d += 512 * 6 * 6 * 1024 + 1024 + 1024 + 1;
  models::SrganDiscriminator d(3, 64, 96, g);
  EXPECT_EQ(parameter_count(d), expected_d);
}

TEST(SrGan, StateDictKeysNameTheLayers) {
  Generator g(0);
  models::SrResNetGenerator gen(3, 8, 2, {}, g);
  const auto keys = gen.state_dict();
  for (const char* key :
       {"head.conv.weight", "head.prelu.weight", "blocks.0.conv1.weight",
        "blocks.1.bn2.running_var", "blocks.1.prelu.weight", "body_conv.bias", "body_bn.weight",
        "upsample.0.conv.weight", "upsample.1.prelu.weight", "tail.weight", "tail.bias"})
    EXPECT_EQ(keys.count(key), 1u) << key;
  // PReLU slopes: one per channel, 0.25 as torch.nn.PReLU starts.
  EXPECT_EQ(gen.head->prelu->weight.shape(), Shape({8}));
  EXPECT_EQ(gen.head->prelu->weight.to_vector(), std::vector<float>(8, 0.25f));
  // Without batch norm there is none to save.
  models::SrGeneratorOptions plain;
  plain.batch_norm = false;
  models::SrResNetGenerator gen_plain(3, 8, 2, plain, g);
  for (const auto& [key, t] : gen_plain.state_dict())
    EXPECT_EQ(key.find("bn"), std::string::npos) << key;
  EXPECT_EQ(gen_plain.state_dict().count("blocks.1.conv2.bias"), 1u);
}

class SrGanDevice : public DeviceTest {};

TEST_P(SrGanDevice, ShapesOfEveryNetwork) {
  const Device device = GetParam();
  Generator g(1);
  GanOptions o = tiny_sr("srgan", 3);
  o.resolution = 16;
  SrGan model(o, g);
  model.to(device);
  const Tensor x = rand({2, 3, 5, 7}, device) * 2.f - 1.f;
  EXPECT_EQ(model.upscale(x).shape(), (Shape{2, 3, 20, 28}));
  const Tensor hr = rand({2, 3, 16, 16}, device) * 2.f - 1.f;
  EXPECT_EQ(SrGan::downscale(hr).shape(), (Shape{2, 3, 4, 4}));
  auto& d = dynamic_cast<models::SrganDiscriminator&>(model.network("D"));
  const std::vector<Tensor> f = d.forward_features(hr);
  ASSERT_EQ(f.size(), 9u);
  EXPECT_EQ(f[0].shape(), (Shape{2, 4, 16, 16}));
  EXPECT_EQ(f[7].shape(), (Shape{2, 32, 1, 1}));
  EXPECT_EQ(f[8].shape(), (Shape{2, 1}));
}

TEST_P(SrGanDevice, LossesAreThePaperObjectives) {
  const Device device = GetParam();
  for (const char* content : {"mse", "features"}) {
    Generator g(2);
    GanOptions o = tiny_sr("srgan");
    o.resolution = 16;
    o.content_loss = content;
    o.adversarial_weight = 0.25f;
    SrGan model(o, g);
    model.to(device);
    auto phases = model.schedule({});
    ASSERT_EQ(phases.size(), 2u);
    EXPECT_EQ(phases[0].group, "G");
    EXPECT_TRUE(phases[0].draws_batch);
    EXPECT_EQ(phases[1].group, "D");
    models::StepContext ctx;
    Generator rng(3);
    ctx.generator = &rng;
    const Tensor hr = rand({2, 1, 16, 16}, device, &rng) * 2.f - 1.f;
    ctx.batches["hr"].x = hr;
    const float g_loss = phases[0].loss(ctx).loss.item();
    const float d_loss = phases[1].loss(ctx).loss.item();

    NoGradGuard no_grad;
    auto& d = dynamic_cast<models::SrganDiscriminator&>(model.network("D"));
    BicubicOptions aa;
    aa.antialias = true;
    const Tensor sr = model.upscale(resize_bicubic2d(hr, {4, 4}, aa));
    double content_expected = 0;
    if (std::string(content) == "mse") {
      content_expected = host_mse(sr, hr);
    } else {
      const auto fs = d.forward_features(sr), fr = d.forward_features(hr);
      for (size_t i = 0; i + 1 < fs.size(); ++i)
        content_expected += host_l1(fs[i], fr[i]) / static_cast<double>(fs.size() - 1);
    }
    const double expected_g = content_expected + 0.25 * host_bce(d.forward(sr), 1);
    EXPECT_NEAR(g_loss, expected_g, 1e-5 * std::fabs(expected_g) + 1e-6) << content;
    const double expected_d = host_bce(d.forward(hr), 1) + host_bce(d.forward(sr), 0);
    EXPECT_NEAR(d_loss, expected_d, 1e-5 * expected_d) << content;
  }
  // SRResNet: the pixel MSE alone, one phase.
  Generator g(4);
  SrGan model(tiny_sr(), g);
  model.to(device);
  auto phases = model.schedule({});
  ASSERT_EQ(phases.size(), 1u);
  models::StepContext ctx;
  const Tensor hr = rand({2, 1, 8, 8}, device) * 2.f - 1.f;
  ctx.batches["hr"].x = hr;
  const models::LossResult r = phases[0].loss(ctx);
  NoGradGuard no_grad;
  const double expected = host_mse(model.upscale(SrGan::downscale(hr)), hr);
  EXPECT_NEAR(r.loss.item(), expected, 1e-5 * expected);
  EXPECT_NEAR(r.logs.at("psnr"), 10 * std::log10(4 / expected), 1e-3);
}

// Batch norm in eval mode with statistics that are not the identity, so every layer counts.
void perturb_running_means(SrGan& model, Device device) {
  NoGradGuard no_grad;
  for (auto& [key, t] : model.generator().state_dict())
    if (key.find("running_mean") != std::string::npos) t.copy_(rand(t.shape(), device) * 0.2f);
}

// The generator's variants: (sr_norm, sr_skip).
const std::pair<const char*, const char*> kVariants[] = {
    {"batch", "none"}, {"none", "none"}, {"batch", "bicubic"}, {"none", "bicubic"}};

TEST_P(SrGanDevice, GeneratorWithoutBatchNormWithSkipComposesItsLayers) {
  // MSRResNet's form, against the same layers composed from the unfused ops:
  // bicubic(x) + tail(up(up(h + body_conv(blocks(h))))), h = prelu(head(x)), each block
  // x + conv2(prelu(conv1(x))), each up prelu(pixel_shuffle(conv(x))).
  const Device device = GetParam();
  Generator g(7);
  GanOptions o = tiny_sr("srresnet", 3);
  o.sr_blocks = 2;
  o.sr_norm = "none";
  o.sr_skip = "bicubic";
  SrGan model(o, g);
  model.to(device);
  NoGradGuard no_grad;
  // Biases and slopes away from their initial values, so each one counts.
  for (auto& [key, t] : model.generator().state_dict())
    if (key.ends_with("bias") || key.ends_with("prelu.weight"))
      t.copy_(rand(t.shape(), device) * 0.6f - 0.3f);
  auto& gen = model.generator();
  const Tensor x = rand({2, 3, 6, 5}, device) * 2.f - 1.f;
  const auto conv = [](const Tensor& in, const nn::Conv2d& c) {
    return conv2d(in, c.weight, c.bias, c.conv);
  };
  const Tensor h = prelu(conv(x, *gen.head->conv), gen.head->prelu->weight);
  Tensor b = h;
  for (int64_t i = 0; i < 2; ++i) {
    auto& block = dynamic_cast<models::SrResidualBlock&>(*(*gen.blocks)[static_cast<size_t>(i)]);
    b = b + conv(prelu(conv(b, *block.conv1), block.prelu->weight), *block.conv2);
  }
  Tensor u = h + conv(b, *gen.body_conv);
  for (int64_t i = 0; i < 2; ++i) {
    auto& up = dynamic_cast<models::ConvPReLU&>(*(*gen.upsample)[static_cast<size_t>(i)]);
    u = prelu(pixel_shuffle(conv(u, *up.conv), 2), up.prelu->weight);
  }
  BicubicOptions pil;
  pil.antialias = true;
  const Tensor expected = conv(u, *gen.tail) + resize_bicubic2d(x, {24, 20}, pil);
  const auto got = model.upscale(x).to_vector(), want = expected.to_vector();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5 + 1e-5 * std::fabs(want[i])) << "at " << i;
}

TEST_P(SrGanDevice, TiledUpscaleEqualsTheWholeImage) {
  const Device device = GetParam();
  for (const auto& [norm, skip] : kVariants) {
    Generator g(5);
    GanOptions o = tiny_sr("srresnet", 3);
    o.sr_blocks = 0;  // receptive radius 8: tiles with their margins still cut the 30x27 image
    o.sr_norm = norm;
    o.sr_skip = skip;
    SrGan model(o, g);
    model.to(device);
    models::ModelEvalGuard eval(model);
    perturb_running_means(model, device);
    NoGradGuard no_grad;
    const int64_t margin = model.generator().receptive_radius();
    const Tensor x = rand({1, 3, 30, 27}, device) * 2.f - 1.f;
    const auto whole = model.upscale(x).to_vector();
    for (int64_t tile : {4, 5, 7, 13}) {
      ASSERT_LT(tile + 2 * margin, 30) << "tile " << tile << " would see the whole image";
      const auto tiled = models::upscale_tiled(model, x, tile).to_vector();
      ASSERT_EQ(tiled.size(), whole.size());
      double worst = 0;
      for (size_t i = 0; i < whole.size(); ++i)
        worst = std::max(worst, std::fabs(static_cast<double>(tiled[i]) - whole[i]));
      EXPECT_LT(worst, 1e-5) << "tile " << tile << ", norm " << norm << ", skip " << skip;
    }
  }
}

GE_INSTANTIATE_DEVICE_TEST(SrGanDevice);

TEST(SrGan, ReceptiveRadiusIsWhereOnePixelsChangeReaches) {
  // One low-resolution pixel changed: the outputs that change lie within receptive_radius() low-
  // resolution pixels of its 4x4 block, and reach into the last of them (the radius is tight).
  for (int64_t blocks : {0, 1, 2})
    for (const auto& [norm, skip] : kVariants) {
      Generator g(6);
      GanOptions o = tiny_sr("srresnet");
      o.sr_blocks = blocks;
      o.sr_norm = norm;
      o.sr_skip = skip;
      SrGan model(o, g);
      models::ModelEvalGuard eval(model);
      perturb_running_means(model, kCPU);
      NoGradGuard no_grad;
      const int64_t side = 45, at = 22, radius = model.generator().receptive_radius();
      ASSERT_LT(radius, at);
      const Tensor x = rand({1, 1, side, side}) * 2.f - 1.f;
      std::vector<float> bumped = x.to_vector();
      bumped[static_cast<size_t>(at * side + at)] += 0.5f;
      const auto a = model.upscale(x).to_vector();
      const auto b = model.upscale(from_vector(bumped, {1, 1, side, side})).to_vector();
      const int64_t out = side * kSrScale, lo = at * kSrScale, hi = lo + kSrScale - 1;
      int64_t reach = 0;  // output pixels beyond the block's edge, along either axis
      for (int64_t y = 0; y < out; ++y)
        for (int64_t xx = 0; xx < out; ++xx)
          if (a[static_cast<size_t>(y * out + xx)] != b[static_cast<size_t>(y * out + xx)])
            reach = std::max({reach, lo - y, y - hi, lo - xx, xx - hi});
      const int64_t reach_lr = (reach + kSrScale - 1) / kSrScale;
      EXPECT_EQ(reach_lr, radius) << blocks << " blocks, norm " << norm << ", skip " << skip << ": "
                                  << reach << " output pixels";
    }
}

TEST(SrGan, OptionsAreChecked) {
  Generator g(0);
  GanOptions o = tiny_sr();
  o.resolution = 30;
  EXPECT_NE(
      error_of([&] {
        models::make_model(o, g);
      }).find("resolution 30 is not accepted by srresnet; expected a multiple of the scale 4"),
      std::string::npos);
  o = tiny_sr();
  o.resolution = 12;  // not a power of two: fine for super-resolution
  EXPECT_NO_THROW(models::make_model(o, g));
  o.content_loss = "features";
  EXPECT_NE(error_of([&] {
              models::make_model(o, g);
            }).find("content_loss \"features\" is not accepted by srresnet"),
            std::string::npos);
  o = tiny_sr("srgan");
  o.content_loss = "vgg";
  EXPECT_NE(error_of([&] { models::make_model(o, g); }).find("expected \"mse\" or \"features\""),
            std::string::npos);
  o = tiny_sr();
  o.sr_blocks = -1;
  EXPECT_NE(error_of([&] { models::make_model(o, g); }).find("expected sr_blocks >= 0, got -1"),
            std::string::npos);
  o = tiny_sr();
  o.sr_norm = "instance";
  EXPECT_NE(error_of([&] {
              models::make_model(o, g);
            }).find("expected sr_norm \"batch\" or \"none\", got \"instance\""),
            std::string::npos);
  o = tiny_sr();
  o.sr_skip = "bilinear";
  EXPECT_NE(error_of([&] {
              models::make_model(o, g);
            }).find("expected sr_skip \"none\" or \"bicubic\", got \"bilinear\""),
            std::string::npos);
  EXPECT_EQ(models::default_resolution("srgan"), 96);
  EXPECT_EQ(models::default_resolution("dcgan"), 32);
}

struct SrRun {
  std::shared_ptr<NanImageSet> hr = std::make_shared<NanImageSet>(12);
  std::unique_ptr<SrGan> model;
  explicit SrRun(const GanOptions& o) {
    Generator g(23);
    model = std::make_unique<SrGan>(o, g);
  }
  void train(const TrainOptions& o, int64_t stop_at = 0) {
    models::data::DataLoader loader(hr, o.batch, o.seed, o.device);
    Trainer trainer(*model, {{"hr", &loader}}, o);
    if (stop_at > 0)
      trainer.set_evaluator(
          [stop_at](models::Model&) -> std::string { fail("killed at step ", stop_at); });
    trainer.run();
  }
};

class SrGanTraining : public DeviceTest {};

TEST_P(SrGanTraining, ResumeIsBitwiseIdentical) {
  const Device device = GetParam();
  GanOptions o = tiny_sr("srgan");
  o.content_loss = "features";
  const std::string straight = fresh_dir("straight"), split = fresh_dir("split");
  SrRun a(o);
  a.train(quiet_run(straight, 5, 2, 13, device));
  SrRun b(o);
  TrainOptions t = quiet_run(split, 5, 2, 13, device);
  t.checkpoint_every = 2;
  t.eval_every = 3;
  EXPECT_NE(error_of([&] { b.train(t, 3); }).find("killed at step 3"), std::string::npos);
  ASSERT_EQ(models::train::read_checkpoint(split).step, 2);
  SrRun c(o);
  t.resume = true;
  t.eval_every = 0;
  c.train(t);
  EXPECT_TRUE(bitwise_equal(models::train::read_checkpoint_tensors(straight),
                            models::train::read_checkpoint_tensors(split)));
}

TEST_P(SrGanTraining, NanStopsAndKeepsTheLastCheckpoint) {
  const Device device = GetParam();
  const std::string dir = fresh_dir("nan");
  SrRun good(tiny_sr());
  TrainOptions t = quiet_run(dir, 5, 2, 13, device);
  t.checkpoint_every = 2;
  t.eval_every = 3;
  EXPECT_NE(error_of([&] { good.train(t, 3); }).find("killed"), std::string::npos);
  const auto before = models::train::read_checkpoint_tensors(dir);
  SrRun bad(tiny_sr());
  bad.hr = std::make_shared<NanImageSet>(12, 0);
  t.resume = true;
  t.eval_every = 0;
  const std::string m = error_of([&] { bad.train(t); });
  EXPECT_NE(m.find("step 3: generator loss is nan"), std::string::npos) << m;
  EXPECT_EQ(models::train::read_checkpoint(dir).step, 2);
  EXPECT_TRUE(bitwise_equal(models::train::read_checkpoint_tensors(dir), before));
}

GE_INSTANTIATE_DEVICE_TEST(SrGanTraining);

TEST(SrGan, InitTakesTheGeneratorOfAnSrResNetRun) {
  const std::string dir = fresh_dir("srresnet");
  SrRun pre(tiny_sr());
  pre.train(quiet_run(dir, 2, 2, 13, kCPU));
  const auto saved = models::train::read_checkpoint_tensors(dir);

  Generator g(7);
  SrGan srgan(tiny_sr("srgan"), g);
  const std::vector<float> d_before =
      srgan.network("D").state_dict().at("classifier.1.weight").to_vector();
  EXPECT_EQ(models::train::init_networks_from(srgan, dir), std::vector<std::string>{"G"});
  for (const auto& [key, t] : srgan.network("G").state_dict())
    EXPECT_EQ(t.to_vector(), saved.at("G." + key).to_vector()) << key;
  EXPECT_EQ(srgan.network("D").state_dict().at("classifier.1.weight").to_vector(), d_before);

  // Another width: refused, naming the file and the tensor, and nothing changes.
  GanOptions wide = tiny_sr("srgan");
  wide.width = 6;
  SrGan other(wide, g);
  const std::vector<float> head =
      other.network("G").state_dict().at("head.conv.weight").to_vector();
  const std::string m = error_of([&] { models::train::init_networks_from(other, dir); });
  EXPECT_NE(m.find("checkpoint.safetensors: tensor 'G."), std::string::npos) << m;
  EXPECT_NE(m.find("' has shape [4], the model expects [6]"), std::string::npos) << m;
  EXPECT_EQ(other.network("G").state_dict().at("head.conv.weight").to_vector(), head);
}

}  // namespace
}  // namespace ge::testing
