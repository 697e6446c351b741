#include "ganengine/models/metrics/evaluate.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/models/classifier.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/metrics/classification_accuracy_score.h"
#include "ganengine/models/metrics/classifier_score.h"
#include "ganengine/models/metrics/frechet_distance.h"
#include "ganengine/models/metrics/mode_coverage.h"
#include "../file_io.h"
#include "classifier_readings.h"
#include "ganengine/ops.h"
#include "ganengine/random.h"

namespace ge::models::metrics {
namespace {

using detail::Readings;
using detail::real_batches;
using nlohmann::json;

constexpr const char* kOp = "evaluate";
constexpr const char* kForms =
    "expected \"mnist:DIR\", \"stacked-mnist:DIR\", \"ring8\" or \"grid25\"";
// The mixture papers (VEEGAN, PacGAN) score 2,500 samples.
constexpr int64_t kMixtureSamples = 2500;
// Ten splits, as the Inception-score code reports its mean and spread, but none smaller than
// this: the score of a split is biased low when its marginal rests on few samples.
constexpr int64_t kScoreSplits = 10;
constexpr int64_t kMinSplitSize = 100;
constexpr int64_t kStackedChannels = 3;
constexpr int64_t kNumClasses = MnistClassifier::kNumClasses;
constexpr int64_t kSide = MnistClassifier::kResolution;

struct DataSpec {
  std::string kind;  // "mnist", "stacked-mnist", "ring8", "grid25"
  std::string dir;
};

std::string dir_after(const std::string& spec, const std::string& prefix) {
  const std::string dir = spec.substr(prefix.size());
  GE_CHECK(!dir.empty(), kOp, ": \"", spec, "\" names no directory after \"", prefix, "\"");
  return dir;
}

DataSpec parse_spec(const std::string& spec) {
  if (spec == "ring8" || spec == "grid25") return {spec, ""};
  if (spec.starts_with("stacked-mnist:"))
    return {"stacked-mnist", dir_after(spec, "stacked-mnist:")};
  if (spec.starts_with("mnist:")) return {"mnist", dir_after(spec, "mnist:")};
  GE_CHECK(!spec.starts_with("images:"), kOp, ": no metric covers image folders (\"", spec, "\"); ",
           kForms);
  std::error_code ec;
  if (!spec.empty() &&
      std::filesystem::exists(std::filesystem::path(spec) / "train-images-idx3-ubyte", ec))
    return {"mnist", spec};
  fail(kOp, ": no metric covers the data \"", spec, "\"; ", kForms);
}

void check_images(const Tensor& x, int64_t channels, const std::string& what) {
  GE_CHECK(x.dim() == 4 && x.size(1) == channels && x.size(2) == kSide && x.size(3) == kSide, kOp,
           ": expected ", what, " [N, ", channels, ", ", kSide, ", ", kSide, "], got ",
           to_string(x.shape()));
}

int64_t score_splits(int64_t n) {
  return std::clamp<int64_t>(n / kMinSplitSize, 1, kScoreSplits);
}

json score_json(const Tensor& probs) {
  const int64_t splits = score_splits(probs.size(0));
  const ScoreStats s = classifier_score(probs, splits);
  return {{"mean", s.mean}, {"std", s.stddev}, {"splits", splits}};
}

void check_image_model(const Gan& gan, int64_t channels, const DataSpec& spec) {
  const GanOptions& o = gan.options();
  GE_CHECK(o.channels == channels && o.resolution == kSide, kOp, ": ", spec.kind,
           " needs a model of ", channels, "-channel ", kSide, "x", kSide,
           " images (the classifier's input), got arch \"", o.arch, "\" with channels ", o.channels,
           " and resolution ", o.resolution);
}

void evaluate_mnist(Gan& gan, const DataSpec& spec, const EvalOptions& options, json& report) {
  check_image_model(gan, 1, spec);
  const Device device = gan.device();
  ClassifierReport trained;
  const std::unique_ptr<MnistClassifier> net =
      load_classifier(options.classifier_dir, device, &trained);
  const int64_t n = options.num_samples;

  Readings fake, test, train;
  generate_samples(gan, n, options, [&](int64_t, const Tensor& x) {
    check_images(x, 1, "generated images");
    fake.add(*net, x);
  });
  const data::ImageFormat format{kSide, 1};
  const auto test_set = data::load_mnist(spec.dir, format, "test");
  real_batches(*test_set, test_set->size(), options.batch, device,
               [&](int64_t, const Tensor& x) { test.add(*net, x); });
  const auto train_set = data::load_mnist(spec.dir, format, "train");
  real_batches(*train_set, std::min(n, train_set->size()), options.batch, device,
               [&](int64_t, const Tensor& x) { train.add(*net, x); });
  GE_CHECK(test.count >= 2 && train.count >= 2, kOp, ": '", spec.dir,
           "' holds too few images for a Frechet distance (", train.count, " training, ",
           test.count, " test; at least 2 each)");

  const Tensor test_features = test.features_tensor();
  const ModeCoverage fake_cover = mode_coverage(fake.labels, kNumClasses);
  const ModeCoverage real_cover = mode_coverage(test.labels, kNumClasses);
  report["classifier_test_accuracy"] = trained.test_accuracy;
  report["classifier_score"] = score_json(fake.probs_tensor());
  report["classifier_score_real"] = score_json(test.probs_tensor());
  report["frechet_distance"] = frechet_distance(fake.features_tensor(), test_features);
  report["frechet_distance_real"] = frechet_distance(train.features_tensor(), test_features);
  report["real_train_samples"] = train.count;
  report["real_test_samples"] = test.count;
  report["class_histogram"] = fake_cover.histogram;
  report["class_histogram_real"] = real_cover.histogram;
  report["kl_to_uniform"] = fake_cover.kl_to_uniform;
  report["kl_to_uniform_real"] = real_cover.kl_to_uniform;
  if (gan.options().num_classes > 0 && options.cas_steps > 0) {
    const CasResult cas =
        classification_accuracy_score(gan, *test_set, n, options.cas_steps, options);
    report["classification_accuracy_score"] = cas.accuracy;
    report["cas_classifier_steps"] = cas.classifier_steps;
  }
}

// Reads the digit in each channel of [N, 3, 32, 32] images into `labels` (sample-major).
void read_stacked(MnistClassifier& net, const Tensor& x, int64_t first,
                  std::vector<int64_t>& labels) {
  for (int64_t c = 0; c < kStackedChannels; ++c) {
    Readings r;
    r.add(net, x.slice(1, c, c + 1).contiguous());
    for (int64_t i = 0; i < r.count; ++i)
      labels[static_cast<size_t>((first + i) * kStackedChannels + c)] =
          r.labels[static_cast<size_t>(i)];
  }
}

void evaluate_stacked(Gan& gan, const DataSpec& spec, const EvalOptions& options, json& report) {
  check_image_model(gan, kStackedChannels, spec);
  const Device device = gan.device();
  ClassifierReport trained;
  const std::unique_ptr<MnistClassifier> net =
      load_classifier(options.classifier_dir, device, &trained);
  const int64_t n = options.num_samples;

  std::vector<int64_t> fake(static_cast<size_t>(n * kStackedChannels));
  generate_samples(gan, n, options, [&](int64_t first, const Tensor& x) {
    check_images(x, kStackedChannels, "generated images");
    read_stacked(*net, x, first, fake);
  });
  const auto stacked = data::make_stacked_mnist(data::load_mnist(spec.dir, {kSide, 1}, "train"), n,
                                                options.seed + 1);
  std::vector<int64_t> real(static_cast<size_t>(stacked->size() * kStackedChannels));
  real_batches(*stacked, stacked->size(), options.batch, device,
               [&](int64_t first, const Tensor& x) {
                 check_images(x, kStackedChannels, "stacked MNIST samples");
                 read_stacked(*net, x, first, real);
               });

  const ModeCoverage fake_cover = stacked_mnist_coverage(fake);
  const ModeCoverage real_cover = stacked_mnist_coverage(real);
  report["classifier_test_accuracy"] = trained.test_accuracy;
  report["modes"] = fake_cover.modes_hit;
  report["num_modes"] = fake_cover.num_modes;
  report["kl_to_uniform"] = fake_cover.kl_to_uniform;
  report["modes_real"] = real_cover.modes_hit;
  report["kl_to_uniform_real"] = real_cover.kl_to_uniform;
}

void evaluate_mixture(Gan& gan, const DataSpec& spec, const EvalOptions& options, json& report) {
  const GanOptions& o = gan.options();
  GE_CHECK(o.channels == 0, kOp, ": ", spec.kind, " needs a model of 2-D points (channels 0), ",
           "got arch \"", o.arch, "\" with channels ", o.channels);
  const data::MixtureSpec mixture = data::gaussian_mixture_spec(spec.kind);
  std::vector<float> points;
  points.reserve(2 * kMixtureSamples);
  generate_samples(gan, kMixtureSamples, options, [&](int64_t, const Tensor& x) {
    GE_CHECK(x.dim() == 2 && x.size(1) == 2, kOp, ": expected generated points [N, 2], got ",
             to_string(x.shape()));
    const std::vector<float> v = x.to_vector();
    points.insert(points.end(), v.begin(), v.end());
  });
  const MixtureQuality fake = mixture_quality(from_vector(points, {kMixtureSamples, 2}), mixture);

  const auto real_set = data::make_gaussian_mixture(spec.kind, kMixtureSamples, options.seed + 1);
  std::vector<float> real_points(2 * kMixtureSamples);
  for (int64_t i = 0; i < kMixtureSamples; ++i)
    real_set->get(i, real_points.data() + 2 * i);
  const MixtureQuality real =
      mixture_quality(from_vector(real_points, {kMixtureSamples, 2}), mixture);

  report["modes_captured"] = fake.modes_captured;
  report["num_modes"] = fake.num_modes;
  report["high_quality_percent"] = 100.0 * fake.high_quality_fraction;
  report["high_quality_per_mode"] = fake.high_quality_per_mode;
  report["modes_captured_real"] = real.modes_captured;
  report["high_quality_percent_real"] = 100.0 * real.high_quality_fraction;
}

}  // namespace

std::string evaluate(Gan& gan, const std::string& data_spec, const EvalOptions& options) {
  const DataSpec spec = parse_spec(data_spec);
  GE_CHECK(options.batch >= 1, kOp, ": expected batch >= 1, got ", options.batch);
  const bool mixture = spec.kind == "ring8" || spec.kind == "grid25";
  // A Frechet distance needs two samples; a classifier score split needs one.
  GE_CHECK(mixture || options.num_samples >= 2, kOp, ": expected num_samples >= 2, got ",
           options.num_samples);
  GE_CHECK(std::isfinite(options.truncation), kOp, ": expected a finite truncation, got ",
           options.truncation);

  json report = json::object();
  report["data"] = spec.kind;
  report["arch"] = gan.options().arch;
  report["samples"] = mixture ? kMixtureSamples : options.num_samples;
  report["seed"] = options.seed;
  report["ema"] = options.ema && gan.generator_ema() != nullptr;
  report["truncation"] = options.truncation;
  if (spec.kind == "mnist")
    evaluate_mnist(gan, spec, options, report);
  else if (spec.kind == "stacked-mnist")
    evaluate_stacked(gan, spec, options, report);
  else
    evaluate_mixture(gan, spec, options, report);
  return report.dump(2);
}

void generate_samples(Gan& gan, int64_t count, const EvalOptions& options,
                      const std::function<void(int64_t first, const Tensor& batch)>& consume) {
  GE_CHECK(count >= 0 && options.batch > 0, kOp, ": expected count >= 0 and batch > 0, got ", count,
           " and ", options.batch);
  NoGradGuard no_grad;
  nn::EvalModeGuard g(&gan.generator()), g_ema(gan.generator_ema());
  const bool ema = options.ema && gan.generator_ema() != nullptr;
  const Device device = gan.device();
  const int64_t classes = gan.options().num_classes;
  Generator generator(options.seed);
  for (int64_t start = 0; start < count; start += options.batch) {
    const int64_t n = std::min(options.batch, count - start);
    const Tensor z = gan.sample_latent(n, generator, device);
    Tensor labels;
    if (classes > 0) {
      std::vector<float> ids(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        ids[static_cast<size_t>(i)] = static_cast<float>((start + i) % classes);
      labels = from_vector(ids, {n}, device);
    }
    consume(start, gan.generate(z, labels, ema, options.truncation).detach());
  }
}

void save_report(const std::string& path, const std::string& report) {
  detail::write_file_atomic("save_report", path, report + "\n");
}

}  // namespace ge::models::metrics
