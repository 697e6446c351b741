// StyleGAN-lite: stylegan2-ada state dict layout, shapes, truncation and w_avg, style mixing,
// lazy R1, gradients of each step, training with a G EMA, and bitwise reproducibility.
#include "ganengine/models/stylegan_lite.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gan_test_util.h"
#include "nn/nn_test_util.h"
#include "ganengine/autograd.h"
#include "ganengine/ops.h"
#include "ganengine/optim.h"

namespace ge::models {
namespace {

using gantest::all_close;
using gantest::error_of;

// Small enough for the CUDA emulator (resolution 8, width 4, w_dim 8); one octave more on CPU.
GanOptions tiny(Device device) {
  GanOptions o;
  o.arch = "stylegan-lite";
  o.channels = 1;
  o.resolution = device.is_cuda() ? 8 : 16;
  o.width = 4;
  o.latent_dim = 8;
  o.w_dim = 8;
  o.mapping_layers = 2;
  return o;
}

int64_t batch_for(Device device) {
  return device.is_cuda() ? 2 : 4;
}

std::unique_ptr<StyleGanLite> build(const GanOptions& o, Device device, uint64_t seed = 1) {
  Generator g(seed);
  auto gan = std::unique_ptr<StyleGanLite>(
      dynamic_cast<StyleGanLite*>(make_stylegan_lite(o, g).release()));
  EXPECT_TRUE(gan != nullptr);
  gan->to(device);
  return gan;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(StyleGanLiteTest, ChannelLadder) {
  EXPECT_EQ(stylegan_channels(64, 4), 64);
  EXPECT_EQ(stylegan_channels(64, 16), 64);
  EXPECT_EQ(stylegan_channels(64, 32), 32);
  EXPECT_EQ(stylegan_channels(64, 64), 16);
  EXPECT_EQ(stylegan_channels(4, 128), 1);
}

TEST(StyleGanLiteTest, StateDictFollowsStyleGan2Ada) {
  GanOptions o = tiny(kCPU);
  o.resolution = 32;
  o.width = 8;  // 8 channels up to 16x16, 4 at 32x32
  auto gan = build(o, kCPU);
  EXPECT_EQ(gan->num_ws(), 8);
  const auto gs = gan->generator().state_dict();
  const std::vector<std::pair<std::string, Shape>> g_expected = {
      {"mapping.fc0.weight", {8, 8}},
      {"mapping.fc1.bias", {8}},
      {"mapping.w_avg", {8}},
      {"synthesis.b4.const", {8, 4, 4}},
      {"synthesis.b4.conv1.weight", {8, 8, 3, 3}},
      {"synthesis.b4.conv1.affine.weight", {8, 8}},
      {"synthesis.b4.conv1.noise.noise_strength", {}},
      {"synthesis.b4.conv1.noise.noise_const", {4, 4}},
      {"synthesis.b4.torgb.weight", {1, 8, 1, 1}},
      {"synthesis.b8.conv0.weight", {8, 8, 3, 3}},
      {"synthesis.b32.conv0.weight", {4, 8, 3, 3}},
      {"synthesis.b32.conv0.affine.weight", {8, 8}},
      {"synthesis.b32.conv1.bias", {4}},
      {"synthesis.b32.conv1.noise.noise_const", {32, 32}},
      {"synthesis.b32.torgb.affine.bias", {4}}};
  for (const auto& [k, shape] : g_expected) {
    ASSERT_TRUE(gs.count(k)) << k;
    EXPECT_EQ(gs.at(k).shape(), shape) << k;
  }
  EXPECT_FALSE(gs.count("synthesis.b4.conv0.weight"));
  const auto ds = gan->discriminator().state_dict();
  const std::vector<std::pair<std::string, Shape>> d_expected = {
      {"b32.fromrgb.weight", {4, 1, 1, 1}},
      {"b32.conv0.weight", {4, 4, 3, 3}},
      {"b32.conv1.weight", {8, 4, 3, 3}},
      {"b32.skip.weight", {8, 4, 1, 1}},
      {"b16.conv1.bias", {8}},
      {"b8.skip.weight", {8, 8, 1, 1}},
      {"b4.conv.weight", {8, 9, 3, 3}},
      {"b4.fc.weight", {8, 128}},
      {"b4.out.weight", {1, 8}},
      {"b4.out.bias", {1}}};
  for (const auto& [k, shape] : d_expected) {
    ASSERT_TRUE(ds.count(k)) << k;
    EXPECT_EQ(ds.at(k).shape(), shape) << k;
  }
  EXPECT_FALSE(ds.count("b32.skip.bias"));
  EXPECT_FALSE(ds.count("b16.fromrgb.weight"));
  // The EMA generator starts as an exact copy that takes no gradients.
  const auto es = gan->generator_ema()->state_dict();
  ASSERT_EQ(es.size(), gs.size());
  for (const auto& [k, t] : gs)
    EXPECT_EQ(es.at(k).to_vector(), t.to_vector()) << k;
  for (const Tensor& p : gan->generator_ema()->parameters())
    EXPECT_FALSE(p.requires_grad());
}

TEST(StyleGanLiteTest, DefaultsAndOptionChecks) {
  GanOptions o = tiny(kCPU);
  auto gan = build(o, kCPU);
  const TrainDefaults t = gan->train_defaults();
  EXPECT_FLOAT_EQ(t.g_lr, 0.0025f);
  EXPECT_FLOAT_EQ(t.d_lr, 0.0025f);
  EXPECT_EQ(t.beta1, 0.f);
  EXPECT_FLOAT_EQ(t.beta2, 0.99f);
  // Half-life of 10k images at batch 32.
  EXPECT_NEAR(std::pow(static_cast<double>(t.ema_beta), 10000.0 / 32.0), 0.5, 1e-3);

  Generator g(0);
  auto bad = [&](auto edit) {
    GanOptions b = tiny(kCPU);
    edit(b);
    return error_of([&] { make_stylegan_lite(b, g); });
  };
  EXPECT_TRUE(contains(bad([](GanOptions& b) { b.resolution = 24; }), "resolution")) << "24";
  EXPECT_TRUE(contains(bad([](GanOptions& b) { b.num_classes = 10; }), "unconditional"));
  EXPECT_TRUE(contains(bad([](GanOptions& b) { b.arch = "dcgan"; }), "\"stylegan-lite\""));
  EXPECT_TRUE(
      contains(bad([](GanOptions& b) { b.style_mixing_prob = 1.5f; }), "style_mixing_prob"));
  EXPECT_TRUE(contains(bad([](GanOptions& b) { b.r1_interval = 0; }), "r1_interval"));
  EXPECT_TRUE(contains(bad([](GanOptions& b) { b.mapping_layers = 0; }), "mapping_layers"));
  EXPECT_TRUE(contains(bad([](GanOptions& b) { b.pack = 0; }), "pack >= 1"));
  // make_gan builds the same architecture.
  auto via_registry = make_gan(tiny(kCPU), g);
  EXPECT_TRUE(dynamic_cast<StyleGanLite*>(via_registry.get()) != nullptr);
}

// pool(h) etc. in double: the top block's fromrgb, conv0, pooled conv1 and pooled 1x1 skip, with
// equalized-lr gains and the residual sqrt(0.5).
TEST(StyleGanLiteTest, DiscriminatorBlockMatchesLoops) {
  const int64_t n = 2, tmp = 2, out = 3, r = 4;
  Generator g(31);
  DiscriminatorBlock block(0, tmp, out, 1, g);
  uint32_t seed = 40;
  for (auto& [name, t] : block.named_parameters()) {
    Tensor slot = t;
    nntest::fill_lcg(slot, seed++);
  }
  const auto img = ge::testing::lcg_values(n * r * r, 50);
  const Tensor y = block.forward(Tensor(), from_vector(img, {n, 1, r, r}));
  ASSERT_EQ(y.shape(), (Shape{n, out, r / 2, r / 2}));

  const double s2 = std::sqrt(2.0), half = std::sqrt(0.5);
  auto conv = [](const std::vector<float>& x, const nn::Conv2d& layer, int64_t batch, int64_t size,
                 double gain, bool act) {
    const int64_t k = layer.kernel_size, c = layer.in_channels;
    nntest::ConvGeometry geo{batch, c, size, size, layer.out_channels, k};
    geo.pad = k / 2;
    std::vector<float> w = layer.weight.to_vector();
    for (float& v : w)
      v = static_cast<float>(v / std::sqrt(static_cast<double>(c * k * k)));
    int64_t ho = 0, wo = 0;
    std::vector<double> yv = nntest::conv2d_ref(
        x, w, layer.bias.defined() ? layer.bias.to_vector() : std::vector<float>{}, geo, ho, wo);
    std::vector<float> outv;
    for (double v : yv)
      outv.push_back(static_cast<float>((act ? nntest::leaky(v, 0.2) : v) * gain));
    return outv;
  };
  auto pool = [](const std::vector<float>& x, int64_t planes, int64_t size) {
    std::vector<float> p;
    for (int64_t q = 0; q < planes; ++q)
      for (int64_t i = 0; i < size / 2; ++i)
        for (int64_t j = 0; j < size / 2; ++j) {
          double acc = 0.0;
          for (int64_t a = 0; a < 2; ++a)
            for (int64_t b = 0; b < 2; ++b)
              acc += x[static_cast<size_t>((q * size + 2 * i + a) * size + 2 * j + b)];
          p.push_back(static_cast<float>(acc / 4));
        }
    return p;
  };
  const auto h = conv(img, *block.fromrgb, n, r, s2, true);
  const auto skip = conv(pool(h, n * tmp, r), *block.skip, n, r / 2, half, false);
  const auto main_path = conv(pool(conv(h, *block.conv0, n, r, s2, true), n * tmp, r), *block.conv1,
                              n, r / 2, s2 * half, true);
  std::vector<float> ref;
  for (size_t i = 0; i < skip.size(); ++i)
    ref.push_back(skip[i] + main_path[i]);
  EXPECT_TRUE(all_close(y, ref, 1e-5, 1e-4));
}

class StyleGanLiteDeviceTest : public DeviceTest {};

TEST_P(StyleGanLiteDeviceTest, OutputShapes) {
  const Device dev = device();
  const GanOptions o = tiny(dev);
  auto gan = build(o, dev);
  const int64_t n = batch_for(dev), r = o.resolution;
  EXPECT_EQ(gan->num_ws(), 2 * static_cast<int64_t>(std::log2(r)) - 2);
  Generator g(3);
  const Tensor z = gan->sample_latent(n, g, dev);
  const Tensor img = gan->generate(z, Tensor());
  EXPECT_EQ(img.shape(), (Shape{n, 1, r, r}));
  EXPECT_EQ(img.device(), dev);
  const Tensor w = gan->mapping(z);
  EXPECT_EQ(w.shape(), (Shape{n, o.w_dim}));
  const Tensor ws = gan->g().broadcast(w);
  EXPECT_EQ(ws.shape(), (Shape{n, gan->num_ws(), o.w_dim}));
  EXPECT_TRUE(all_close(gan->synthesis(ws), img, 0, 0));
  EXPECT_TRUE(all_close(gan->generate(z, Tensor()), img, 0, 0)) << "generate is not repeatable";
  const Tensor logits = gan->discriminate(img, Tensor());
  EXPECT_EQ(logits.shape(), (Shape{n}));
  EXPECT_TRUE(contains(error_of([&] {
                         gan->synthesis(zeros({n, 3, o.w_dim}, dev));
                       }),
                       "ws [N, " + std::to_string(gan->num_ws())));
  EXPECT_TRUE(contains(error_of([&] {
                         gan->discriminate(zeros({n, 1, 4, 4}, dev), Tensor());
                       }),
                       "StyleGanDiscriminator"));
}

// A pack-2 discriminator is the one-image discriminator of twice the channels (the same
// weights) applied to images 2k and 2k+1 stacked along channels; the stacks are built here one
// element at a time.
TEST_P(StyleGanLiteDeviceTest, PackedDiscriminatorJudgesConsecutiveImagesTogether) {
  const Device dev = device();
  GanOptions packed = tiny(dev);
  packed.pack = 2;
  auto gan = build(packed, dev);
  GanOptions two_channels = tiny(dev);
  two_channels.channels = 2;
  auto stacked = build(two_channels, dev, 9);
  EXPECT_EQ(gan->discriminator()
                .state_dict()
                .at("b" + std::to_string(packed.resolution) + ".fromrgb.weight")
                .size(1),
            2);
  stacked->discriminator().load_state_dict(gan->discriminator().state_dict());

  const int64_t n = 2 * batch_for(dev), plane = packed.resolution * packed.resolution;
  const std::vector<float> images = ge::testing::lcg_values(n * plane, 7);
  std::vector<float> stacks(images.size());
  for (int64_t pair = 0; pair < n / 2; ++pair)
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t p = 0; p < plane; ++p)
        stacks[static_cast<size_t>((pair * 2 + c) * plane + p)] =
            images[static_cast<size_t>((2 * pair + c) * plane + p)];
  const int64_t r = packed.resolution;
  const Tensor logits = gan->discriminate(from_vector(images, {n, 1, r, r}, dev), Tensor());
  EXPECT_EQ(logits.shape(), (Shape{n / 2}));
  const Tensor expected =
      stacked->discriminate(from_vector(stacks, {n / 2, 2, r, r}, dev), Tensor());
  EXPECT_TRUE(all_close(logits, expected.to_vector(), 1e-6, 1e-5));
  // Swapping the images inside each pair changes the scores: the pair is ordered channels.
  std::vector<float> swapped(images.size());
  for (int64_t i = 0; i < n; ++i)
    std::copy_n(images.begin() + (i ^ 1) * plane, plane, swapped.begin() + i * plane);
  EXPECT_FALSE(all_close(gan->discriminate(from_vector(swapped, {n, 1, r, r}, dev), Tensor()),
                         logits.to_vector(), 1e-6, 1e-5));
  EXPECT_TRUE(contains(error_of([&] {
                         gan->discriminate(zeros({n - 1, 1, r, r}, dev), Tensor());
                       }),
                       "multiple of 2"));
}

TEST_P(StyleGanLiteDeviceTest, TruncationPsiZeroGivesTheAverageStyle) {
  const Device dev = device();
  auto gan = build(tiny(dev), dev);
  auto& w_avg = gan->g().mapping->w_avg;
  const std::vector<float> avg = ge::testing::lcg_values(w_avg.numel(), 4);
  {
    NoGradGuard no_grad;
    w_avg.copy_(from_vector(avg, w_avg.shape(), dev));
  }
  Generator g(5);
  const int64_t n = batch_for(dev);
  const Tensor z1 = gan->sample_latent(n, g, dev), z2 = gan->sample_latent(n, g, dev);
  std::vector<float> rows;
  for (int64_t i = 0; i < n; ++i)
    rows.insert(rows.end(), avg.begin(), avg.end());
  EXPECT_TRUE(all_close(gan->mapping(z1, 0.f), rows, 1e-6, 1e-6));
  const Tensor a = gan->generate(z1, Tensor(), false, 0.f);
  EXPECT_TRUE(all_close(gan->generate(z2, Tensor(), false, 0.f), a, 1e-6, 1e-5));
  EXPECT_TRUE(
      all_close(a, gan->synthesis(gan->g().broadcast(from_vector(rows, {n, 8}, dev))), 1e-6, 1e-5));
  // generate never moves w_avg.
  EXPECT_TRUE(all_close(w_avg, avg, 0, 0));
}

// Training forwards move w_avg toward the batch mean of mapping(z) (never of the mixing latent).
TEST_P(StyleGanLiteDeviceTest, WAvgTracksTrainingForwards) {
  const Device dev = device();
  GanOptions o = tiny(dev);
  o.style_mixing_prob = 1.f;
  o.w_avg_beta = 0.5f;
  auto gan = build(o, dev);
  StyleGanGenerator& net = gan->g();
  const int64_t n = batch_for(dev);
  const std::vector<float> before = net.mapping->w_avg.to_vector();
  Generator g(6), peek(6);
  const Tensor z = gan->sample_latent(n, peek, dev);
  const std::vector<float> w = gan->mapping(z).to_vector();  // no update
  EXPECT_EQ(net.mapping->w_avg.to_vector(), before);
  const MixedStyles mixed = net.mix_styles(gan->sample_latent(n, g, dev), 1.f, g);
  ASSERT_TRUE(mixed.z2.defined());
  std::vector<float> expected;
  for (int64_t j = 0; j < o.w_dim; ++j) {
    double mean = 0.0;
    for (int64_t r = 0; r < n; ++r)
      mean += w[static_cast<size_t>(r * o.w_dim + j)] / static_cast<double>(n);
    expected.push_back(static_cast<float>(mean + 0.5 * (before[static_cast<size_t>(j)] - mean)));
  }
  EXPECT_TRUE(all_close(net.mapping->w_avg, expected, 1e-6, 1e-5));
  // Eval mode: no update.
  const std::vector<float> tracked = net.mapping->w_avg.to_vector();
  net.eval();
  net.mix_styles(z, 1.f, g);
  EXPECT_EQ(net.mapping->w_avg.to_vector(), tracked);
}

TEST(StyleGanLiteTest, StyleMixingReplacesTheLayersFromTheCutoffOn) {
  auto gan = build(tiny(kCPU), kCPU);
  StyleGanGenerator& net = gan->g();
  const int64_t n = 3, L = net.num_ws(), d = 8;
  Generator g(9);
  std::set<int64_t> cutoffs;
  for (int trial = 0; trial < 12; ++trial) {
    const Tensor z = gan->sample_latent(n, g, kCPU);
    const std::vector<float> w1 = gan->mapping(z).to_vector();
    const MixedStyles m = net.mix_styles(z, 1.f, g);
    ASSERT_GE(m.cutoff, 1);
    ASSERT_LT(m.cutoff, L);
    ASSERT_TRUE(m.z2.defined());
    cutoffs.insert(m.cutoff);
    const std::vector<float> w2 = gan->mapping(m.z2).to_vector();
    ASSERT_EQ(m.ws.shape(), (Shape{n, L, d}));
    const std::vector<float> ws = m.ws.contiguous().to_vector();
    for (int64_t r = 0; r < n; ++r)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t j = 0; j < d; ++j) {
          const float want = (l < m.cutoff ? w1 : w2)[static_cast<size_t>(r * d + j)];
          ASSERT_EQ(ws[static_cast<size_t>((r * L + l) * d + j)], want)
              << "sample " << r << " layer " << l << " cutoff " << m.cutoff;
        }
    ASSERT_NE(w1, w2);
  }
  EXPECT_GE(cutoffs.size(), 2u) << "the cutoff never varies";
  // Probability 0: one style for every layer, nothing drawn.
  const Tensor z = gan->sample_latent(n, g, kCPU);
  const uint64_t offset = g.offset();
  const MixedStyles none = net.mix_styles(z, 0.f, g);
  EXPECT_EQ(g.offset(), offset);
  EXPECT_EQ(none.cutoff, L);
  EXPECT_FALSE(none.z2.defined());
  EXPECT_TRUE(all_close(none.ws, net.broadcast(gan->mapping(z)), 0, 0));
}

// R1 runs on steps 0, interval, 2 * interval, ... and adds interval * gamma / 2 * E||dD/dx||^2.
TEST(StyleGanLiteTest, LazyR1OnlyOnMultiplesOfTheInterval) {
  GanOptions o = tiny(kCPU);
  o.r1_interval = 3;
  o.r1_gamma = 2.f;
  auto gan = build(o, kCPU);
  const int64_t n = 4;
  const Tensor real = gantest::fake_real_batch(o, n, kCPU);
  for (int64_t step = 0; step < 7; ++step) {
    Generator g(10);
    StepContext ctx;
    ctx.generator = &g;
    ctx.step = step;
    const LossResult r = gan->discriminator_loss(real, Tensor(), ctx);
    EXPECT_EQ(r.logs.count("r1"), step % 3 == 0 ? 1u : 0u) << "step " << step;
  }
  // The logged penalty, from an explicit input gradient of D.
  Tensor x = real.detach();
  x.requires_grad_(true);
  const Tensor gx = ge::grad({sum(gan->discriminate(x, Tensor()))}, {x})[0];
  double sq = 0.0;
  for (float v : gx.to_vector())
    sq += static_cast<double>(v) * v;
  const double r1_ref = o.r1_gamma / 2.0 * sq / n;
  Generator ga(11), gb(11);
  StepContext c0, c1;
  c0.generator = &ga;
  c1.generator = &gb;
  c0.step = 6;
  c1.step = 7;
  const LossResult with = gan->discriminator_loss(real, Tensor(), c0);
  const LossResult without = gan->discriminator_loss(real, Tensor(), c1);
  ASSERT_TRUE(with.logs.count("r1"));
  EXPECT_NEAR(with.logs.at("r1"), r1_ref, 1e-4 * r1_ref + 1e-7);
  EXPECT_NEAR(with.loss.item() - without.loss.item(), 3.0 * r1_ref, 1e-3 * r1_ref + 1e-5);
  EXPECT_NEAR(with.logs.at("d_loss"), with.loss.item(), 1e-6);
  // gamma 0: never.
  o.r1_gamma = 0.f;
  auto plain = build(o, kCPU);
  Generator g(12);
  StepContext c;
  c.generator = &g;
  EXPECT_FALSE(plain->discriminator_loss(real, Tensor(), c).logs.count("r1"));
}

// D's loss reaches every D parameter (R1 included); G's loss every G parameter and, with D
// frozen for the step, none of D's, which still require grad afterwards.
TEST_P(StyleGanLiteDeviceTest, EachStepReachesOnlyItsOwnNetwork) {
  const Device dev = device();
  auto gan = build(tiny(dev), dev);
  gantest::expect_gradients_reach_every_parameter(*gan, dev);
  gan->discriminator().zero_grad();
  gan->generator().zero_grad();
  Generator g(13);
  StepContext ctx;
  ctx.generator = &g;
  gan->generator_loss(batch_for(dev), Tensor(), ctx).loss.backward();
  for (const auto& [name, p] : gan->discriminator().named_parameters()) {
    EXPECT_FALSE(p.grad().defined()) << name;
    EXPECT_TRUE(p.requires_grad()) << name;
  }
  gan->generator().zero_grad();
  gan->discriminator_loss(gantest::fake_real_batch(gan->options(), batch_for(dev), dev), Tensor(),
                          ctx)
      .loss.backward();
  for (const auto& [name, p] : gan->generator().named_parameters())
    EXPECT_FALSE(p.grad().defined()) << "D's step reached G's " << name;
}

// Two D/G steps with the default Adam settings and EMA; returns every tensor of G, D and the
// EMA, and the losses.
std::map<std::string, std::vector<float>> train_two_steps(StyleGanLite& gan, Device dev,
                                                          uint64_t seed) {
  const TrainDefaults t = gan.train_defaults();
  optim::Adam adam_d(gan.discriminator().parameters(), gantest::adam_options(t, t.d_lr));
  optim::Adam adam_g(gan.generator().parameters(), gantest::adam_options(t, t.g_lr));
  Generator g(seed);
  StepContext ctx;
  ctx.generator = &g;
  const int64_t n = batch_for(dev);
  std::map<std::string, std::vector<float>> out;
  for (int64_t s = 0; s < 2; ++s) {
    ctx.step = s;
    adam_d.zero_grad();
    const LossResult d = gan.discriminator_loss(
        gantest::fake_real_batch(gan.options(), n, dev, 50 + s), Tensor(), ctx);
    d.loss.backward();
    adam_d.step();
    adam_g.zero_grad();
    const LossResult gl = gan.generator_loss(n, Tensor(), ctx);
    gl.loss.backward();
    adam_g.step();
    gan.update_ema(t.ema_beta);
    out["d_loss" + std::to_string(s)] = {d.loss.item()};
    out["g_loss" + std::to_string(s)] = {gl.loss.item()};
  }
  for (const auto& [k, v] : gan.generator().state_dict())
    out["G." + k] = v.to_vector();
  for (const auto& [k, v] : gan.discriminator().state_dict())
    out["D." + k] = v.to_vector();
  for (const auto& [k, v] : gan.generator_ema()->state_dict())
    out["EMA." + k] = v.to_vector();
  return out;
}

TEST_P(StyleGanLiteDeviceTest, TwoTrainingStepsMoveEveryParameterAndTheEma) {
  const Device dev = device();
  auto gan = build(tiny(dev), dev);
  const auto g0 = gantest::snapshot(gan->generator());
  const auto d0 = gantest::snapshot(gan->discriminator());
  const auto after = train_two_steps(*gan, dev, 21);
  for (const auto& [k, v] : after)
    for (float x : v)
      ASSERT_TRUE(std::isfinite(x)) << k;
  for (const auto& [name, before] : g0) {
    EXPECT_NE(after.at("G." + name), before) << "G " << name << " did not move";
    // The EMA moved off its start (G's initial state) but lags G.
    EXPECT_NE(after.at("EMA." + name), before) << "EMA " << name << " did not move";
    EXPECT_NE(after.at("EMA." + name), after.at("G." + name)) << "EMA " << name << " equals G";
  }
  for (const auto& [name, before] : d0)
    EXPECT_NE(after.at("D." + name), before) << "D " << name << " did not move";
  EXPECT_NE(after.at("G.mapping.w_avg"), std::vector<float>(8, 0.f)) << "w_avg never updated";
  // Buffers are copied into the EMA, not averaged.
  EXPECT_EQ(after.at("EMA.mapping.w_avg"), after.at("G.mapping.w_avg"));
}

TEST_P(StyleGanLiteDeviceTest, PackedTrainingStepsMoveEveryDiscriminatorParameter) {
  const Device dev = device();
  GanOptions o = tiny(dev);
  o.pack = 2;
  auto gan = build(o, dev);
  const auto d0 = gantest::snapshot(gan->discriminator());
  const auto after = train_two_steps(*gan, dev, 23);
  for (const auto& [k, v] : after)
    for (float x : v)
      ASSERT_TRUE(std::isfinite(x)) << k;
  for (const auto& [name, before] : d0)
    EXPECT_NE(after.at("D." + name), before) << "D " << name << " did not move";
}

TEST_P(StyleGanLiteDeviceTest, IdenticalRunsAreBitwiseEqual) {
  const Device dev = device();
  auto a = build(tiny(dev), dev, 4);
  auto b = build(tiny(dev), dev, 4);
  const auto ra = train_two_steps(*a, dev, 33);
  const auto rb = train_two_steps(*b, dev, 33);
  ASSERT_EQ(ra.size(), rb.size());
  for (const auto& [k, v] : ra)
    EXPECT_EQ(v, rb.at(k)) << k;
  // A different training stream gives a different run (the comparison can fail).
  auto c = build(tiny(dev), dev, 4);
  EXPECT_NE(train_two_steps(*c, dev, 34).at("G.synthesis.b4.const"), ra.at("G.synthesis.b4.const"));
}

GE_INSTANTIATE_DEVICE_TEST(StyleGanLiteDeviceTest);

}  // namespace
}  // namespace ge::models
