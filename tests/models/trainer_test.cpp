// The trainer: its loop against a hand-written one, bitwise resume, NaN stops, metrics, grids.
#include "ganengine/models/train/trainer.h"

#include <algorithm>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ganengine/models/data/loader.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/optim.h"
#include "ganengine/safetensors.h"
#include "models/tiny_gan.h"
#include "models/train_test_util.h"
#include "support/devices.h"
#include "support/reference.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define STBI_ONLY_PNG
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace ge::testing {
namespace {

namespace fs = std::filesystem;
using models::train::Trainer;
using models::train::TrainOptions;

TrainOptions tiny_train_options(const std::string& dir, int64_t steps, Device device = kCPU) {
  TrainOptions o;
  o.out_dir = dir;
  o.steps = steps;
  o.batch = 8;
  o.seed = 7;
  o.device = device;
  o.checkpoint_every = 100;
  o.sample_every = 0;
  o.log_every = 1;
  o.grid_size = 4;
  o.progress = false;
  return o;
}

// Trains a fresh TinyGan (or resumes) to `steps`; returns the model.
std::unique_ptr<TinyGan> train(const TinyGanConfig& config, TrainOptions options,
                               int64_t dataset_size = 64) {
  auto gan = std::make_unique<TinyGan>(config);
  auto data = std::make_shared<TinyDataset>(dataset_size, config.image, config.num_classes);
  models::data::DataLoader loader(data, options.batch, options.seed, options.device);
  Trainer trainer(*gan, loader, options);
  trainer.run();
  EXPECT_EQ(trainer.step(), options.steps);
  return gan;
}

std::map<std::string, Tensor> checkpoint_tensors(const std::string& dir) {
  return load_safetensors((fs::path(dir) / "checkpoint.safetensors").string());
}

// The trainer's updates equal a loop written here with the engine's own optim::Adam: n_critic D
// steps on loader batches, then a G step, then the EMA update, with the architecture's defaults.
TEST(Trainer, MatchesAHandWrittenLoop) {
  TinyGanConfig config;
  config.ema = true;
  config.n_critic = 2;
  const std::string dir = fresh_dir("run");
  const auto trained = train(config, tiny_train_options(dir, 3));

  TinyGan ref(config);
  auto data = std::make_shared<TinyDataset>(64, false);
  models::data::DataLoader loader(data, 8, 7);
  const models::TrainDefaults d = ref.train_defaults();
  optim::AdamOptions g_adam{d.g_lr, d.beta1, d.beta2}, d_adam{d.d_lr, d.beta1, d.beta2};
  optim::Adam opt_g(ref.generator().parameters(), g_adam);
  optim::Adam opt_d(ref.discriminator().parameters(), d_adam);
  Generator rng(7);
  for (int64_t step = 0; step < 3; ++step) {
    models::StepContext ctx;
    ctx.step = step;
    ctx.generator = &rng;
    for (int64_t i = 0; i < 2; ++i) {
      ref.discriminator().zero_grad();
      ref.discriminator_loss(loader.next().x, Tensor(), ctx).loss.backward();
      opt_d.step();
    }
    ref.generator().zero_grad();
    ref.generator_loss(8, Tensor(), ctx).loss.backward();
    opt_g.step();
    // StyleGAN2-ADA's EMA ramp-up: horizon at most 5% of the images seen.
    ref.update_ema(std::min(d.ema_beta, std::pow(0.5f, 20.f / static_cast<float>(step + 1))));
  }
  const std::vector<std::pair<nn::Module*, nn::Module*>> pairs = {
      {&trained->generator(), &ref.generator()},
      {&trained->discriminator(), &ref.discriminator()},
      {trained->generator_ema(), ref.generator_ema()}};
  for (const auto& pair : pairs) {
    const auto a = pair.first->state_dict(), b = pair.second->state_dict();
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [key, t] : a)
      EXPECT_TRUE(all_close(t, b.at(key), 1e-6, 1e-5)) << key;
  }
  EXPECT_EQ(trained->d_losses.size(), 6u);  // n_critic D losses a step
  EXPECT_EQ(trained->g_losses.size(), 3u);
  for (bool frozen : trained->d_frozen)
    EXPECT_TRUE(frozen) << "D's parameters required grad during the generator loss";
  for (const Tensor& p : trained->discriminator().parameters())
    EXPECT_TRUE(p.requires_grad()) << "D's parameters were not restored after the G step";
}

class TrainerResume : public DeviceTest {};

// 3 steps, resume, 2 more == 5 straight: every parameter, buffer, Adam moment and counter.
TEST_P(TrainerResume, IsBitwiseIdenticalToAStraightRun) {
  TinyGanConfig config;
  config.ema = true;
  config.n_critic = 2;
  auto options = [&](const std::string& dir, int64_t steps) {
    TrainOptions o = tiny_train_options(dir, steps, device());
    o.clip_grad_norm = 0.5f;  // the clip changes gradients, so it must resume exactly too
    o.label_smoothing = 0.1f;
    o.checkpoint_every = 2;
    return o;
  };
  const std::string straight = fresh_dir("straight"), split = fresh_dir("split");
  const auto a = train(config, options(straight, 5), 24);  // 3 batches an epoch: epochs roll
  train(config, options(split, 3), 24);
  const auto after3 = checkpoint_tensors(split);
  TrainOptions resume = options(split, 5);
  resume.resume = true;
  const auto b = train(config, resume, 24);
  EXPECT_EQ(b->d_losses.size(), 4u) << "the resumed run should make only steps 4 and 5";

  const auto ta = checkpoint_tensors(straight), tb = checkpoint_tensors(split);
  EXPECT_TRUE(bitwise_equal(ta, tb));
  EXPECT_FALSE(bitwise_equal(after3, tb)) << "steps 4 and 5 changed nothing";
  EXPECT_TRUE(ta.count("opt.D.exp_avg_sq.3") && ta.count("G_ema.b2") && ta.count("D.running_mean"));
  EXPECT_TRUE(bitwise_equal(a->generator().state_dict(), b->generator().state_dict()));
  EXPECT_TRUE(bitwise_equal(a->generator_ema()->state_dict(), b->generator_ema()->state_dict()));

  const auto ra = models::train::read_checkpoint(straight);
  const auto rb = models::train::read_checkpoint(split);
  EXPECT_EQ(ra.step, 5);
  EXPECT_EQ(rb.step, 5);
  EXPECT_EQ(ra.rng_offset, rb.rng_offset);
  const auto& la = ra.loaders.at("real");
  const auto& lb = rb.loaders.at("real");
  EXPECT_EQ(la.epoch, lb.epoch);
  EXPECT_EQ(la.index, lb.index);
  EXPECT_EQ(la.epoch * 3 + la.index, 10);  // 2 batches a step, 3 an epoch
  EXPECT_EQ(ra.optimizers.at("G").steps, 5);
  EXPECT_EQ(ra.optimizers.at("D").steps, 10);
  EXPECT_EQ(ra.optimizers.at("D").param_steps, rb.optimizers.at("D").param_steps);
  EXPECT_EQ(ra.tensors_fnv1a64, rb.tensors_fnv1a64);
}

GE_INSTANTIATE_DEVICE_TEST(TrainerResume);

TEST(Trainer, NanLossStopsAndKeepsTheLastCheckpoint) {
  TinyGanConfig bad;
  bad.nan_loss_at = 4;  // 0-based: the fifth step
  const std::string dir = fresh_dir("nan"), clean = fresh_dir("clean");
  TrainOptions o = tiny_train_options(dir, 10);
  o.checkpoint_every = 2;
  const std::string message = error_of([&] { train(bad, o); });
  EXPECT_NE(message.find("step 5"), std::string::npos) << message;
  EXPECT_NE(message.find("generator loss is nan"), std::string::npos) << message;

  const auto record = models::train::read_checkpoint(dir);
  EXPECT_EQ(record.step, 4);
  // Intact: the same as a clean run stopped at step 4.
  train(TinyGanConfig{}, tiny_train_options(clean, 4));
  EXPECT_TRUE(bitwise_equal(checkpoint_tensors(dir), checkpoint_tensors(clean)));
  // Loadable: a healthy model resumes from it.
  TrainOptions resume = tiny_train_options(dir, 6);
  resume.resume = true;
  train(TinyGanConfig{}, resume);
  EXPECT_EQ(models::train::read_checkpoint(dir).step, 6);
}

TEST(Trainer, NanGradientStopsNamingTheParameter) {
  TinyGanConfig bad;
  bad.nan_grad_at = 2;
  const std::string dir = fresh_dir("nan");
  TrainOptions o = tiny_train_options(dir, 10);
  o.checkpoint_every = 1;
  const std::string message = error_of([&] { train(bad, o); });
  EXPECT_NE(message.find("step 3"), std::string::npos) << message;
  EXPECT_NE(message.find("discriminator gradient is nan"), std::string::npos) << message;
  EXPECT_NE(message.find("parameter 'D.w1'"), std::string::npos) << message;
  EXPECT_EQ(models::train::read_checkpoint(dir).step, 2);
}

TEST(Trainer, MetricsLinesParseAndAverageTheInterval) {
  const std::string dir = fresh_dir("metrics");
  TrainOptions o = tiny_train_options(dir, 7);
  o.log_every = 3;
  const auto gan = train(TinyGanConfig{}, o);
  const std::string text = read_text((fs::path(dir) / "metrics.jsonl").string());
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(nlohmann::json::parse(line));  // throws (fails) on a bad line
  ASSERT_EQ(lines.size(), 3u);
  const int64_t steps[] = {3, 6, 7}, first[] = {0, 3, 6};
  double last_time = 0;
  for (size_t i = 0; i < 3; ++i) {
    const auto& j = lines[i];
    EXPECT_EQ(j.at("step").get<int64_t>(), steps[i]);
    for (const char* key : {"time", "img_per_s", "d_loss", "g_loss", "d_real"})
      EXPECT_TRUE(j.contains(key) && j.at(key).is_number()) << key << " in " << j.dump();
    EXPECT_GE(j.at("time").get<double>(), last_time);
    last_time = j.at("time").get<double>();
    // The mean of the losses the model returned during the interval.
    double d = 0, g = 0;
    for (int64_t s = first[i]; s < steps[i]; ++s) {
      d += gan->d_losses[static_cast<size_t>(s)];
      g += gan->g_losses[static_cast<size_t>(s)];
    }
    const double n = static_cast<double>(steps[i] - first[i]);
    EXPECT_NEAR(j.at("d_loss").get<double>(), d / n, 1e-6);
    EXPECT_NEAR(j.at("g_loss").get<double>(), g / n, 1e-6);
  }

  // A resumed run drops what was logged after its checkpoint (here a line from a crashed run).
  write_text((fs::path(dir) / "metrics.jsonl").string(), text + "{\"step\":100}\n{\"ste");
  TrainOptions resume = tiny_train_options(dir, 9);
  resume.log_every = 3;
  resume.resume = true;
  train(TinyGanConfig{}, resume);
  std::vector<int64_t> logged;
  std::istringstream in2(read_text((fs::path(dir) / "metrics.jsonl").string()));
  for (std::string line; std::getline(in2, line);)
    logged.push_back(nlohmann::json::parse(line).at("step").get<int64_t>());
  EXPECT_EQ(logged, (std::vector<int64_t>{3, 6, 7, 9}));
}

// --log-grad-norm: each group's total gradient norm, here against the first step's norms
// recomputed with a hand-written D then G update; absent unless asked.
TEST(Trainer, LogsGradientNormsWhenAsked) {
  const std::string dir = fresh_dir("norms"), plain = fresh_dir("plain");
  TrainOptions o = tiny_train_options(dir, 1);
  o.log_grad_norm = true;
  train(TinyGanConfig{}, o);
  const auto line = nlohmann::json::parse(read_text((fs::path(dir) / "metrics.jsonl").string()));
  train(TinyGanConfig{}, tiny_train_options(plain, 1));
  const auto quiet = nlohmann::json::parse(read_text((fs::path(plain) / "metrics.jsonl").string()));
  EXPECT_FALSE(quiet.contains("g_grad_norm") || quiet.contains("d_grad_norm")) << quiet.dump();

  TinyGan ref(TinyGanConfig{});
  auto data = std::make_shared<TinyDataset>(64, false);
  models::data::DataLoader loader(data, 8, 7);
  const models::TrainDefaults d = ref.train_defaults();
  optim::Adam opt_d(ref.discriminator().parameters(), optim::AdamOptions{d.d_lr, d.beta1, d.beta2});
  Generator rng(7);
  models::StepContext ctx;
  ctx.generator = &rng;
  const auto norm = [](nn::Module& m) {
    double sq = 0;
    for (const Tensor& p : m.parameters())
      for (float v : p.grad().to_vector())
        sq += static_cast<double>(v) * v;
    return std::sqrt(sq);
  };
  ref.discriminator_loss(loader.next().x, Tensor(), ctx).loss.backward();
  const double d_norm = norm(ref.discriminator());
  opt_d.step();
  ref.generator_loss(8, Tensor(), ctx).loss.backward();
  const double g_norm = norm(ref.generator());
  ASSERT_TRUE(line.contains("g_grad_norm") && line.contains("d_grad_norm")) << line.dump();
  EXPECT_NEAR(line.at("d_grad_norm").get<double>(), d_norm, 1e-5 * d_norm);
  EXPECT_NEAR(line.at("g_grad_norm").get<double>(), g_norm, 1e-5 * g_norm);
}

TEST(Trainer, WritesGridsAtTheScheduleAndAtTheEnd) {
  TinyGanConfig config;
  config.image = true;
  const std::string dir = fresh_dir("grids");
  TrainOptions o = tiny_train_options(dir, 4);
  o.sample_every = 2;
  o.grid_size = 10;
  train(config, o);
  // torchvision's make_grid layout: round(sqrt(10)) = 3 columns, 4 rows of 8x8 with padding 2.
  for (const char* name : {"step_000002.png", "step_000004.png", "final.png"})
    EXPECT_EQ(png_size((fs::path(dir) / "samples" / name).string()), std::make_pair(32, 42))
        << name;
  EXPECT_FALSE(fs::exists(fs::path(dir) / "samples" / "step_000001.png"));
  EXPECT_EQ(png_size((fs::path(dir) / "loss_curve.png").string()), std::make_pair(800, 480));
}

TEST(Trainer, ConditionalGridsHaveOneRowPerClass) {
  TinyGanConfig config;
  config.image = true;
  config.num_classes = 3;
  const std::string dir = fresh_dir("cgrid");
  TrainOptions o = tiny_train_options(dir, 2);
  o.grid_size = 10;  // round(10 / 3) = 3 a class
  const auto gan = train(config, o);
  // G's loss gets the labels of the step's (last) real batch.
  ASSERT_EQ(gan->g_labels.size(), 2u);
  for (size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(gan->g_labels[s].size(), 8u);
    EXPECT_EQ(gan->g_labels[s], gan->d_labels[s]);
  }
  int w = 0, h = 0, c = 0;
  unsigned char* px =
      stbi_load((fs::path(dir) / "samples" / "final.png").string().c_str(), &w, &h, &c, 1);
  ASSERT_NE(px, nullptr);
  EXPECT_EQ(w, 32);
  EXPECT_EQ(h, 32);
  // Row r holds class r, whose images sit near tanh(0.5 r - 0.5) (TinyGan's class offset).
  for (int row = 0; row < 3; ++row) {
    double sum = 0;
    for (int y = 0; y < 8; ++y)
      for (int col = 0; col < 3; ++col)
        for (int x = 0; x < 8; ++x)
          sum += px[(2 + row * 10 + y) * w + 2 + col * 10 + x];
    const double mean = sum / (8 * 8 * 3);
    const double expected = (std::tanh(0.5 * row - 0.5) + 1) * 127.5;
    EXPECT_NEAR(mean, expected, 20) << "row " << row;
  }
  stbi_image_free(px);
}

TEST(Trainer, TwoDimensionalModelsGetScatterPlots) {
  const std::string dir = fresh_dir("scatter");
  TrainOptions o = tiny_train_options(dir, 2);
  o.sample_every = 1;
  train(TinyGanConfig{}, o);
  for (const char* name : {"step_000001.png", "step_000002.png", "final.png"})
    EXPECT_EQ(png_size((fs::path(dir) / "samples" / name).string()), std::make_pair(560, 560))
        << name;
}

TEST(Trainer, RefusesMismatchedDataAndOptions) {
  const std::string dir = fresh_dir("bad");
  TinyGan gan(TinyGanConfig{});
  auto images = std::make_shared<TinyDataset>(16, true);
  models::data::DataLoader loader(images, 8, 0);
  EXPECT_NE(error_of([&] {
              Trainer(gan, loader, tiny_train_options(dir, 1));
            }).find("has samples [1, 8, 8] but model 'tiny' expects [2]"),
            std::string::npos);
  auto points = std::make_shared<TinyDataset>(16, false);
  models::data::DataLoader loader4(points, 4, 0);
  EXPECT_NE(error_of([&] {
              Trainer(gan, loader4, tiny_train_options(dir, 1));
            }).find("batch is 8 but the real data loader's batch size is 4"),
            std::string::npos);
  TinyGanConfig conditional;
  conditional.num_classes = 3;
  TinyGan cgan(conditional);
  models::data::DataLoader unlabelled(points, 8, 0);
  EXPECT_NE(error_of([&] {
              Trainer(cgan, unlabelled, tiny_train_options(dir, 1));
            }).find("has no labels"),
            std::string::npos);
  TrainOptions resume = tiny_train_options(dir, 1);
  resume.resume = true;
  models::data::DataLoader loader8(points, 8, 0);
  Trainer trainer(gan, loader8, resume);
  EXPECT_NE(error_of([&] { trainer.run(); }).find("checkpoint.json: no checkpoint here"),
            std::string::npos);
}

TEST(TrainerEma, DecayRampsUpToTheConfiguredBeta) {
  EXPECT_FLOAT_EQ(models::train::ema_decay(0.999f, 19),
                  0.5f);  // 20 steps in: a horizon of one step
  EXPECT_NEAR(models::train::ema_decay(0.999f, 0), 9.5367431640625e-07f, 1e-12f);
  EXPECT_FLOAT_EQ(models::train::ema_decay(0.99f, 100000), 0.99f);
  EXPECT_FLOAT_EQ(models::train::ema_decay(0.f, 5), 0.f);
}

}  // namespace
}  // namespace ge::testing
