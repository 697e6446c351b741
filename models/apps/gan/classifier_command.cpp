#include "classifier_command.h"

#include <cstdio>
#include <memory>
#include <string>

#include "app_options.h"
#include "ganengine/models/classifier.h"
#include "ganengine/models/data/dataset.h"

namespace ge::apps {
namespace {

struct ClassifierArgs {
  std::string data = "data/mnist";
  std::string out = "data/classifier";
  std::string ckpt = "data/classifier";
  std::string device = "cpu";
  models::ClassifierTrainOptions train;
  int64_t eval_batch = 500;
};

// The model's input format: MNIST's 28x28 digits padded to 32, one channel.
constexpr models::data::ImageFormat kFormat{models::MnistClassifier::kResolution, 1};

void train(ClassifierArgs& a) {
  models::ClassifierTrainOptions options = a.train;
  options.device = resolve_device(a.device);
  const auto train_set = models::data::load_mnist(a.data, kFormat, "train");
  const auto test_set = models::data::load_mnist(a.data, kFormat, "test");
  std::printf("training the MNIST classifier on %lld digits of %s (held out: %lld), %lld epochs\n",
              static_cast<long long>(train_set->size()), a.data.c_str(),
              static_cast<long long>(test_set->size()), static_cast<long long>(options.epochs));
  std::fflush(stdout);
  options.on_epoch = [&](int64_t epoch, double loss, double accuracy) {
    std::printf("epoch %lld/%lld  loss %.4f  held-out accuracy %.2f%%\n",
                static_cast<long long>(epoch), static_cast<long long>(options.epochs), loss,
                100.0 * accuracy);
    std::fflush(stdout);
  };
  Generator init(options.seed);
  models::MnistClassifier net(init);
  const models::ClassifierReport report =
      models::train_classifier(net, *train_set, *test_set, options);
  models::save_classifier(a.out, net, report);
  std::printf("held-out accuracy %.2f%% after %lld epochs (%.1f s); saved to %s\n",
              100.0 * report.test_accuracy, static_cast<long long>(report.epochs), report.seconds,
              a.out.c_str());
}

void eval(const ClassifierArgs& a) {
  const Device device = resolve_device(a.device);
  models::ClassifierReport saved;
  const auto net = models::load_classifier(a.ckpt, device, &saved);
  const auto test_set = models::data::load_mnist(a.data, kFormat, "test");
  const double accuracy = models::classifier_accuracy(*net, *test_set, a.eval_batch);
  std::printf("held-out accuracy %.2f%% on %lld digits of %s (%s: %.2f%% when saved)\n",
              100.0 * accuracy, static_cast<long long>(test_set->size()), a.data.c_str(),
              a.ckpt.c_str(), 100.0 * saved.test_accuracy);
}

}  // namespace

void add_classifier_command(CLI::App& app) {
  // The callbacks run after parsing, long after this function returns: they keep the options.
  auto args = std::make_shared<ClassifierArgs>();
  CLI::App* cmd = app.add_subcommand(
      "classifier",
      "the MNIST classifier that the metrics (classifier score, Frechet distance, "
      "mode coverage) read samples with");
  cmd->require_subcommand(1);

  CLI::App* t = cmd->add_subcommand("train", "train it on MNIST and save it");
  t->add_option("--data", args->data, "MNIST IDX directory (train-* and t10k-* files)")
      ->capture_default_str();
  t->add_option("--out", args->out, "directory to write classifier.safetensors/.json to")
      ->capture_default_str();
  t->add_option("--epochs", args->train.epochs, "passes over the training digits")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  t->add_option("--batch", args->train.batch, "batch size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  t->add_option("--lr", args->train.lr, "Adam learning rate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  t->add_option("--seed", args->train.seed, "seed of the initialisation, order and shifts")
      ->capture_default_str();
  add_device_option(*t, args->device);
  t->callback([args] { train(*args); });

  CLI::App* e = cmd->add_subcommand("eval", "print a saved classifier's held-out accuracy");
  e->add_option("--ckpt", args->ckpt, "directory `classifier train --out` wrote")
      ->capture_default_str();
  e->add_option("--data", args->data, "MNIST IDX directory (the t10k-* files)")
      ->capture_default_str();
  e->add_option("--batch", args->eval_batch, "batch size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_device_option(*e, args->device);
  e->callback([args] { eval(*args); });
}

}  // namespace ge::apps
