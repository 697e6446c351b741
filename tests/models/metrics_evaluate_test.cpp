// `gan eval`'s report: fake models whose samples are known (mixture means, the real test images)
// so the metrics have known answers, plus a real untrained MLP GAN for the key set and ranges.
#include "ganengine/models/metrics/evaluate.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "data_test_util.h"
#include "engine/op_test_util.h"
#include "gan_test_util.h"
#include "ganengine/autograd.h"
#include "ganengine/models/classifier.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/ops.h"

namespace ge::models::metrics {
namespace {

using datatest::ScratchDir;
using nlohmann::json;
using optest::throws_with;

class Holder : public nn::Module {
 public:
  Holder() {
    w = zeros({1});
    register_parameter("w", w);
  }
  std::string name() const override { return "Holder"; }
  Tensor w;
};

// A model whose sample i (counted over every generate call) is `sample(i, label)`, recording how
// evaluate called it.
class FakeGan : public Gan {
 public:
  using SampleFn = std::function<std::vector<float>(int64_t index, int64_t label)>;
  FakeGan(GanOptions o, Shape sample_shape, SampleFn sample, bool with_ema = true)
      : Gan(std::move(o)), shape_(std::move(sample_shape)), sample_(std::move(sample)) {
    if (with_ema) ema_ = std::make_shared<Holder>();
  }
  nn::Module& generator() override { return g_; }
  nn::Module& discriminator() override { return d_; }
  nn::Module* generator_ema() override { return ema_.get(); }
  Tensor generate(const Tensor& z, const Tensor& labels, bool ema, float truncation) override {
    const int64_t n = z.size(0);
    batches.push_back(n);
    latents.push_back(z.to_vector());
    ema_flags.push_back(ema);
    truncations.push_back(truncation);
    training_during.push_back(g_.is_training() || (ema_ && ema_->is_training()));
    grad_enabled.push_back(is_grad_enabled());
    std::vector<float> out;
    const std::vector<float> l = labels.defined() ? labels.to_vector() : std::vector<float>{};
    for (int64_t i = 0; i < n; ++i) {
      const int64_t label = l.empty() ? -1 : static_cast<int64_t>(l[static_cast<size_t>(i)]);
      seen_labels.push_back(label);
      const std::vector<float> s = sample_(count_++, label);
      out.insert(out.end(), s.begin(), s.end());
    }
    Shape shape = {n};
    shape.insert(shape.end(), shape_.begin(), shape_.end());
    return from_vector(out, shape, z.device());
  }
  Tensor discriminate(const Tensor&, const Tensor&) override { fail("FakeGan: no D"); }
  LossResult discriminator_loss(const Tensor&, const Tensor&, StepContext&) override {
    fail("FakeGan: no D");
  }
  LossResult generator_loss(int64_t, const Tensor&, StepContext&) override {
    fail("FakeGan: no loss");
  }

  std::vector<int64_t> batches, seen_labels;
  std::vector<std::vector<float>> latents;
  std::vector<bool> ema_flags, training_during, grad_enabled;
  std::vector<float> truncations;

 private:
  Holder g_, d_;
  std::shared_ptr<Holder> ema_;
  Shape shape_;
  SampleFn sample_;
  int64_t count_ = 0;
};

GanOptions fake_options(int64_t channels, int64_t num_classes = 0) {
  GanOptions o;
  o.arch = "fake";
  o.channels = channels;
  o.resolution = 32;
  o.latent_dim = 3;
  o.num_classes = num_classes;
  return o;
}

std::vector<float> mean_of(const data::MixtureSpec& spec, int64_t mode) {
  const auto& [x, y] = spec.means[static_cast<size_t>(mode)];
  return {x, y};
}

TEST(EvaluateTest, RingOnThreeModesAndHowItSamples) {
  const data::MixtureSpec ring = data::gaussian_mixture_spec("ring8");
  const int64_t modes[3] = {0, 3, 5};
  FakeGan gan(fake_options(0), {2},
              [&](int64_t i, int64_t) { return mean_of(ring, modes[i % 3]); });
  gan.generator().train();
  gan.generator_ema()->eval();
  EvalOptions o;
  o.num_samples = 7;  // ignored: mixtures always take 2,500
  o.batch = 300;
  o.seed = 42;
  o.truncation = 0.7f;
  const json r = json::parse(evaluate(gan, "ring8", o));

  EXPECT_EQ(r.at("data"), "ring8");
  EXPECT_EQ(r.at("arch"), "fake");
  EXPECT_EQ(r.at("samples"), 2500);
  EXPECT_EQ(r.at("num_modes"), 8);
  EXPECT_EQ(r.at("modes_captured"), 3);
  EXPECT_EQ(r.at("high_quality_percent"), 100.0);
  // Sample i sits on mode modes[i % 3]: 834, 833 and 833 of 2,500.
  EXPECT_EQ(r.at("high_quality_per_mode"), json({834, 0, 0, 833, 0, 833, 0, 0}));
  // Real data: 2-D Gaussian radius beyond 3 stddevs has probability exp(-9/2) = 1.1%.
  EXPECT_EQ(r.at("modes_captured_real"), 8);
  EXPECT_GT(r.at("high_quality_percent_real").get<double>(), 97.5);
  EXPECT_LT(r.at("high_quality_percent_real").get<double>(), 100.0);
  EXPECT_FALSE(r.contains("step"));

  // Batches of at most 300 covering 2,500; the EMA generator, the truncation, eval mode, no
  // autograd; latents from Generator(seed) alone.
  int64_t total = 0;
  for (int64_t b : gan.batches) {
    EXPECT_LE(b, 300);
    total += b;
  }
  EXPECT_EQ(total, 2500);
  for (size_t i = 0; i < gan.batches.size(); ++i) {
    EXPECT_TRUE(gan.ema_flags[i]);
    EXPECT_EQ(gan.truncations[i], 0.7f);
    EXPECT_FALSE(gan.training_during[i]);
    EXPECT_FALSE(gan.grad_enabled[i]);
  }
  EXPECT_TRUE(gan.generator().is_training()) << "training mode restored";
  EXPECT_FALSE(gan.generator_ema()->is_training()) << "eval mode kept";
  Generator g(42);
  EXPECT_EQ(gan.latents[0], gan.sample_latent(300, g, kCPU).to_vector());
  EXPECT_EQ(gan.latents[1], gan.sample_latent(300, g, kCPU).to_vector());
  EXPECT_EQ(r.at("ema"), true);

  o.ema = false;
  FakeGan again(fake_options(0), {2},
                [&](int64_t i, int64_t) { return mean_of(ring, modes[i % 3]); });
  EXPECT_EQ(json::parse(evaluate(again, "ring8", o)).at("ema"), false);
  EXPECT_FALSE(again.ema_flags[0]);
}

TEST(EvaluateTest, ConditionalLabelsCycleOverAllSamples) {
  const data::MixtureSpec grid = data::gaussian_mixture_spec("grid25");
  // The label picks the grid mode, so labels 0..24 must all come for every mode to be hit.
  FakeGan gan(
      fake_options(0, 25), {2}, [&](int64_t, int64_t label) { return mean_of(grid, label); },
      false);
  EvalOptions o;
  o.batch = 7;  // not a multiple of 25: labels continue across batches
  const json r = json::parse(evaluate(gan, "grid25", o));
  ASSERT_EQ(gan.seen_labels.size(), 2500u);
  for (size_t i = 0; i < gan.seen_labels.size(); ++i)
    ASSERT_EQ(gan.seen_labels[i], static_cast<int64_t>(i % 25)) << "sample " << i;
  EXPECT_EQ(r.at("num_modes"), 25);
  EXPECT_EQ(r.at("modes_captured"), 25);
  EXPECT_EQ(r.at("high_quality_percent"), 100.0);
  EXPECT_EQ(r.at("high_quality_per_mode"), json(std::vector<int64_t>(25, 100)));
  EXPECT_EQ(r.at("ema"), false);
  EXPECT_EQ(r.at("modes_captured_real"), 25);
}

TEST(EvaluateTest, FarSamplesScoreNothing) {
  FakeGan gan(fake_options(0), {2}, [](int64_t, int64_t) { return std::vector<float>{0.f, 0.f}; });
  const json r = json::parse(evaluate(gan, "ring8", EvalOptions{}));
  EXPECT_EQ(r.at("modes_captured"), 0);
  EXPECT_EQ(r.at("high_quality_percent"), 0.0);
}

TEST(EvaluateTest, UntrainedMlpGanOnTheRing) {
  Generator g(3);
  GanOptions opts = gantest::tiny_options("gan-mlp", kCPU);
  auto gan = make_gan(opts, g);
  EvalOptions o;
  o.batch = 1000;
  o.seed = 5;
  const std::string text = evaluate(*gan, "ring8", o);
  const json r = json::parse(text);
  const std::set<std::string> keys = {"data",
                                      "arch",
                                      "samples",
                                      "seed",
                                      "ema",
                                      "truncation",
                                      "modes_captured",
                                      "num_modes",
                                      "high_quality_percent",
                                      "high_quality_per_mode",
                                      "modes_captured_real",
                                      "high_quality_percent_real"};
  std::set<std::string> got;
  for (const auto& item : r.items())
    got.insert(item.key());
  EXPECT_EQ(got, keys);
  EXPECT_EQ(r.at("arch"), "gan-mlp");
  EXPECT_GE(r.at("modes_captured").get<int64_t>(), 0);
  EXPECT_LE(r.at("modes_captured").get<int64_t>(), 8);
  EXPECT_GE(r.at("high_quality_percent").get<double>(), 0.0);
  EXPECT_LE(r.at("high_quality_percent").get<double>(), 100.0);
  EXPECT_EQ(r.at("modes_captured_real"), 8);
  EXPECT_TRUE(gan->generator().is_training());
  // Seeded: the same report again.
  EXPECT_EQ(evaluate(*gan, "ring8", o), text);
}

TEST(EvaluateTest, RefusesWhatItCannotMeasure) {
  FakeGan points(fake_options(0), {2}, [](int64_t, int64_t) {
    return std::vector<float>{0.f, 0.f};
  });
  FakeGan images(fake_options(1), {1, 32, 32},
                 [](int64_t, int64_t) { return std::vector<float>(32 * 32, 0.f); });
  EvalOptions o;
  EXPECT_TRUE(throws_with([&] { evaluate(images, "images:/tmp", o); },
                          {"no metric covers image folders", "images:/tmp"}));
  EXPECT_TRUE(throws_with([&] { evaluate(images, "cifar", o); },
                          {"no metric covers the data \"cifar\"", "ring8"}));
  EXPECT_TRUE(throws_with([&] { evaluate(images, "mnist:", o); }, {"names no directory"}));
  EXPECT_TRUE(throws_with([&] { evaluate(points, "mnist:/nowhere", o); },
                          {"1-channel 32x32", "channels 0"}));
  EXPECT_TRUE(throws_with([&] { evaluate(images, "stacked-mnist:/nowhere", o); },
                          {"3-channel 32x32", "channels 1"}));
  EXPECT_TRUE(throws_with([&] { evaluate(images, "ring8", o); }, {"2-D points", "channels 1"}));
  o.batch = 0;
  EXPECT_TRUE(throws_with([&] { evaluate(points, "ring8", o); }, {"batch >= 1", "got 0"}));
  o.batch = 10;
  o.num_samples = 1;
  EXPECT_TRUE(throws_with([&] { evaluate(images, "mnist:/nowhere", o); }, {"num_samples >= 2"}));
}

// ---- image data: a small IDX set and a randomly initialised classifier saved beside it.

constexpr int kTrain = 12, kTest = 20;

struct MnistFixture {
  ScratchDir dir;
  std::string classifier_dir;
  std::shared_ptr<data::Dataset> train, test;
  std::unique_ptr<MnistClassifier> net;

  MnistFixture() {
    const auto write_split = [&](const std::string& prefix, int n, uint32_t seed) {
      datatest::write_block_mnist(dir, prefix, n, seed);
    };
    write_split("train", kTrain, 1);
    write_split("t10k", kTest, 2);
    train = data::load_mnist(dir.str(), {32, 1}, "train");
    test = data::load_mnist(dir.str(), {32, 1}, "test");
    Generator g(9);
    MnistClassifier fresh(g);
    {
      // A random network reads one class everywhere. Output row k becomes the centred feature
      // vector of test image k (a nearest-prototype read-out), so classes spread over the data.
      NoGradGuard no_grad;
      std::vector<float> all;
      for (int i = 0; i < kTest; ++i) {
        const std::vector<float> img = image(*test, i);
        all.insert(all.end(), img.begin(), img.end());
      }
      const std::vector<float> feats =
          fresh.forward_all(from_vector(all, {kTest, 1, 32, 32})).features.to_vector();
      const int64_t d = MnistClassifier::kFeatureDim;
      std::vector<double> mean(static_cast<size_t>(d), 0.0);
      for (int i = 0; i < kTest; ++i)
        for (int64_t j = 0; j < d; ++j)
          mean[static_cast<size_t>(j)] += feats[static_cast<size_t>(i * d + j)] / kTest;
      std::vector<float> w(static_cast<size_t>(10 * d)), b(10);
      double biggest = 0;
      for (int k = 0; k < 10; ++k) {
        double norm = 0;
        for (int64_t j = 0; j < d; ++j)
          norm += std::pow(feats[static_cast<size_t>(k * d + j)] - mean[static_cast<size_t>(j)], 2);
        biggest = std::max(biggest, norm);
      }
      const double scale = 4 / biggest;  // logits of a few units: confident, not one-hot
      for (int k = 0; k < 10; ++k) {
        double bias = 0;
        for (int64_t j = 0; j < d; ++j) {
          const double wj =
              scale * (feats[static_cast<size_t>(k * d + j)] - mean[static_cast<size_t>(j)]);
          w[static_cast<size_t>(k * d + j)] = static_cast<float>(wj);
          bias -= wj * mean[static_cast<size_t>(j)];
        }
        b[static_cast<size_t>(k)] = static_cast<float>(bias);
      }
      fresh.fc2->weight.copy_(from_vector(w, {10, d}));
      fresh.fc2->bias.copy_(from_vector(b, {10}));
    }
    ClassifierReport report;
    report.test_accuracy = 0.25;
    classifier_dir = dir.file("classifier");
    save_classifier(classifier_dir, fresh, report);
    net = load_classifier(classifier_dir);
  }

  std::vector<float> image(const data::Dataset& ds, int64_t i) const {
    std::vector<float> v(32 * 32 * static_cast<size_t>(ds.sample_shape()[0]));
    ds.get(i, v.data());
    return v;
  }

  // The classifier's probabilities for one [C=1] image, softmax written out in double.
  std::vector<double> probs(const std::vector<float>& img) const {
    NoGradGuard no_grad;
    const std::vector<float> logits = net->forward(from_vector(img, {1, 1, 32, 32})).to_vector();
    double m = logits[0], total = 0;
    for (float l : logits)
      m = std::max(m, static_cast<double>(l));
    std::vector<double> p;
    for (float l : logits) {
      p.push_back(std::exp(l - m));
      total += p.back();
    }
    for (double& x : p)
      x /= total;
    return p;
  }
  int64_t digit(const std::vector<float>& img) const {
    const std::vector<double> p = probs(img);
    return std::max_element(p.begin(), p.end()) - p.begin();
  }
};

TEST(EvaluateMnistTest, RealTestImagesAsSamplesMatchTheBaseline) {
  MnistFixture f;
  // The model "generates" the test split itself, so every generated metric equals its real
  // counterpart, and the Frechet distance to the test split is 0.
  FakeGan gan(fake_options(1), {1, 32, 32},
              [&](int64_t i, int64_t) { return f.image(*f.test, i % kTest); });
  EvalOptions o;
  o.num_samples = kTest;
  o.batch = 6;
  o.classifier_dir = f.classifier_dir;
  const json r = json::parse(evaluate(gan, "mnist:" + f.dir.str(), o));

  EXPECT_EQ(r.at("data"), "mnist");
  EXPECT_EQ(r.at("samples"), kTest);
  EXPECT_EQ(r.at("real_test_samples"), kTest);
  EXPECT_EQ(r.at("real_train_samples"), kTrain);
  EXPECT_EQ(r.at("classifier_test_accuracy"), 0.25);

  // The classifier score by hand: exp(mean_i KL(p_i || mean p)) over one split of 20.
  std::vector<std::vector<double>> p;
  std::vector<double> marginal(10, 0.0);
  std::vector<int64_t> hist(10, 0);
  for (int i = 0; i < kTest; ++i) {
    p.push_back(f.probs(f.image(*f.test, i)));
    for (int k = 0; k < 10; ++k)
      marginal[static_cast<size_t>(k)] += p.back()[static_cast<size_t>(k)] / kTest;
    ++hist[static_cast<size_t>(f.digit(f.image(*f.test, i)))];
  }
  double kl = 0;
  for (const auto& row : p)
    for (int k = 0; k < 10; ++k)
      kl += row[static_cast<size_t>(k)] *
            std::log(row[static_cast<size_t>(k)] / marginal[static_cast<size_t>(k)]) / kTest;
  EXPECT_NEAR(r.at("classifier_score").at("mean").get<double>(), std::exp(kl), 1e-5);
  EXPECT_EQ(r.at("classifier_score").at("std"), 0.0);
  EXPECT_EQ(r.at("classifier_score").at("splits"), 1);
  EXPECT_EQ(r.at("classifier_score"), r.at("classifier_score_real"));

  EXPECT_EQ(r.at("class_histogram"), json(hist));
  EXPECT_EQ(r.at("class_histogram_real"), json(hist));
  double kl_uniform = 0;
  for (int64_t c : hist)
    if (c > 0) kl_uniform += (c / 20.0) * std::log(c / 20.0 * 10);
  EXPECT_NEAR(r.at("kl_to_uniform").get<double>(), kl_uniform, 1e-12);
  EXPECT_EQ(r.at("kl_to_uniform"), r.at("kl_to_uniform_real"));

  const double fd = r.at("frechet_distance").get<double>();
  const double fd_real = r.at("frechet_distance_real").get<double>();
  EXPECT_GE(fd, 0.0);
  EXPECT_LT(fd, 1e-4 * fd_real) << "identical feature sets";
  EXPECT_GT(fd_real, 0.0) << "the training images differ from the test images";

  // A model "generating" the training images the baseline reads: the same distance.
  FakeGan copier(fake_options(1), {1, 32, 32},
                 [&](int64_t i, int64_t) { return f.image(*f.train, i % kTrain); });
  o.num_samples = kTrain;
  const json c = json::parse(evaluate(copier, "mnist:" + f.dir.str(), o));
  EXPECT_EQ(c.at("frechet_distance"), c.at("frechet_distance_real"));
  EXPECT_EQ(c.at("frechet_distance_real").get<double>(), fd_real);
  EXPECT_EQ(c.at("classifier_score_real"), r.at("classifier_score_real"));
}

TEST(EvaluateMnistTest, StackedModesAsTheClassifierReadsThem) {
  MnistFixture f;
  // Channel c of sample i is test image (i + c) % 20.
  FakeGan gan(fake_options(3), {3, 32, 32}, [&](int64_t i, int64_t) {
    std::vector<float> v;
    for (int64_t c = 0; c < 3; ++c) {
      const std::vector<float> img = f.image(*f.test, (i + c) % kTest);
      v.insert(v.end(), img.begin(), img.end());
    }
    return v;
  });
  EvalOptions o;
  o.num_samples = 30;
  o.batch = 8;
  o.seed = 4;
  o.classifier_dir = f.classifier_dir;
  const json r = json::parse(evaluate(gan, "stacked-mnist:" + f.dir.str(), o));

  std::vector<int64_t> digit(kTest);
  for (int i = 0; i < kTest; ++i)
    digit[static_cast<size_t>(i)] = f.digit(f.image(*f.test, i));
  std::map<int64_t, int64_t> fake_modes;
  for (int64_t i = 0; i < 30; ++i)
    ++fake_modes[100 * digit[static_cast<size_t>(i % kTest)] +
                 10 * digit[static_cast<size_t>((i + 1) % kTest)] +
                 digit[static_cast<size_t>((i + 2) % kTest)]];
  const auto kl_of = [](const std::map<int64_t, int64_t>& modes, double n) {
    double kl = 0;
    for (const auto& [mode, count] : modes)
      kl += count / n * std::log(count / n * 1000);
    return kl;
  };
  EXPECT_EQ(r.at("num_modes"), 1000);
  EXPECT_EQ(r.at("modes"), static_cast<int64_t>(fake_modes.size()));
  EXPECT_NEAR(r.at("kl_to_uniform").get<double>(), kl_of(fake_modes, 30), 1e-12);

  // The baseline: stacked samples of the training split drawn with seed + 1, read the same way.
  const auto stacked = data::make_stacked_mnist(f.train, 30, 5);
  std::map<int64_t, int64_t> real_modes;
  for (int64_t i = 0; i < 30; ++i) {
    const std::vector<float> s = f.image(*stacked, i);
    int64_t mode = 0;
    for (int c = 0; c < 3; ++c)
      mode =
          10 * mode + f.digit(std::vector<float>(s.begin() + c * 1024, s.begin() + (c + 1) * 1024));
    ++real_modes[mode];
  }
  EXPECT_EQ(r.at("modes_real"), static_cast<int64_t>(real_modes.size()));
  EXPECT_NEAR(r.at("kl_to_uniform_real").get<double>(), kl_of(real_modes, 30), 1e-12);
}

TEST(EvaluateMnistTest, MissingClassifierSaysHowToMakeOne) {
  MnistFixture f;
  FakeGan gan(fake_options(1), {1, 32, 32},
              [&](int64_t i, int64_t) { return f.image(*f.test, i % kTest); });
  EvalOptions o;
  o.num_samples = 4;
  o.classifier_dir = f.dir.file("none");
  EXPECT_TRUE(
      throws_with([&] { evaluate(gan, "mnist:" + f.dir.str(), o); }, {"gan classifier train"}));
}

}  // namespace
}  // namespace ge::models::metrics
