#include "ganengine/models/metrics/classification_accuracy_score.h"

#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/classifier.h"
#include "ganengine/ops.h"

namespace ge::models::metrics {

std::shared_ptr<data::Dataset> labelled_samples(Gan& gan, int64_t count,
                                                const EvalOptions& options) {
  const int64_t classes = gan.options().num_classes;
  GE_CHECK(classes > 0, "labelled_samples: arch ", gan.options().arch,
           " is unconditional; its samples carry no labels");
  GE_CHECK(count >= 1, "labelled_samples: expected count >= 1, got ", count);
  std::vector<Tensor> parts;
  generate_samples(gan, count, options, [&](int64_t, const Tensor& batch) {
    parts.push_back(clamp(batch, -1.f, 1.f).to(kCPU));
  });
  std::vector<float> labels(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    labels[static_cast<size_t>(i)] = static_cast<float>(i % classes);
  const Tensor images = parts.size() == 1 ? parts[0] : cat(parts, 0);
  return data::make_tensor_dataset(images, from_vector(labels, {count}), classes,
                                   gan.options().arch + " samples");
}

CasResult classification_accuracy_score(Gan& gan, const data::Dataset& test, int64_t samples,
                                        int64_t classifier_steps, const EvalOptions& options) {
  const char* op = "classification_accuracy_score";
  const GanOptions& o = gan.options();
  GE_CHECK(o.num_classes == MnistClassifier::kNumClasses && o.channels == 1 &&
               o.resolution == MnistClassifier::kResolution,
           op, ": expected a conditional model of 10 classes drawing [1, 32, 32] digits, got arch ",
           o.arch, " with ", o.num_classes, " classes and [", o.channels, ", ", o.resolution, ", ",
           o.resolution, "] samples");
  GE_CHECK(classifier_steps >= 1, op, ": expected classifier_steps >= 1, got ", classifier_steps);
  const auto synthetic = labelled_samples(gan, samples, options);
  ClassifierTrainOptions train;
  train.seed = options.seed;
  train.device = gan.device();
  train.epochs = epochs_for_steps(samples, train.batch, classifier_steps);
  Generator init(options.seed);
  MnistClassifier net(init);
  const ClassifierReport report = train_classifier(net, *synthetic, test, train);
  return {report.test_accuracy, samples, classifier_steps};
}

}  // namespace ge::models::metrics
