#pragma once
// `gan eval`: every metric that applies to a model's data, as one JSON report.
#include <cstdint>
#include <functional>
#include <string>

#include "ganengine/models/gan.h"

namespace ge::models::metrics {

struct EvalOptions {
  int64_t num_samples = 10000;  // generated images; the 2-D mixtures always use 2,500 (the papers')
  int64_t batch = 500;
  uint64_t seed = 0;  // latents (and labels for conditional models)
  bool ema = true;    // sample the G EMA where the model has one
  float truncation = 1.f;
  std::string classifier_dir = "data/classifier";  // needed for image data only
  // Conditional MNIST models: the Classification Accuracy Score's classifier trains this many
  // updates on num_samples samples (0: no score).
  int64_t cas_steps = 1000;
};

// `data_spec` as the trainer's --data: "mnist:DIR" -> classifier score, Frechet distance, class
// histogram and KL to uniform, each with the real-data baseline beside it (real test split vs real
// training split); "stacked-mnist:DIR" -> modes hit of 1,000 and KL to uniform (baseline: real
// stacked samples); "ring8" / "grid25" -> modes captured and % high-quality samples. Conditional
// models draw labels uniformly (i % num_classes); on MNIST they add the Classification Accuracy
// Score (classification_accuracy_score.h) on the test split. Returns the report as a JSON object
// text, pretty-printed; throws ge::Error for data the metrics do not cover ("images:DIR").
std::string evaluate(Gan& gan, const std::string& data_spec, const EvalOptions& options);

// Draws `count` samples of G in batches of options.batch, with the networks in eval mode and no
// autograd: latents from Generator(options.seed) alone, labels of conditional models i % K, the
// EMA per options.ema. Each batch reaches `consume` with the index of its first sample.
void generate_samples(Gan& gan, int64_t count, const EvalOptions& options,
                      const std::function<void(int64_t first, const Tensor& batch)>& consume);

// Writes a report (or any text) to `path` atomically; errors name the path.
void save_report(const std::string& path, const std::string& report);

}  // namespace ge::models::metrics
