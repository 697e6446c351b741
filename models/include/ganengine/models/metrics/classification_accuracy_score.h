#pragma once
// Classification Accuracy Score (Ravuri & Vinyals 2019): a classifier trained on a conditional
// GAN's samples alone, scored on real held-out data. It rewards samples that carry their label's
// class and cover its variety; a GAN that draws one good digit per class scores low.
#include <cstdint>
#include <memory>

#include "ganengine/models/data/dataset.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/metrics/evaluate.h"

namespace ge::models::metrics {

// `count` samples of a conditional GAN (generate_samples: labels i % num_classes, latents from
// options.seed), clamped to [-1, 1], labelled, held on the host.
std::shared_ptr<data::Dataset> labelled_samples(Gan& gan, int64_t count,
                                                const EvalOptions& options);

struct CasResult {
  double accuracy = 0.0;  // on `test`, in [0, 1]
  int64_t samples = 0, classifier_steps = 0;
};

// Trains a fresh MnistClassifier (seed options.seed, the default training options but the
// epochs) for at least `classifier_steps` updates on `samples` labelled samples of `gan`, and
// scores it on `test`. Throws ge::Error for an unconditional model or one whose samples are not
// the classifier's [1, 32, 32] digits of 10 classes.
CasResult classification_accuracy_score(Gan& gan, const data::Dataset& test, int64_t samples,
                                        int64_t classifier_steps, const EvalOptions& options);

}  // namespace ge::models::metrics
