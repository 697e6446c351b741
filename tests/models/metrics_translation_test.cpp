// The image-to-image report: translators whose outputs are known (the identity, a blank image)
// give answers the test works out on its own, from the data sets and the classifier directly.
#include "ganengine/models/metrics/evaluate_model.h"
#include "ganengine/models/metrics/translation.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data_test_util.h"
#include "engine/op_test_util.h"
#include "ganengine/autograd.h"
#include "ganengine/models/classifier.h"
#include "ganengine/models/cyclegan.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/metrics/frechet_distance.h"
#include "ganengine/ops.h"

namespace ge::models::metrics {
namespace {

using datatest::ScratchDir;
using nlohmann::json;
using optest::throws_with;

constexpr int64_t kSide = 32;
constexpr int kMnistTest = 20;
constexpr int64_t kDim = MnistClassifier::kFeatureDim;

// A small MNIST directory (bright blocks over faint noise, labels i % 10) and a classifier whose
// random features are read out by class means of typeset training digits, so that it tells
// digits apart without being trained.
struct TranslationFixture {
  ScratchDir dir;
  std::string mnist_spec, classifier_dir;
  std::unique_ptr<MnistClassifier> net;
  std::shared_ptr<data::Dataset> typeset_test, mnist_test;

  TranslationFixture() {
    const auto write_split = [&](const std::string& prefix, int n, uint32_t seed) {
      datatest::write_block_mnist(dir, prefix, n, seed);
    };
    write_split("train", 10, 1);
    write_split("t10k", kMnistTest, 2);
    mnist_spec = "mnist:" + dir.str();
    mnist_test = data::load_mnist(dir.str(), {kSide, 1}, "test");
    typeset_test = data::make_typeset_digits({kSide, 1}, 0, 0, "test");

    Generator g(3);
    MnistClassifier fresh(g);
    {
      NoGradGuard no_grad;
      const auto typeset_train = data::make_typeset_digits({kSide, 1}, 50, 0, "train");
      const std::vector<float> f = features(fresh, images(*typeset_train, 50));
      std::vector<double> mean(10 * kDim, 0.0);
      std::vector<int> count(10, 0);
      for (int64_t i = 0; i < 50; ++i) {
        const int64_t c = typeset_train->label(i);
        ++count[static_cast<size_t>(c)];
        for (int64_t j = 0; j < kDim; ++j)
          mean[static_cast<size_t>(c * kDim + j)] += f[static_cast<size_t>(i * kDim + j)];
      }
      // logit_c = <m_c, f> - |m_c|^2 / 2: the nearest class mean wins.
      std::vector<float> w(10 * kDim), b(10);
      for (int64_t c = 0; c < 10; ++c) {
        EXPECT_GT(count[static_cast<size_t>(c)], 0) << "no typeset " << c << " among 50";
        double norm = 0;
        for (int64_t j = 0; j < kDim; ++j) {
          const double m = mean[static_cast<size_t>(c * kDim + j)] / count[static_cast<size_t>(c)];
          w[static_cast<size_t>(c * kDim + j)] = static_cast<float>(m);
          norm += m * m;
        }
        b[static_cast<size_t>(c)] = static_cast<float>(-norm / 2);
      }
      fresh.fc2->weight.copy_(from_vector(w, {10, kDim}));
      fresh.fc2->bias.copy_(from_vector(b, {10}));
    }
    ClassifierReport report;
    report.test_accuracy = 0.5;
    classifier_dir = dir.file("classifier");
    save_classifier(classifier_dir, fresh, report);
    net = load_classifier(classifier_dir);
  }

  // The first n samples of ds, [n * C * R * R] floats.
  static std::vector<float> images(const data::Dataset& ds, int64_t n) {
    const int64_t per = numel(ds.sample_shape());
    std::vector<float> out(static_cast<size_t>(n * per));
    for (int64_t i = 0; i < n; ++i)
      ds.get(i, out.data() + i * per);
    return out;
  }
  static std::vector<float> features(MnistClassifier& m, const std::vector<float>& x) {
    NoGradGuard no_grad;
    const int64_t n = static_cast<int64_t>(x.size()) / (kSide * kSide);
    return m.forward_all(from_vector(x, {n, 1, kSide, kSide})).features.to_vector();
  }
  std::vector<int64_t> predictions(const std::vector<float>& x) const {
    NoGradGuard no_grad;
    const int64_t n = static_cast<int64_t>(x.size()) / (kSide * kSide);
    const std::vector<float> logits =
        net->forward(from_vector(x, {n, 1, kSide, kSide})).to_vector();
    std::vector<int64_t> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(std::max_element(logits.begin() + i * 10, logits.begin() + i * 10 + 10) -
                    (logits.begin() + i * 10));
    return out;
  }
  std::vector<int64_t> typeset_labels(int64_t n) const {
    std::vector<int64_t> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(typeset_test->label(i));
    return out;
  }
  EvalOptions options(int64_t n, int64_t batch) const {
    EvalOptions o;
    o.num_samples = n;
    o.batch = batch;
    o.classifier_dir = classifier_dir;
    return o;
  }
};

double accuracy(const std::vector<int64_t>& predicted, const std::vector<int64_t>& truth) {
  int64_t right = 0;
  for (size_t i = 0; i < truth.size(); ++i)
    right += predicted[i] == truth[i];
  return static_cast<double>(right) / static_cast<double>(truth.size());
}

double mean_abs_one_plus(const std::vector<float>& x) {
  double total = 0;
  for (float v : x)
    total += std::abs(1.0 + v);
  return total / static_cast<double>(x.size());
}

// |mu_a - mu_b|^2 + tr(S_b): the Frechet distance when every feature row of `a` is the same
// (S_a = 0), with the covariance's divisor N - 1.
double frechet_to_a_point(const std::vector<float>& point, const std::vector<float>& b) {
  const int64_t n = static_cast<int64_t>(b.size()) / kDim;
  double total = 0;
  for (int64_t j = 0; j < kDim; ++j) {
    double mean = 0;
    for (int64_t i = 0; i < n; ++i)
      mean += b[static_cast<size_t>(i * kDim + j)];
    mean /= static_cast<double>(n);
    double var = 0;
    for (int64_t i = 0; i < n; ++i)
      var += std::pow(b[static_cast<size_t>(i * kDim + j)] - mean, 2);
    total += std::pow(point[static_cast<size_t>(j)] - mean, 2) + var / static_cast<double>(n - 1);
  }
  return total;
}

const Translator kIdentity = [](const Tensor& x, bool) { return x; };
const Translator kBlank = [](const Tensor& x, bool) { return full(x.shape(), -1.f, x.device()); };

TEST(TranslationMetrics, IdentityKeepsEveryBaseline) {
  TranslationFixture f;
  constexpr int64_t n = 23;
  const json r = json::parse(
      evaluate_translation(kIdentity, {kSide, 1}, kCPU, "typeset", f.mnist_spec, f.options(n, 7)));
  EXPECT_EQ(r.at("data_a"), "typeset");
  EXPECT_EQ(r.at("data_b"), f.mnist_spec);
  EXPECT_EQ(r.at("eval_data_a"), "typeset-test");
  EXPECT_EQ(r.at("label_direction"), "a2b");
  EXPECT_EQ(r.at("label_samples"), n);
  EXPECT_EQ(r.at("cycle_samples_A"), n);
  EXPECT_EQ(r.at("cycle_samples_B"), kMnistTest);  // the test split holds fewer than n
  EXPECT_EQ(r.at("mnist_test_samples"), kMnistTest);
  EXPECT_EQ(r.at("classifier_test_accuracy"), 0.5);
  EXPECT_EQ(r.at("cycle_l1_A"), 0.0);
  EXPECT_EQ(r.at("cycle_l1_B"), 0.0);
  EXPECT_EQ(r.at("label_preservation"), r.at("label_preservation_baseline"));
  EXPECT_EQ(r.at("frechet_distance"), r.at("frechet_distance_baseline"));

  // The baselines from the data sets and the classifier directly.
  const std::vector<float> typeset = f.images(*f.typeset_test, n);
  const double expected = accuracy(f.predictions(typeset), f.typeset_labels(n));
  EXPECT_GT(expected, 0.1) << "the class-mean read-out should beat chance on typeset digits";
  EXPECT_DOUBLE_EQ(r.at("label_preservation_baseline").get<double>(), expected);
  // Per class, from the same predictions.
  const std::vector<int64_t> predicted = f.predictions(typeset), truth = f.typeset_labels(n);
  const auto per_class = r.at("label_preservation_per_class").get<std::vector<double>>();
  ASSERT_EQ(per_class.size(), 10u);
  EXPECT_EQ(r.at("label_preservation_per_class_baseline"), r.at("label_preservation_per_class"));
  for (int64_t c = 0; c < 10; ++c) {
    int64_t right = 0, total = 0;
    for (size_t i = 0; i < truth.size(); ++i)
      if (truth[i] == c) {
        ++total;
        right += predicted[i] == c ? 1 : 0;
      }
    EXPECT_DOUBLE_EQ(per_class[static_cast<size_t>(c)],
                     total == 0 ? 0.0 : static_cast<double>(right) / static_cast<double>(total))
        << c;
  }
  const Tensor typeset_features = from_vector(f.features(*f.net, typeset), {n, kDim});
  const Tensor mnist_features =
      from_vector(f.features(*f.net, f.images(*f.mnist_test, kMnistTest)), {kMnistTest, kDim});
  // The report reads in batches of 7, the test all at once: features agree to float rounding.
  const double fd = frechet_distance(typeset_features, mnist_features);
  EXPECT_NEAR(r.at("frechet_distance_baseline").get<double>(), fd, 1e-5 * fd);
}

TEST(TranslationMetrics, BlankTranslationsScoreAsBlanks) {
  TranslationFixture f;
  constexpr int64_t n = 15;
  const json r = json::parse(
      evaluate_translation(kBlank, {kSide, 1}, kCPU, "typeset", f.mnist_spec, f.options(n, 4)));
  const std::vector<float> blank(kSide * kSide, -1.f);
  const int64_t blank_digit = f.predictions(blank)[0];
  const std::vector<int64_t> labels = f.typeset_labels(n);
  EXPECT_DOUBLE_EQ(r.at("label_preservation").get<double>(),
                   accuracy(std::vector<int64_t>(n, blank_digit), labels));
  EXPECT_NEAR(r.at("cycle_l1_A").get<double>(), mean_abs_one_plus(f.images(*f.typeset_test, n)),
              1e-6);
  EXPECT_EQ(r.at("cycle_samples_B"), n);
  EXPECT_NEAR(r.at("cycle_l1_B").get<double>(), mean_abs_one_plus(f.images(*f.mnist_test, n)),
              1e-6);
  // Against every MNIST test image, not just the n of the round trips.
  const double fd = frechet_to_a_point(f.features(*f.net, blank),
                                       f.features(*f.net, f.images(*f.mnist_test, kMnistTest)));
  EXPECT_NEAR(r.at("frechet_distance").get<double>(), fd, 1e-6 * fd);
  EXPECT_NE(r.at("frechet_distance"), r.at("frechet_distance_baseline"));
}

// MNIST as domain A: the typeset digits of domain B go B -> A. A translator that blanks only
// B -> A shows which way each metric translated.
TEST(TranslationMetrics, SwappedDomainsTranslateTypesetBToA) {
  TranslationFixture f;
  constexpr int64_t n = 12;
  std::vector<int64_t> batches;
  std::vector<bool> grad;
  const Translator blank_b2a = [&](const Tensor& x, bool a2b) {
    batches.push_back(x.size(0));
    grad.push_back(is_grad_enabled());
    return a2b ? x : full(x.shape(), -1.f, x.device());
  };
  const json r = json::parse(evaluate_translation(blank_b2a, {kSide, 1}, kCPU, f.mnist_spec,
                                                  "typeset:" + std::string(data::kSystemFontDir),
                                                  f.options(n, 5)));
  EXPECT_EQ(r.at("label_direction"), "b2a");
  EXPECT_EQ(r.at("eval_data_b"), "typeset-test:" + std::string(data::kSystemFontDir));
  const int64_t blank_digit = f.predictions(std::vector<float>(kSide * kSide, -1.f))[0];
  EXPECT_DOUBLE_EQ(r.at("label_preservation").get<double>(),
                   accuracy(std::vector<int64_t>(n, blank_digit), f.typeset_labels(n)));
  EXPECT_DOUBLE_EQ(r.at("label_preservation_baseline").get<double>(),
                   accuracy(f.predictions(f.images(*f.typeset_test, n)), f.typeset_labels(n)));
  // Either round trip passes through one blanking step.
  EXPECT_NEAR(r.at("cycle_l1_A").get<double>(), mean_abs_one_plus(f.images(*f.mnist_test, n)),
              1e-6);
  EXPECT_NEAR(r.at("cycle_l1_B").get<double>(), mean_abs_one_plus(f.images(*f.typeset_test, n)),
              1e-6);
  // Batches of 5 (5, 5, 2 per domain, each there and back), all without autograd.
  EXPECT_EQ(batches, std::vector<int64_t>({5, 5, 5, 5, 2, 2, 5, 5, 5, 5, 2, 2}));
  EXPECT_EQ(grad, std::vector<bool>(12, false));
}

TEST(TranslationMetrics, OtherDomainsReportCyclesOnly) {
  TranslationFixture f;
  EvalOptions o = f.options(6, 4);
  o.classifier_dir = f.dir.file("absent");  // never read
  json r = json::parse(evaluate_translation(kBlank, {kSide, 1}, kCPU, "typeset", "typeset", o));
  EXPECT_EQ(r.at("cycle_samples_A"), 6);
  EXPECT_NEAR(r.at("cycle_l1_B").get<double>(), mean_abs_one_plus(f.images(*f.typeset_test, 6)),
              1e-6);
  EXPECT_FALSE(r.contains("label_preservation"));
  EXPECT_FALSE(r.contains("frechet_distance"));
  EXPECT_NE(r.at("classifier_metrics").get<std::string>().find("MNIST"), std::string::npos);

  // The classifier reads 32x32: a 16x16 model of the same domains gets cycles only.
  r = json::parse(evaluate_translation(kIdentity, {16, 1}, kCPU, "typeset", f.mnist_spec, o));
  EXPECT_EQ(r.at("cycle_l1_A"), 0.0);
  EXPECT_FALSE(r.contains("label_preservation"));
  EXPECT_NE(r.at("classifier_metrics").get<std::string>().find("16x16"), std::string::npos);
}

TEST(TranslationMetrics, BadInputsAreNamed) {
  TranslationFixture f;
  const EvalOptions o = f.options(4, 4);
  const Translator halve = [](const Tensor& x, bool) { return x.slice(2, 0, kSide / 2); };
  EXPECT_TRUE(throws_with(
      [&] {
        evaluate_translation(halve, {kSide, 1}, kCPU, "typeset", f.mnist_spec, o);
      },
      {"A->B translation", "[4, 1, 32, 32]", "[4, 1, 16, 32]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        evaluate_translation(kIdentity, {kSide, 1}, kCPU, "typeset", "", o);
      },
      {"(B)"}));
  EXPECT_TRUE(throws_with(
      [&] {
        evaluate_translation(kIdentity, {kSide, 1}, kCPU, "typeset", "ring8", o);
      },
      {"ring8", "[2]"}));
  EvalOptions no_classifier = o;
  no_classifier.classifier_dir = f.dir.file("absent");
  EXPECT_TRUE(throws_with(
      [&] {
        evaluate_translation(kIdentity, {kSide, 1}, kCPU, "typeset", f.mnist_spec, no_classifier);
      },
      {"classifier train"}));
  EvalOptions one = o;
  one.num_samples = 1;
  EXPECT_TRUE(throws_with(
      [&] {
        evaluate_translation(kIdentity, {kSide, 1}, kCPU, "typeset", f.mnist_spec, one);
      },
      {"num_samples >= 2"}));
}

// A real CycleGAN: its translations in eval mode, the same report twice, training mode restored.
TEST(TranslationMetrics, CycleGanIsEvaluatedInEvalMode) {
  TranslationFixture f;
  GanOptions opts;
  opts.arch = "cyclegan";
  opts.channels = 1;
  opts.resolution = kSide;
  opts.width = 4;
  opts.resnet_blocks = 1;
  Generator init(5);
  const std::unique_ptr<Model> model = make_model(opts, init);
  auto& cyclegan = dynamic_cast<CycleGan&>(*model);
  const EvalOptions o = f.options(6, 4);
  const std::string first = evaluate_model(cyclegan, "typeset", f.mnist_spec, o);
  for (const auto& [name, net] : model->networks())
    EXPECT_TRUE(net->is_training()) << name;
  EXPECT_EQ(evaluate_cyclegan(cyclegan, "typeset", f.mnist_spec, o), first);

  json expected;
  {
    ModelEvalGuard eval_mode(*model);
    expected = json::parse(
        evaluate_translation([&](const Tensor& x, bool a2b) { return cyclegan.translate(x, a2b); },
                             {kSide, 1}, kCPU, "typeset", f.mnist_spec, o));
  }
  json r = json::parse(first);
  EXPECT_EQ(r.at("arch"), "cyclegan");
  r.erase("arch");
  EXPECT_EQ(r, expected);
  EXPECT_GT(r.at("cycle_l1_A").get<double>(), 0.0);

  EXPECT_TRUE(throws_with([&] { evaluate_model(cyclegan, "typeset", "", o); }, {"(B)"}));
}

}  // namespace
}  // namespace ge::models::metrics
