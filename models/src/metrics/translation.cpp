#include "ganengine/models/metrics/translation.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "classifier_readings.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/models/classifier.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/metrics/frechet_distance.h"

namespace ge::models::metrics {
namespace {

using detail::Readings;
using detail::real_batches;
using nlohmann::json;

constexpr const char* kOp = "evaluate_translation";
constexpr int64_t kSide = MnistClassifier::kResolution;

enum class Kind { kTypeset, kMnist, kOther };

// A domain's held-out images and how the report names them.
struct HeldOut {
  Kind kind = Kind::kOther;
  std::string spec;
  std::shared_ptr<data::Dataset> set;
};

// "NAME" or "NAME:FONTDIR"; the font directory part (with its colon) goes to `suffix`.
bool typeset_name(const std::string& spec, const std::string& name, std::string& suffix) {
  if (spec != name && !spec.starts_with(name + ":")) return false;
  suffix = spec.substr(name.size());
  return true;
}

bool mnist_dir(const std::string& spec, std::string& dir) {
  if (spec.starts_with("mnist:")) {
    dir = spec.substr(6);
    GE_CHECK(!dir.empty(), kOp, ": \"", spec, "\" names no directory after \"mnist:\"");
    return true;
  }
  std::error_code ec;
  if (spec.empty() ||
      !std::filesystem::exists(std::filesystem::path(spec) / "train-images-idx3-ubyte", ec))
    return false;
  dir = spec;
  return true;
}

HeldOut held_out(const std::string& spec, const data::ImageFormat& format) {
  std::string suffix, dir;
  if (typeset_name(spec, "typeset", suffix) || typeset_name(spec, "typeset-test", suffix)) {
    const std::string test = "typeset-test" + suffix;
    return {Kind::kTypeset, test, data::open_dataset(test, format)};
  }
  if (mnist_dir(spec, dir))
    return {Kind::kMnist, "mnist:" + dir + " (test split)", data::load_mnist(dir, format, "test")};
  const auto set = data::open_dataset(spec, format);
  GE_CHECK(set->sample_shape() == Shape({format.channels, format.resolution, format.resolution}),
           kOp, ": \"", spec, "\" holds samples ", to_string(set->sample_shape()),
           ", not images of the model's format");
  return {Kind::kOther, spec, set};
}

Tensor checked_translation(const Translator& translate, const Tensor& x, bool a2b) {
  const Tensor y = translate(x, a2b);
  GE_CHECK(y.defined() && y.shape() == x.shape(), kOp, ": the ", a2b ? "A->B" : "B->A",
           " translation of ", to_string(x.shape()), " returned ",
           y.defined() ? to_string(y.shape()) : std::string("nothing"));
  return y.detach();
}

double sum_abs_difference(const Tensor& a, const Tensor& b) {
  const std::vector<float> u = a.to_vector(), v = b.to_vector();
  double total = 0;
  for (size_t i = 0; i < u.size(); ++i)
    total += std::abs(static_cast<double>(u[i]) - v[i]);
  return total;
}

// What one pass over a domain's held-out images collects: the round-trip error, and for the
// labelled source of the classifier metrics the readings before and after translation.
struct DomainPass {
  int64_t count = 0;
  double cycle_l1 = 0;
  Readings before, after;
  std::vector<int64_t> labels;
};

DomainPass run_domain(const Translator& translate, const HeldOut& domain, bool a2b,
                      const EvalOptions& options, Device device, MnistClassifier* net) {
  DomainPass pass;
  pass.count = std::min(options.num_samples, domain.set->size());
  double total = 0;
  real_batches(*domain.set, pass.count, options.batch, device, [&](int64_t first, const Tensor& x) {
    const Tensor y = checked_translation(translate, x, a2b);
    total += sum_abs_difference(checked_translation(translate, y, !a2b), x);
    if (net == nullptr) return;
    pass.before.add(*net, x);
    pass.after.add(*net, y);
    for (int64_t i = 0; i < x.size(0); ++i)
      pass.labels.push_back(domain.set->label(first + i));
  });
  pass.cycle_l1 = pass.count == 0
                      ? 0.0
                      : total / (static_cast<double>(pass.count) *
                                 static_cast<double>(numel(domain.set->sample_shape())));
  return pass;
}

double accuracy(const std::vector<int64_t>& predicted, const std::vector<int64_t>& truth) {
  int64_t right = 0;
  for (size_t i = 0; i < truth.size(); ++i)
    right += predicted[i] == truth[i] ? 1 : 0;
  return truth.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(truth.size());
}

// The accuracy among the samples of each true class (0 for a class with none).
std::vector<double> accuracy_per_class(const std::vector<int64_t>& predicted,
                                       const std::vector<int64_t>& truth, int64_t classes) {
  std::vector<int64_t> right(static_cast<size_t>(classes)), total(static_cast<size_t>(classes));
  for (size_t i = 0; i < truth.size(); ++i) {
    const auto c = static_cast<size_t>(truth[i]);
    ++total[c];
    right[c] += predicted[i] == truth[i] ? 1 : 0;
  }
  std::vector<double> out(static_cast<size_t>(classes));
  for (size_t c = 0; c < out.size(); ++c)
    out[c] = total[c] == 0 ? 0.0 : static_cast<double>(right[c]) / static_cast<double>(total[c]);
  return out;
}

// Why the classifier metrics do not apply; empty when they do.
std::string classifier_gap(const HeldOut& a, const HeldOut& b, const data::ImageFormat& format) {
  const bool pair = (a.kind == Kind::kTypeset && b.kind == Kind::kMnist) ||
                    (a.kind == Kind::kMnist && b.kind == Kind::kTypeset);
  if (!pair) return "needs typeset digits as one domain and MNIST as the other";
  if (format.channels != 1 || format.resolution != kSide)
    return "needs 1-channel " + std::to_string(kSide) + "x" + std::to_string(kSide) +
           " images (the classifier's input), the model translates " +
           std::to_string(format.channels) + "-channel " + std::to_string(format.resolution) + "x" +
           std::to_string(format.resolution) + " ones";
  return {};
}

json translation_report(const Translator& translate, const data::ImageFormat& format, Device device,
                        const std::string& data_a, const std::string& data_b,
                        const EvalOptions& options) {
  GE_CHECK(!data_a.empty() && !data_b.empty(), kOp, ": expected the specs of both domains, got \"",
           data_a, "\" (A) and \"", data_b, "\" (B)");
  GE_CHECK(options.batch >= 1, kOp, ": expected batch >= 1, got ", options.batch);
  GE_CHECK(options.num_samples >= 1, kOp, ": expected num_samples >= 1, got ", options.num_samples);
  const HeldOut a = held_out(data_a, format), b = held_out(data_b, format);
  const std::string gap = classifier_gap(a, b, format);
  // The typeset side is labelled; the classifier knows the MNIST side.
  const bool source_is_a = a.kind == Kind::kTypeset;
  const HeldOut& target = source_is_a ? b : a;

  NoGradGuard no_grad;
  ClassifierReport trained;
  std::unique_ptr<MnistClassifier> net;
  if (gap.empty()) {
    GE_CHECK(options.num_samples >= 2, kOp, ": expected num_samples >= 2 for a Frechet distance, ",
             "got ", options.num_samples);
    net = load_classifier(options.classifier_dir, device, &trained);
  }
  const DomainPass pass_a =
      run_domain(translate, a, true, options, device, source_is_a ? net.get() : nullptr);
  const DomainPass pass_b =
      run_domain(translate, b, false, options, device, source_is_a ? nullptr : net.get());

  json report = json::object();
  report["data_a"] = data_a;
  report["data_b"] = data_b;
  report["eval_data_a"] = a.spec;
  report["eval_data_b"] = b.spec;
  report["samples"] = options.num_samples;
  report["cycle_l1_A"] = pass_a.cycle_l1;
  report["cycle_samples_A"] = pass_a.count;
  report["cycle_l1_B"] = pass_b.cycle_l1;
  report["cycle_samples_B"] = pass_b.count;
  if (!gap.empty()) {
    report["classifier_metrics"] = "not computed: " + gap;
    return report;
  }

  const DomainPass& source = source_is_a ? pass_a : pass_b;
  Readings reference;
  real_batches(*target.set, target.set->size(), options.batch, device,
               [&](int64_t, const Tensor& x) { reference.add(*net, x); });
  GE_CHECK(reference.count >= 2 && source.count >= 2, kOp, ": ", target.spec, " and ",
           (source_is_a ? a : b).spec, " hold too few images for a Frechet distance (",
           reference.count, " and ", source.count, "; at least 2 each)");
  const Tensor reference_features = reference.features_tensor();
  report["label_direction"] = source_is_a ? "a2b" : "b2a";
  report["label_samples"] = source.count;
  report["label_preservation"] = accuracy(source.after.labels, source.labels);
  report["label_preservation_baseline"] = accuracy(source.before.labels, source.labels);
  report["label_preservation_per_class"] =
      accuracy_per_class(source.after.labels, source.labels, MnistClassifier::kNumClasses);
  report["label_preservation_per_class_baseline"] =
      accuracy_per_class(source.before.labels, source.labels, MnistClassifier::kNumClasses);
  report["frechet_distance"] = frechet_distance(source.after.features_tensor(), reference_features);
  report["frechet_distance_baseline"] =
      frechet_distance(source.before.features_tensor(), reference_features);
  report["mnist_test_samples"] = reference.count;
  report["classifier_test_accuracy"] = trained.test_accuracy;
  return report;
}

}  // namespace

std::string evaluate_translation(const Translator& translate, const data::ImageFormat& format,
                                 Device device, const std::string& data_a,
                                 const std::string& data_b, const EvalOptions& options) {
  return translation_report(translate, format, device, data_a, data_b, options).dump(2);
}

std::string evaluate_cyclegan(CycleGan& model, const std::string& data_a, const std::string& data_b,
                              const EvalOptions& options) {
  const GanOptions& o = model.options();
  ModelEvalGuard eval_mode(model);
  json report =
      translation_report([&](const Tensor& x, bool a2b) { return model.translate(x, a2b); },
                         {o.resolution, o.channels}, model.device(), data_a, data_b, options);
  report["arch"] = o.arch;
  return report.dump(2);
}

}  // namespace ge::models::metrics
