// `gan augment`: takes a small balanced labelled subset of MNIST, trains a cGAN on it (or takes a
// trained one), writes labelled synthetic digits, and trains the classifier three times with the
// same number of updates: on the real subset, on the subset plus the synthetic digits, and on the
// synthetic digits alone (the Classification Accuracy Score); each is scored on the test split.
#include "augment_command.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "app_options.h"
#include "ganengine/error.h"
#include "ganengine/models/classifier.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/data/loader.h"
#include "ganengine/models/metrics/classification_accuracy_score.h"
#include "ganengine/models/metrics/evaluate.h"
#include "ganengine/models/npy.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/ops.h"
#include "training.h"

namespace ge::apps {
namespace {

struct AugmentArgs {
  std::string data = "data/mnist";
  std::string out = "runs/augment";
  std::string ckpt;  // a trained cgan; empty: train one on the subset
  std::string device = "cpu";
  int64_t real = 100;  // real digits, an equal number per class
  int64_t synthetic = 10000;
  int64_t gan_steps = 2000;
  int64_t classifier_steps = 2000;
  float instance_noise = 1.f;  // of the cgan's training, annealed to 0 over its steps
  uint64_t seed = 0;
  bool quiet = false;
};

constexpr models::data::ImageFormat kFormat{models::MnistClassifier::kResolution, 1};

double train_and_score(const models::data::Dataset& train, const models::data::Dataset& test,
                       const AugmentArgs& a, Device device) {
  models::ClassifierTrainOptions o;
  o.seed = a.seed;
  o.device = device;
  o.epochs = models::epochs_for_steps(train.size(), o.batch, a.classifier_steps);
  Generator init(a.seed);
  models::MnistClassifier net(init);
  return models::train_classifier(net, train, test, o).test_accuracy;
}

// A cgan trained on `subset` into OUT/cgan with the DCGAN settings.
void train_cgan(const AugmentArgs& a, std::shared_ptr<models::data::Dataset> subset,
                Device device) {
  models::GanOptions g;
  g.arch = "cgan";
  g.channels = 1;
  g.resolution = kFormat.resolution;
  g.num_classes = models::MnistClassifier::kNumClasses;
  models::train::TrainOptions t;
  t.out_dir = (std::filesystem::path(a.out) / "cgan").string();
  t.steps = a.gan_steps;
  t.batch = std::min<int64_t>(64, subset->size());
  t.seed = a.seed;
  t.device = device;
  t.progress = !a.quiet;
  t.checkpoint_every = 0;
  t.sample_every = 0;
  t.data = "mnist:" + a.data;
  t.instance_noise = a.instance_noise;
  Generator init(a.seed + kInitSeedOffset);
  const auto gan = models::make_model(g, init);
  models::data::DataLoader loader(std::move(subset), t.batch, t.seed, device);
  models::train::Trainer trainer(*gan, loader, t);
  trainer.run();
}

void run(const AugmentArgs& a) {
  const Device device = resolve_device(a.device);
  const int64_t classes = models::MnistClassifier::kNumClasses;
  GE_CHECK(a.real >= classes && a.real % classes == 0, "augment: --real ", a.real,
           ": expected a positive multiple of ", classes, " (an equal number of digits per class)");
  const std::shared_ptr<const models::data::Dataset> train_set =
      models::data::load_mnist(a.data, kFormat, "train");
  const auto test_set = models::data::load_mnist(a.data, kFormat, "test");
  const auto subset = models::data::make_subset(
      train_set, models::data::balanced_indices(*train_set, a.real / classes, a.seed));

  std::string ckpt = a.ckpt;
  if (ckpt.empty()) {
    std::fprintf(stderr, "augment: training a cgan on %lld real digits for %lld steps\n",
                 static_cast<long long>(a.real), static_cast<long long>(a.gan_steps));
    train_cgan(a, subset, device);
    ckpt = (std::filesystem::path(a.out) / "cgan").string();
  }
  const auto gan = models::train::load_gan(ckpt, device);
  models::metrics::EvalOptions draw;
  draw.seed = a.seed;
  const auto synthetic = models::metrics::labelled_samples(*gan, a.synthetic, draw);
  std::filesystem::create_directories(a.out);
  {
    std::vector<float> images(static_cast<size_t>(synthetic->size() * 32 * 32));
    std::vector<float> labels(static_cast<size_t>(synthetic->size()));
    for (int64_t i = 0; i < synthetic->size(); ++i) {
      synthetic->get(i, images.data() + i * 32 * 32);
      labels[static_cast<size_t>(i)] = static_cast<float>(synthetic->label(i));
    }
    models::save_npy((std::filesystem::path(a.out) / "synthetic_images.npy").string(),
                     from_vector(images, {synthetic->size(), 1, 32, 32}));
    models::save_npy((std::filesystem::path(a.out) / "synthetic_labels.npy").string(),
                     from_vector(labels, {synthetic->size()}));
  }

  std::fprintf(stderr, "augment: training the classifier (%lld updates each)\n",
               static_cast<long long>(a.classifier_steps));
  const double real_only = train_and_score(*subset, *test_set, a, device);
  const double mixed =
      train_and_score(*models::data::make_concat(subset, synthetic), *test_set, a, device);
  const double cas = train_and_score(*synthetic, *test_set, a, device);

  nlohmann::json report = {{"real", a.real},
                           {"synthetic", a.synthetic},
                           {"test_samples", test_set->size()},
                           {"classifier_steps", a.classifier_steps},
                           {"gan", ckpt},
                           {"seed", a.seed},
                           {"accuracy_real", real_only},
                           {"accuracy_real_synthetic", mixed},
                           {"classification_accuracy_score", cas}};
  if (a.ckpt.empty()) {
    report["gan_steps"] = a.gan_steps;
    report["instance_noise"] = a.instance_noise;
  }
  const std::string text = report.dump(2);
  models::metrics::save_report((std::filesystem::path(a.out) / "augment.json").string(), text);
  std::printf("%s\n", text.c_str());
  std::fprintf(stderr,
               "augment: held-out accuracy %.2f%% real only, %.2f%% real + synthetic; CAS "
               "%.2f%%\n",
               100.0 * real_only, 100.0 * mixed, 100.0 * cas);
}

}  // namespace

void add_augment_command(CLI::App& app) {
  auto a = std::make_shared<AugmentArgs>();
  CLI::App* cmd = app.add_subcommand(
      "augment",
      "train a cGAN on a few labelled MNIST digits (or take one), write labelled synthetic "
      "digits, and compare the classifier trained on the real digits with one trained on real "
      "+ synthetic (and on synthetic alone: CAS)");
  cmd->add_option("--data", a->data, "MNIST IDX directory")->capture_default_str();
  cmd->add_option("--real", a->real, "real training digits, an equal number per class")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--synthetic", a->synthetic, "synthetic digits to write and train on")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--ckpt", a->ckpt, "a trained cgan to draw from (default: train one)");
  cmd->add_option("--gan-steps", a->gan_steps, "steps of the cgan trained on the real digits")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--instance-noise", a->instance_noise,
                  "instance noise std of the cgan's training, annealed to 0 (a D that sees few "
                  "digits otherwise memorises them)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--classifier-steps", a->classifier_steps,
                  "updates of each classifier (at least; whole epochs)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", a->out,
                  "directory for the cgan, synthetic_images.npy, synthetic_labels.npy and "
                  "augment.json")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "seed of the subset, the cgan and the classifiers")
      ->capture_default_str();
  add_device_option(*cmd, a->device);
  cmd->add_flag("--quiet", a->quiet, "no progress display");
  cmd->callback([a] { run(*a); });
}

}  // namespace ge::apps
